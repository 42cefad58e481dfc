package main

import (
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
)

// A fault counts as detected only when it names cases and each of them is
// in the catalogue with the status the fault must give it.
func TestJudgeFaultNeedsNamedCasesThatExist(t *testing.T) {
	base := map[string]reporter.Status{"A-01": reporter.Passed, "B-01": reporter.Passed}
	rep := &reporter.Report{Cases: []reporter.Case{{ID: "A-01", Status: reporter.Failed}, {ID: "B-01", Status: reporter.Passed}}}
	for _, tc := range []struct {
		name string
		f    refserver.Fault
		want bool
	}{
		{"names the failing case", refserver.Fault{Targets: []string{"A-01"}}, true},
		{"names nothing", refserver.Fault{}, false},
		{"names a case not in the catalogue", refserver.Fault{Targets: []string{"A-01", "GONE-01"}}, false},
		{"names a case that passed", refserver.Fault{Targets: []string{"B-01"}}, false},
		{"wants a warning, got a failure", refserver.Fault{Warns: []string{"A-01"}}, false},
	} {
		if _, _, _, ok := judgeFault(tc.f, base, rep); ok != tc.want {
			t.Errorf("%s: detected = %v, want %v", tc.name, ok, tc.want)
		}
	}
	// A case that changed without being named is a side effect.
	if _, _, other, _ := judgeFault(refserver.Fault{Targets: []string{"B-01"}}, base, rep); len(other) != 1 {
		t.Errorf("side effects = %v, want A-01 passed→failed", other)
	}
}
