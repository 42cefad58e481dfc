package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/engine"
)

// (f) The launch group (a headless-browser authorization per case) against
// the in-process TLS reference server, at concurrency 1 and 8: wall time.
// One Chromium serves the process; each flow has its own browser context.
func BenchmarkH_LaunchGroup(b *testing.B) {
	if why := engine.ChromiumMissing(""); why != "" {
		b.Skip(why)
	}
	defer engine.CloseBrowsers()
	_, tg := benchServer(b, refserver.Options{})
	o := engine.Options{Target: tg, Version: "bench", LabelFilter: engine.LaunchGroup}
	mustRun(b, o) // warm up: the browser starts
	walls := map[int]time.Duration{}
	var cases int
	for _, c := range []int{1, 8} {
		o.Concurrency = c
		var total time.Duration
		for i := 0; i < b.N; i++ {
			took, n := mustRun(b, o)
			total += took
			cases = n
		}
		walls[c] = total / time.Duration(b.N)
	}
	b.ReportMetric(float64(walls[1].Milliseconds()), "ms/launch-group-c1")
	b.ReportMetric(float64(walls[8].Milliseconds()), "ms/launch-group-c8")
	fmt.Printf("bench (h): launch group (%d cases, one browser authorization each) in-process over TLS: %s at concurrency 1, %s at concurrency 8\n",
		cases, walls[1].Round(time.Millisecond), walls[8].Round(time.Millisecond))
}
