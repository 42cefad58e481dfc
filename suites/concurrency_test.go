package suites_test

import (
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	_ "github.com/smartconform/smartconform/suites" // registers the cases
	"github.com/smartconform/smartconform/suites/engine"
)

// The verdicts of a concurrent run equal those of a serial run, on the
// conformant reference server and on every fault.
func TestConcurrentVerdictsEqualSerialVerdicts(t *testing.T) {
	for _, name := range append([]string{""}, refserver.FaultNames()...) {
		var faults []string
		filter := ""
		if name != "" {
			faults = []string{name}
			// A launch fault's run is its group (the rest equals the
			// conformant run, which is compared in full above).
			if filter = groupsFor(t, refserver.Faults[name]); filter == "" {
				filter = launchGroup
			}
		}
		serial := verdicts(runAgainst(t, engine.Options{Concurrency: 1, LabelFilter: filter}, faults...))
		concurrent := verdicts(runAgainst(t, engine.Options{Concurrency: 8, LabelFilter: filter}, faults...))
		for id, want := range serial {
			if concurrent[id] != want {
				t.Errorf("fault %q: case %s is %s serially, %s at concurrency 8", name, id, want, concurrent[id])
			}
		}
		if len(serial) != len(concurrent) {
			t.Errorf("fault %q: %d cases serially, %d concurrently", name, len(serial), len(concurrent))
		}
	}
}
