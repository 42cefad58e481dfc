package suites_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// runServer runs the suite (cases matching focus, all if none) against a
// reference server started with o, the target built by target (nil: the
// server's own configuration). The server approves authorization requests
// at once and the flows follow its redirects (no browser).
func runServer(t *testing.T, o refserver.Options, target func(*refserver.Server) *config.Target, focus ...string) *reporter.Report {
	t.Helper()
	o.AutoApprove = true
	srv, err := refserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg := config.ForServer("reference", srv.BaseURL, srv.Creds, srv.CACertPEM)
	if target != nil {
		tg = target(srv)
	}
	if err := config.LoginFor(tg, srv); err != nil {
		t.Fatal(err)
	}
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Reference: true, Focus: focus})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func caseOf(rep *reporter.Report, id string) reporter.Case {
	for _, c := range rep.Cases {
		if c.ID == id {
			return c
		}
	}
	return reporter.Case{}
}

// The Basic baseline sends id:secret raw when form-urlencoding changes
// nothing; otherwise raw, then encoded. A server that does not urldecode
// (basic-no-urldecode) must then fail SYM-BASIC-03 alone, even when the
// primary Basic client's credentials hold reserved characters; a
// conformant server, which refuses the raw form of such credentials, passes
// the baseline with the encoded form.
func TestBasicBaselineRawThenEncoded(t *testing.T) {
	base, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	c := base
	c.BasicID, c.BasicSecret = "smartconform basic+main", "m4in+s3cr/t:%=?&~ "+base.BasicSecret[:4] // short: SYM-JWT-01 must still build its HS256 assertion
	basicCases := []string{"SYM-BASIC-01", "SYM-BASIC-02", "SYM-BASIC-03", "SYM-BASIC-04", "SYM-BASIC-05", "SYM-MULTI-01", "SYM-MULTI-02", "SYM-JWT-01"}
	for _, tc := range []struct {
		fault  string
		failed []string
		form   string
	}{
		{"", nil, "form-urlencoded"},
		{refserver.FaultBasicNoURLDecode, []string{"SYM-BASIC-03"}, "raw form"},
	} {
		fs, _ := refserver.ParseFaults([]string{tc.fault})
		rep := runServer(t, refserver.Options{Faults: fs, Credentials: &c}, nil, "SYM-")
		for _, id := range basicCases {
			got := caseOf(rep, id)
			want := reporter.Passed
			if slices.Contains(tc.failed, id) {
				want = reporter.Failed
			}
			if got.Status != want {
				t.Errorf("fault %q: %s is %s, want %s (%s %+v)", tc.fault, id, got.Status, want, got.Reason, got.Findings)
			}
		}
		b1 := caseOf(rep, "SYM-BASIC-01")
		var labels []string
		for _, ex := range b1.Exchanges {
			labels = append(labels, ex.Label)
		}
		if !slices.ContainsFunc(labels, func(l string) bool { return strings.Contains(l, tc.form) }) {
			t.Errorf("fault %q: SYM-BASIC-01 exchanges %v do not show the %s being taken", tc.fault, labels, tc.form)
		}
	}
	// Credentials that encoding does not change are sent raw, once.
	rep := runServer(t, refserver.Options{}, nil, "SYM-BASIC-01")
	b1 := caseOf(rep, "SYM-BASIC-01")
	if b1.Status != reporter.Passed || len(b1.Exchanges) != 1 {
		t.Fatalf("SYM-BASIC-01: %s, %d exchanges", b1.Status, len(b1.Exchanges))
	}
	for _, h := range b1.Exchanges[0].RequestHeaders {
		if h.Name == "Authorization" && !strings.HasPrefix(h.Value, "Basic ") {
			t.Errorf("Authorization %q", h.Value)
		}
	}
}

// With an advertised list holding both algorithms, each positive case runs
// on its own client: the RS384-only one and the ES384-only one.
func TestTwoAlgorithmsOnSeparateClients(t *testing.T) {
	rep := runServer(t, refserver.Options{}, nil, "ASYM-POS-")
	creds, _ := refserver.SharedCredentials()
	for id, client := range map[string]string{"ASYM-POS-01": creds.AsymMore[0].ID, "ASYM-POS-02": creds.AsymMore[1].ID} {
		c := caseOf(rep, id)
		if c.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", id, c.Status, c.Reason, c.Findings)
			continue
		}
		if len(c.Exchanges) != 1 || c.Exchanges[0].Assertion == nil || c.Exchanges[0].Assertion.Claims["iss"] != client {
			t.Errorf("%s did not sign with client %s: %+v", id, client, c.Exchanges)
		}
	}
	// An advertised algorithm that fails still fails.
	fs, _ := refserver.ParseFaults([]string{refserver.FaultRejectES384})
	rep = runServer(t, refserver.Options{Faults: fs}, nil, "ASYM-POS-")
	if c := caseOf(rep, "ASYM-POS-02"); c.Status != reporter.Failed {
		t.Errorf("advertised ES384 refused: ASYM-POS-02 is %s", c.Status)
	}
}

// SMART asks for at least one of RS384 and ES384: a server that advertises
// no list (here: no discovery, the token endpoint configured directly) and
// takes RS384 only passes ASYM-POS-01 and has ASYM-POS-02 skipped; one that
// takes neither fails both.
func TestOneAlgorithmServerWithoutAList(t *testing.T) {
	direct := func(srv *refserver.Server) *config.Target {
		tg := config.ForServer("reference", "", srv.Creds, srv.CACertPEM)
		tg.TokenURL = srv.TokenURL
		return tg
	}
	fs, _ := refserver.ParseFaults([]string{refserver.FaultRejectES384})
	rep := runServer(t, refserver.Options{Faults: fs}, direct, "ASYM-POS-")
	if c := caseOf(rep, "ASYM-POS-01"); c.Status != reporter.Passed {
		t.Errorf("ASYM-POS-01: %s %s", c.Status, c.Reason)
	}
	if c := caseOf(rep, "ASYM-POS-02"); c.Status != reporter.Skipped || !strings.Contains(c.Reason, "at least one of RS384 or ES384") {
		t.Errorf("ASYM-POS-02: %s %q", c.Status, c.Reason)
	}
	if rep.Summary.ExitCode != 0 {
		t.Errorf("exit code %d", rep.Summary.ExitCode)
	}
	fs, _ = refserver.ParseFaults([]string{refserver.FaultRejectES384, refserver.FaultRejectRS384})
	rep = runServer(t, refserver.Options{Faults: fs}, direct, "ASYM-POS-")
	for _, id := range []string{"ASYM-POS-01", "ASYM-POS-02"} {
		if c := caseOf(rep, id); c.Status != reporter.Failed {
			t.Errorf("neither algorithm works: %s is %s", id, c.Status)
		}
	}
}

// A server whose clock runs three minutes ahead or behind (or ten ahead)
// changes no verdict: valid assertions are dated by its Date header, and the report
// says how far off it is. Also with the token endpoint configured directly
// (no discovery: the clock is probed at the token endpoint).
func TestClockSkewChangesNoVerdict(t *testing.T) {
	base := verdicts(runServer(t, refserver.Options{}, nil))
	direct := func(srv *refserver.Server) *config.Target {
		tg := config.ForServer("reference", "", srv.Creds, srv.CACertPEM)
		tg.TokenURL = srv.TokenURL
		return tg
	}
	baseDirect := verdicts(runServer(t, refserver.Options{}, direct))
	for _, off := range []time.Duration{3 * time.Minute, -3 * time.Minute, 10 * time.Minute} {
		for name, run := range map[string]struct {
			target func(*refserver.Server) *config.Target
			want   map[string]reporter.Status
		}{"discovery": {nil, base}, "token endpoint only": {direct, baseDirect}} {
			rep := runServer(t, refserver.Options{ClockOffset: off}, run.target)
			got := verdicts(rep)
			for id, want := range run.want {
				if got[id] != want {
					c := caseOf(rep, id)
					t.Errorf("clock %v, %s: %s is %s, want %s (%s %+v)", off, name, id, got[id], want, c.Reason, c.Findings)
				}
			}
			dir, secs := "ahead of", int(off.Seconds())
			if off < 0 {
				dir, secs = "behind", -secs
			}
			if !slices.ContainsFunc(rep.Notes, func(n string) bool {
				for _, s := range []int{secs - 1, secs, secs + 1} {
					if strings.Contains(n, fmt.Sprintf("The server's clock is %d s %s", s, dir)) {
						return true
					}
				}
				return false
			}) {
				t.Errorf("clock %v, %s: no note on the skew in %q", off, name, rep.Notes)
			}
		}
	}
	// A server with a right clock gets no note.
	rep := runServer(t, refserver.Options{}, nil, "ASYM-POS-01")
	for _, n := range rep.Notes {
		if strings.Contains(n, "clock") {
			t.Errorf("note for a right clock: %q", n)
		}
	}
}

// A server that refuses Basic altogether but takes Basic and an assertion
// together (using the assertion) is caught by SYM-MULTI-02, which no longer
// needs the Basic baseline.
func TestMultiAuthJudgedWithoutBasicBaseline(t *testing.T) {
	fs, _ := refserver.ParseFaults([]string{refserver.FaultRejectBasic, refserver.FaultAssertionWinsOverBasic})
	rep := runServer(t, refserver.Options{Faults: fs}, nil, "SYM-MULTI-02", "SYM-BASIC-02")
	if c := caseOf(rep, "SYM-MULTI-02"); c.Status != reporter.Failed {
		t.Errorf("SYM-MULTI-02: %s %s", c.Status, c.Reason)
	}
	if c := caseOf(rep, "SYM-BASIC-02"); c.Status != reporter.NotRun {
		t.Errorf("SYM-BASIC-02: %s", c.Status)
	}
}
