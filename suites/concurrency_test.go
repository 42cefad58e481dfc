package suites_test

import (
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	_ "github.com/smartconform/smartconform/suites" // registers the cases
	"github.com/smartconform/smartconform/suites/engine"
)

// The verdicts of a concurrent run equal those of a serial run, on the
// conformant reference server and on every fault. The JWKS-URL cases are
// left out: they hold the harness's key set listener one at a time whatever
// the concurrency, and mostly wait for a set to go stale. The servers are
// judged several at a time, approving at once (the flows need no browser).
func TestConcurrentVerdictsEqualSerialVerdicts(t *testing.T) {
	names := append([]string{""}, refserver.FaultNames()...)
	serial := runBatch(t, engine.Options{Concurrency: 1, LabelFilter: "!area:jwks-url"}, names)
	concurrent := runBatch(t, engine.Options{Concurrency: 8, LabelFilter: "!area:jwks-url"}, names)
	for _, name := range names {
		for id, want := range serial[name] {
			if concurrent[name][id] != want {
				t.Errorf("fault %q: case %s is %s serially, %s at concurrency 8", name, id, want, concurrent[name][id])
			}
		}
		if len(serial[name]) != len(concurrent[name]) {
			t.Errorf("fault %q: %d cases serially, %d concurrently", name, len(serial[name]), len(concurrent[name]))
		}
	}
}
