package main

// Benchmarks of issue 6, run by `make bench` (go test -bench, one iteration
// each). Each prints its figure as a benchmark metric and as a line
// "bench (x): ..." with the goal beside it. Timing is never asserted in
// tests: these are measurements.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

func benchServer(b *testing.B, o refserver.Options) (*refserver.Server, *config.Target) {
	b.Helper()
	o.TLS = true
	srv, err := refserver.Start(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv, benchTarget(b, "bench", srv)
}

// benchTarget configures srv as target; the flows of a server started with
// AutoApprove follow its redirects (no browser: (h) measures the browser).
func benchTarget(b *testing.B, name string, srv *refserver.Server) *config.Target {
	b.Helper()
	tg := config.ForServer(name, srv.BaseURL, srv.Creds, srv.CACertPEM)
	if err := config.LoginFor(tg, srv); err != nil {
		b.Fatal(err)
	}
	return tg
}

func mustRun(b *testing.B, o engine.Options) (time.Duration, int) {
	b.Helper()
	start := time.Now()
	rep, err := engine.Run(o)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	if rep.Summary.ExitCode != 0 {
		b.Fatalf("the conformant reference server did not pass: %+v", rep.Summary)
	}
	return took, rep.Summary.Total
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// (a) The full catalogue against the in-process reference server: wall time
// (process start excluded); and the harness's own CPU per case, measured
// with the reference server in a child process so its CPU is not counted.
func BenchmarkA_FullCatalogueInProcess(b *testing.B) {
	_, tg := benchServer(b, refserver.Options{AutoApprove: true})
	mustRun(b, engine.Options{Target: tg, Version: "bench"}) // warm up: key caches, connections
	var total time.Duration
	var cases int
	for i := 0; i < b.N; i++ {
		took, n := mustRun(b, engine.Options{Target: tg, Version: "bench"})
		total += took
		cases = n
	}
	wall := total / time.Duration(b.N)

	cfg := serveChild(b, "--tls", "--auto-approve")
	ctg, err := config.Load(cfg)
	if err != nil {
		b.Fatal(err)
	}
	mustRun(b, engine.Options{Target: ctg, Version: "bench"})
	c0 := cpuTime()
	_, n := mustRun(b, engine.Options{Target: ctg, Version: "bench"})
	cpuPerCase := (cpuTime() - c0) / time.Duration(n)

	b.ReportMetric(float64(wall.Microseconds())/1000, "ms/catalogue")
	b.ReportMetric(float64(cpuPerCase.Microseconds())/1000, "cpu-ms/case")
	fmt.Printf("bench (a): full catalogue (%d cases) in-process: %s wall (goal < 1s); harness CPU %.2f ms per case\n", cases, wall.Round(time.Millisecond), float64(cpuPerCase.Microseconds())/1000)
}

// serveChild starts `smartconform serve` in a child process and returns the
// configuration it wrote.
func serveChild(b *testing.B, args ...string) string {
	b.Helper()
	cfg := filepath.Join(b.TempDir(), "serve.yaml")
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--write-config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Serving") {
			go func() {
				for sc.Scan() {
				}
			}()
			return cfg
		}
	}
	b.Fatal("serve did not start")
	return ""
}

// (b) Against a reference server answering after 100 ms, as a remote
// sandbox would: concurrency 1 versus 8.
func BenchmarkB_LatencySpeedup(b *testing.B) {
	_, tg := benchServer(b, refserver.Options{Latency: 100 * time.Millisecond, AutoApprove: true})
	for i := 0; i < b.N; i++ {
		serial, n := mustRun(b, engine.Options{Target: tg, Version: "bench", Concurrency: 1})
		parallel, _ := mustRun(b, engine.Options{Target: tg, Version: "bench", Concurrency: 8})
		speedup := float64(serial) / float64(parallel)
		b.ReportMetric(serial.Seconds(), "s-concurrency-1")
		b.ReportMetric(parallel.Seconds(), "s-concurrency-8")
		b.ReportMetric(speedup, "speedup")
		fmt.Printf("bench (b): %d cases at 100 ms latency: %s at concurrency 1, %s at 8: speed-up %.1fx (goal >= 6x)\n", n, serial.Round(time.Millisecond), parallel.Round(time.Millisecond), speedup)
	}
}

// (c) Harness overhead: the run (concurrency 1) versus a plain Go loop
// sending the very requests the server received, one after another, to a
// fresh server with the same latency.
func BenchmarkC_OverheadVersusPlainLoop(b *testing.B) {
	for _, latency := range []time.Duration{0, 10 * time.Millisecond} {
		capture := &refserver.Capture{}
		_, tg := benchServer(b, refserver.Options{Capture: capture, Latency: latency, AutoApprove: true})
		harness, _ := mustRun(b, engine.Options{Target: tg, Version: "bench", Concurrency: 1})
		reqs := capture.Requests()

		srv, _ := benchServer(b, refserver.Options{Latency: latency, AutoApprove: true})
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(srv.CACertPEM)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		start := time.Now()
		for _, r := range reqs {
			req, err := http.NewRequest(r.Method, srv.URL+r.Path, bytes.NewReader(r.Body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header = r.Header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = bytes.NewBuffer(nil).ReadFrom(resp.Body)
			resp.Body.Close()
		}
		plain := time.Since(start)
		ratio := float64(harness) / float64(plain)
		b.ReportMetric(ratio, fmt.Sprintf("ratio-at-%dms", latency.Milliseconds()))
		fmt.Printf("bench (c): %d requests at %s latency: harness %s, plain loop %s: overhead %.2fx (goal <= 1.25x)\n", len(reqs), latency, harness.Round(time.Millisecond), plain.Round(time.Millisecond), ratio)
	}
}

// (d) Peak RSS of a whole `smartconform run` (embedded server included),
// without the browser (--no-browser) and with it. The rusage of a child
// covers the children it reaped, so with the browser the figure is the
// larger of smartconform's and Chromium's.
func BenchmarkD_PeakRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, mode := range []string{"--no-browser", ""} {
			args := []string{"run", "--out", b.TempDir()}
			name := "harness and embedded server (--no-browser)"
			if mode != "" {
				args = append(args, mode)
			} else {
				name = "with the browser flows (the larger of smartconform and Chromium)"
			}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			kib := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
			if mode != "" {
				b.ReportMetric(float64(kib)/1024, "MB-peak-RSS")
			}
			fmt.Printf("bench (d): peak RSS of smartconform run, %s: %.1f MB (goal < 100 MB)\n", name, float64(kib)/1024)
		}
	}
}

// (e) 100 tenants, each a reference server answering after 100 ms, judged
// in one run.
func BenchmarkE_HundredTenants(b *testing.B) {
	creds, err := refserver.SharedCredentials()
	if err != nil {
		b.Fatal(err)
	}
	var targets []*config.Target
	for i := 0; i < 100; i++ {
		srv, err := refserver.Start(refserver.Options{Latency: 100 * time.Millisecond, Credentials: &creds, AutoApprove: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.Close)
		targets = append(targets, benchTarget(b, fmt.Sprintf("tenant-%03d", i), srv))
	}
	for i := 0; i < b.N; i++ {
		start := time.Now()
		reps, err := engine.RunTargets(targets, engine.Options{Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		cases := 0
		for _, r := range reps {
			cases += r.Summary.Total
			if r.Summary.Failed+r.Summary.Errors > 0 {
				b.Fatalf("%s: %+v", r.Target.Name, r.Summary)
			}
		}
		b.ReportMetric(took.Seconds(), "s-100-tenants")
		fmt.Printf("bench (e): 100 tenants x full catalogue (%d cases) at 100 ms latency: %s (goal < 60s)\n", cases, took.Round(time.Millisecond))
	}
}

// (f) The JWKS-URL group (issue 11) against the in-process reference
// server fetching the key set from the harness's own listener, rotation and
// cache expiry included: wall time (goal < 30 s; measured, never asserted).
func BenchmarkI_JWKSURLGroup(b *testing.B) {
	var total time.Duration
	var cases int
	for i := 0; i < b.N; i++ {
		srv, err := refserver.Start(refserver.Options{TLS: true})
		if err != nil {
			b.Fatal(err)
		}
		tg, err := config.ForReference("bench", srv)
		if err != nil {
			b.Fatal(err)
		}
		took, n := mustRun(b, engine.Options{Target: tg, Version: "bench", LabelFilter: "area:jwks-url"})
		srv.Close()
		total += took
		cases = n
	}
	wall := total / time.Duration(b.N)
	b.ReportMetric(wall.Seconds(), "s/group")
	fmt.Printf("bench (i): JWKS-URL group (%d cases) against the reference server: %s wall (goal < 30s)\n", cases, wall.Round(time.Millisecond))
}
