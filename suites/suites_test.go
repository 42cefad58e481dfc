package suites_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	_ "github.com/smartconform/smartconform/suites" // registers the cases
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// runAgainst runs the suite against a reference server that approves
// authorization requests at once: the launch flows follow its redirects
// over HTTP, without a browser (the tests of the browser driver use runOn).
func runAgainst(t *testing.T, o engine.Options, faults ...string) *reporter.Report {
	t.Helper()
	return runOn(t, o, refserver.Options{AutoApprove: true}, faults...)
}

// runOn runs the suite against a reference server started with so (TLS,
// AutoApprove) and faults; without AutoApprove the flows drive its login
// and consent pages in the headless browser.
func runOn(t *testing.T, o engine.Options, so refserver.Options, faults ...string) *reporter.Report {
	t.Helper()
	fs, err := refserver.ParseFaults(faults)
	if err != nil {
		t.Fatal(err)
	}
	so.Faults = fs
	srv, err := refserver.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if o.Target == nil {
		if o.Target, err = config.ForReference("reference", srv); err != nil {
			t.Fatal(err)
		}
	}
	o.Version, o.Reference, o.Faults = "test", true, faults
	rep, err := engine.Run(o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// tlsOnly are the cases skipped for a plain-HTTP loopback target.
var tlsOnly = []string{"TLS-01", "TLS-02", "DISC-TLS-01"}

func verdicts(rep *reporter.Report) map[string]reporter.Status {
	m := map[string]reporter.Status{}
	for _, c := range rep.Cases {
		m[c.ID] = c.Status
	}
	return m
}

func TestCatalogueIsValid(t *testing.T) {
	cat, err := engine.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat) < 60 {
		t.Fatalf("catalogue has %d cases", len(cat))
	}
}

// The conformant reference server passes every case, its login and consent
// pages driven in the headless browser (over TLS), and approving at once
// (plain HTTP).
func TestConformantReferenceServerPassesEveryCase(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		if !useTLS {
			needChromium(t)
		}
		rep := runOn(t, engine.Options{}, refserver.Options{TLS: useTLS, AutoApprove: !useTLS})
		for _, c := range rep.Cases {
			want := reporter.Passed
			if !useTLS && slices.Contains(tlsOnly, c.ID) {
				want = reporter.Skipped
			}
			if c.Status != want {
				t.Errorf("TLS %v: %s: %s (want %s) %s %+v", useTLS, c.ID, c.Status, want, c.Reason, c.Findings)
			}
		}
		if rep.Summary.ExitCode != 0 || rep.Summary.Total != len(rep.Cases) {
			t.Errorf("TLS %v: summary %+v", useTLS, rep.Summary)
		}
	}
}

// runMany runs the whole suite against one fresh reference server per
// fault (over TLS where the fault needs it), several at once: the JWKS-URL
// cases mostly wait for a key set to go stale, so servers are judged side
// by side. The servers approve at once (no browser), so every fault is
// judged on every case, the launch group included.
func runMany(t *testing.T, strict bool, filter string, names []string) map[string]map[string]reporter.Status {
	t.Helper()
	return runBatch(t, engine.Options{Strict: strict, LabelFilter: filter}, names)
}

// runBatch is runMany with the run's options (a fault name "" is the
// conformant server).
func runBatch(t *testing.T, o engine.Options, names []string) map[string]map[string]reporter.Status {
	t.Helper()
	var targets []*config.Target
	for _, name := range names {
		var list []string
		if name != "" {
			list = []string{name}
		}
		fs, err := refserver.ParseFaults(list)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := refserver.Start(refserver.Options{Faults: fs, TLS: refserver.Faults[name].TLS, AutoApprove: true})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		tg, err := config.ForReference("reference "+name, srv)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	o.Version, o.Reference = "test", true
	if o.ParallelTargets == 0 {
		o.ParallelTargets = 16
	}
	reps, err := engine.RunTargets(targets, o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]reporter.Status{}
	for i, name := range names {
		out[name] = verdicts(reps[i])
	}
	return out
}

// Every fault makes exactly its target cases fail, and every other case keeps
// the verdict it has against the conformant server: each negative case is
// shown to fail against a broken server, and none fails by accident. A TLS
// fault is run, with its baseline, against a TLS reference server.
func TestEachFaultFailsExactlyItsTargets(t *testing.T) {
	bases := map[bool]map[string]reporter.Status{
		false: verdicts(runOn(t, engine.Options{}, refserver.Options{AutoApprove: true})),
		true:  verdicts(runOn(t, engine.Options{}, refserver.Options{TLS: true, AutoApprove: true})),
	}
	names := refserver.FaultNames()
	all := runMany(t, false, "", names)
	// Under --strict only the warned cases are judged again.
	var warning, warned []string
	for _, name := range names {
		if w := refserver.Faults[name].Warns; len(w) > 0 {
			warning = append(warning, name)
			for _, id := range w {
				if !slices.Contains(warned, id) {
					warned = append(warned, id)
				}
			}
		}
	}
	strictAll := runMany(t, true, strings.Join(warned, " || "), warning)
	for _, name := range names {
		f := refserver.Faults[name]
		t.Run(name, func(t *testing.T) {
			base := bases[f.TLS]
			got := all[name]
			for id, want := range base {
				if _, ran := got[id]; !ran {
					t.Errorf("%s: case %s did not run", name, id)
					continue
				}
				switch {
				case slices.Contains(f.Targets, id):
					want = reporter.Failed
				case slices.Contains(f.NotRun, id):
					want = reporter.NotRun
					if got[id] == reporter.Skipped {
						want = reporter.Skipped // not judged either way: nothing left to judge
					}
				case slices.Contains(f.Warns, id):
					want = reporter.Warned
				}
				if got[id] != want {
					t.Errorf("%s: case %s is %s, want %s", name, id, got[id], want)
				}
			}
			for _, id := range f.Warns {
				if strictAll[name][id] != reporter.Failed {
					t.Errorf("%s under --strict: case %s is %s, want failed", name, id, strictAll[name][id])
				}
			}
		})
	}
}

// Every negative case is the target of at least one fault.
func TestEveryNegativeCaseHasAFault(t *testing.T) {
	cat, err := engine.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	targeted := map[string]bool{}
	for _, f := range refserver.Faults {
		for _, id := range append(f.Targets, f.Warns...) {
			targeted[id] = true
		}
	}
	for _, m := range cat {
		if !targeted[m.ID] {
			t.Errorf("case %s is proven against no fault of the reference server", m.ID)
		}
	}
	ids := map[string]bool{}
	for _, m := range cat {
		ids[m.ID] = true
	}
	for id := range targeted {
		if !ids[id] {
			t.Errorf("a fault targets %s, which is not in the catalogue", id)
		}
	}
}

func TestLabelFilterSelectsCases(t *testing.T) {
	rep := runAgainst(t, engine.Options{LabelFilter: "method:private_key_jwt && negative"})
	for _, c := range rep.Cases {
		if c.Method != engine.PrivateKeyJWT || c.Polarity != "negative" {
			t.Errorf("unexpected case %s", c.ID)
		}
	}
	if len(rep.Cases) < 8 {
		t.Errorf("selected %d cases", len(rep.Cases))
	}
}

func TestNegativesAreNotRunWhenTheBaselineFails(t *testing.T) {
	// A server that refuses every Basic request would pass the Basic
	// negative case; it must be reported as not run instead.
	rep := runAgainst(t, engine.Options{}, refserver.FaultRejectBasic)
	v := verdicts(rep)
	if v["SYM-BASIC-01"] != reporter.Failed || v["SYM-BASIC-02"] != reporter.NotRun {
		t.Errorf("got %v", v)
	}
	for _, c := range rep.Cases {
		if c.ID == "SYM-BASIC-02" && !strings.Contains(c.Reason, "SYM-BASIC-01") {
			t.Errorf("reason does not name the baseline case: %q", c.Reason)
		}
	}
}

// Every row of an AssertionCases table names the reference-server fault that
// proves it, and that fault lists the case among those it must fail (or warn).
func TestTableRowsNameTheirFault(t *testing.T) {
	if _, err := engine.Catalogue(); err != nil {
		t.Fatal(err)
	}
	rows := engine.ProvenBy()
	if len(rows) == 0 {
		t.Fatal("no AssertionCases rows registered")
	}
	for id, name := range rows {
		f, ok := refserver.Faults[name]
		if !ok {
			t.Errorf("%s names fault %q, which the reference server does not have", id, name)
			continue
		}
		if !slices.Contains(f.Targets, id) && !slices.Contains(f.Warns, id) {
			t.Errorf("%s names fault %q, which does not list it (targets %v, warns %v)", id, name, f.Targets, f.Warns)
		}
	}
}
