package reporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWaiversShowWaivedFailuresAndExpireIntoFailures(t *testing.T) {
	r := &Report{Cases: []Case{{ID: "A-1", Status: Failed}, {ID: "B-1", Status: Failed}, {ID: "C-1", Status: Passed}}}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	r.ApplyWaivers([]Waiver{
		{ID: "A-1", Reason: "vendor ticket 1", Expires: "2026-11-22"}, // last day: still valid
		{ID: "B-1", Reason: "vendor ticket 2", Expires: "2026-11-21"}, // expired yesterday
		{ID: "C-1", Reason: "not needed", Expires: "2027-01-01"},
		{ID: "Z-9", Reason: "stale", Expires: "2027-01-01"},
	}, now)
	r.Summarize()
	if r.Cases[0].Status != Waived || r.Cases[0].Waiver == nil || r.Cases[0].Waiver.Reason != "vendor ticket 1" {
		t.Errorf("A-1: %+v", r.Cases[0])
	}
	if r.Cases[1].Status != Failed || r.Cases[1].Waiver == nil || !r.Cases[1].Waiver.Expired {
		t.Errorf("B-1: %+v", r.Cases[1])
	}
	if r.Summary.ExitCode != 1 || r.Summary.Waived != 1 || r.Summary.Failed != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"B-1 expired", "C-1 is not needed", "Z-9 matches no case"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// With only the valid waiver, the run passes.
	r2 := &Report{Cases: []Case{{ID: "A-1", Status: Failed}, {ID: "C-1", Status: Passed}}}
	r2.ApplyWaivers([]Waiver{{ID: "A-1", Reason: "r", Expires: "2026-12-31"}}, now)
	r2.Summarize()
	if r2.Summary.ExitCode != 0 {
		t.Errorf("a waived failure fails the run: %+v", r2.Summary)
	}
}

func TestFailOn(t *testing.T) {
	for _, tc := range []struct {
		failOn string
		st     Status
		want   int
	}{{"must", Warned, 0}, {"should", Warned, 1}, {"never", Failed, 0}, {"never", Errored, 3}, {"must", Failed, 1}} {
		r := &Report{Run: RunInfo{FailOn: tc.failOn}, Cases: []Case{{ID: "A-1", Status: tc.st}}}
		r.Summarize()
		if r.Summary.ExitCode != tc.want {
			t.Errorf("fail-on %s with a %s case: exit %d, want %d", tc.failOn, tc.st, r.Summary.ExitCode, tc.want)
		}
	}
}

func TestLoadWaiversRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"waivers:\n  - id: A-1\n    reason: r\n    expires: 2026-12-31\n":             "",
		"waivers:\n  - id: A-1\n    expires: 2026-12-31\n":                            "reason is required",
		"waivers:\n  - id: A-1\n    reason: r\n    expires: next week\n":              "expires must be a date",
		"waivers:\n  - id: A-1\n    reason: r\n    expires: 2026-12-31\n    by: me\n": "by",
	} {
		p := filepath.Join(dir, "w.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		_, err := LoadWaivers(p)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}

func TestAllSkippedIsIncompleteNotGreen(t *testing.T) {
	r := &Report{Cases: []Case{{ID: "A-1", Status: Skipped}, {ID: "B-1", Status: NotRun}}}
	r.Summarize()
	if r.Summary.ExitCode != 3 || r.Summary.Verdict != "incomplete" {
		t.Errorf("a run that judged nothing: %+v", r.Summary)
	}
	r = &Report{Cases: []Case{{ID: "A-1", Status: Skipped}, {ID: "B-1", Status: Passed}}}
	r.Summarize()
	if r.Summary.ExitCode != 0 {
		t.Errorf("skips beside a pass: %+v", r.Summary)
	}
}
