package suites_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/engine"
)

func caseByID(t *testing.T, rep *reporter.Report, id string) reporter.Case {
	t.Helper()
	for _, c := range rep.Cases {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("case %s is not in the report", id)
	return reporter.Case{}
}

func failedIDs(rep *reporter.Report) []string {
	var out []string
	for _, c := range rep.Cases {
		if c.Status == reporter.Failed {
			out = append(out, c.ID)
		}
	}
	return out
}

func metaOf(t *testing.T, id string) engine.Meta {
	t.Helper()
	cat, err := engine.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cat {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no case %s", id)
	return engine.Meta{}
}

// One defect, one failure: a server whose every error_description holds a
// '"', and one whose 401s carry no WWW-Authenticate, each fail exactly one
// case, the sweep of that rule, which names the cases whose exchanges broke
// it; nothing else fails, warns or changes.
func TestOneDefectFailsOneCase(t *testing.T) {
	for _, tc := range []struct {
		fault, sweep string
		named        []string // cases the sweep must name as senders
	}{
		{refserver.FaultQuoteInErrorDescription, "ERR-CHARS-01", []string{"TEP-GT-02", "TEP-DUP-01", "ASYM-REQ-04", "SCOPE-SYN-01"}},
		{refserver.FaultSkipWWWAuthenticate, "ERR-CHAL-01", []string{"SYM-BASIC-02", "SYM-BASIC-04"}},
	} {
		rep := runAgainst(t, engine.Options{}, tc.fault)
		if got := failedIDs(rep); !slices.Equal(got, []string{tc.sweep}) {
			t.Errorf("%s: failed cases %v, want exactly [%s]", tc.fault, got, tc.sweep)
		}
		if rep.Summary.Warned != 0 {
			t.Errorf("%s: %d cases warned, want none", tc.fault, rep.Summary.Warned)
		}
		c := caseByID(t, rep, tc.sweep)
		var text strings.Builder
		for _, f := range c.Findings {
			text.WriteString(f.Check + " " + f.Actual + "\n")
		}
		for _, id := range tc.named {
			if !strings.Contains(text.String(), id) {
				t.Errorf("%s: %s does not name %s among the offending exchanges:\n%s", tc.fault, tc.sweep, id, text.String())
			}
		}
		if len(c.Exchanges) == 0 || len(c.Exchanges) > engine.MaxSweepEvidence {
			t.Errorf("%s: %s lists %d exchanges as evidence", tc.fault, tc.sweep, len(c.Exchanges))
		}
		if c.Hint != metaOf(t, tc.sweep).Hint {
			t.Errorf("%s: hint %q", tc.fault, c.Hint)
		}
	}
}

// A sweep runs after every other case of the target, so what it finds is
// the same at any concurrency, in the same order.
func TestSweepFindingsDoNotDependOnConcurrency(t *testing.T) {
	findings := func(conc int) []reporter.Finding {
		rep := runAgainst(t, engine.Options{Concurrency: conc}, refserver.FaultSkipWWWAuthenticate)
		return caseByID(t, rep, "ERR-CHAL-01").Findings
	}
	serial, parallel := findings(1), findings(8)
	if len(serial) == 0 || !slices.Equal(serial, parallel) {
		t.Errorf("serial findings %v\nconcurrent findings %v", serial, parallel)
	}
}

// The baseline requests count among the run's exchanges: a sweep sees them
// even when no case of that method but the negative ones runs.
func TestSweepSeesBaselineRequests(t *testing.T) {
	rep := runAgainst(t, engine.Options{Focus: []string{"SYM-BASIC-02", "TRESP-02"}}, refserver.FaultOmitCacheHeaders)
	c := caseByID(t, rep, "TRESP-02")
	if c.Status != reporter.Failed {
		t.Fatalf("TRESP-02 is %s (%s), want failed on the baseline's token response", c.Status, c.Reason)
	}
	if !strings.Contains(c.Findings[0].Check, "SYM-BASIC-01 (baseline") {
		t.Errorf("the finding does not name the baseline request: %q", c.Findings[0].Check)
	}
}

// With no relevant exchange in the run, a sweep is skipped, never passed.
func TestSweepWithoutExchangesIsSkipped(t *testing.T) {
	rep := runAgainst(t, engine.Options{LabelFilter: "ERR-CHAL-01 || ERR-CACHE-01"})
	for _, c := range rep.Cases {
		if c.Status != reporter.Skipped || !strings.Contains(c.Reason, "no exchange of this run") {
			t.Errorf("%s: %s (%s), want skipped for want of exchanges", c.ID, c.Status, c.Reason)
		}
	}
	if len(rep.Cases) != 2 {
		t.Errorf("%d cases", len(rep.Cases))
	}
}

// The hint says what the server did: an expired assertion answered with a
// 500 gets the server-error hint, not "the server ignores exp", which is
// the hint when the assertion is accepted.
func TestHintFollowsWhatTheServerDid(t *testing.T) {
	own := metaOf(t, "ASYM-EXP-01").Hint
	crashed := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultServerErrorOnExpired), "ASYM-EXP-01")
	if crashed.Status != reporter.Failed || crashed.Hint == own || !strings.Contains(crashed.Hint, "answered 500") {
		t.Errorf("5xx: %s, hint %q", crashed.Status, crashed.Hint)
	}
	accepted := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultAcceptExpired), "ASYM-EXP-01")
	if accepted.Status != reporter.Failed || accepted.Hint != own {
		t.Errorf("accepted: %s, hint %q, want %q", accepted.Status, accepted.Hint, own)
	}
	// A refusal with the wrong status gets the status hint; a case may
	// override it (SYM-BASIC-04 does).
	wrong := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultUnknownBasicClient400), "SYM-BASIC-04")
	if want := metaOf(t, "SYM-BASIC-04").Hints[engine.BehaviourStatus]; wrong.Status != reporter.Failed || wrong.Hint != want {
		t.Errorf("wrong status: %s, hint %q, want %q", wrong.Status, wrong.Hint, want)
	}
	// A case whose requirement is "no 500" overrides the 5xx hint.
	req := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultErrorOnMissingAssertion), "ASYM-REQ-03")
	if want := metaOf(t, "ASYM-REQ-03").Hints[engine.BehaviourServerError]; req.Hint != want {
		t.Errorf("ASYM-REQ-03 hint %q, want %q", req.Hint, want)
	}
	// A non-JSON refusal gets the format hint, not "does not compare aud".
	aud := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultErrorNotJSON), "ASYM-AUD-01")
	if aud.Hint == metaOf(t, "ASYM-AUD-01").Hint || !strings.Contains(aud.Hint, "not an RFC 6749 §5.2 error") {
		t.Errorf("non-JSON refusal: hint %q", aud.Hint)
	}
}

// Under --profile oauth, ASYM-KID-02 is a SHOULD in every report and label,
// level:must does not select it, and a server that accepts an assertion
// without kid gets a warning, not a failure. A case not applicable under
// the profile is skipped with that reason.
func TestProfileDecidesLevelsEverywhere(t *testing.T) {
	oauth := engine.Options{Profile: engine.ProfileOAuth}
	rep := runAgainst(t, oauth, refserver.FaultAcceptMissingKID)
	kid := caseByID(t, rep, "ASYM-KID-02")
	if kid.Level != "SHOULD" || kid.Status != reporter.Warned || !slices.Contains(kid.Labels, "level:should") || slices.Contains(kid.Labels, "level:must") {
		t.Errorf("oauth: ASYM-KID-02 level %s, status %s, labels %v", kid.Level, kid.Status, kid.Labels)
	}
	scope := caseByID(t, rep, "TRESP-05")
	if scope.Status != reporter.Skipped || !strings.Contains(scope.Reason, "not applicable under the oauth profile") || !slices.Contains(scope.Labels, "level:na") {
		t.Errorf("oauth: TRESP-05 %s (%s), labels %v", scope.Status, scope.Reason, scope.Labels)
	}
	var junit, html, js bytes.Buffer
	if err := reporter.WriteJUnit(&junit, rep); err != nil {
		t.Fatal(err)
	}
	if err := reporter.WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	if err := reporter.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), "ASYM-KID-02 (SHOULD)") || strings.Contains(junit.String(), "ASYM-KID-02 (MUST)") {
		t.Error("JUnit does not show ASYM-KID-02 as SHOULD")
	}
	if !strings.Contains(html.String(), `id="ASYM-KID-02" data-status="warned" data-level="SHOULD"`) {
		t.Error("HTML does not show ASYM-KID-02 as SHOULD")
	}
	var parsed struct {
		Cases []struct{ ID, Level string }
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	for _, c := range parsed.Cases {
		if c.ID == "ASYM-KID-02" && c.Level != "SHOULD" {
			t.Errorf("JSON level %s", c.Level)
		}
	}

	must := func(profile string) []string {
		sel, err := engine.Select(engine.Options{Profile: profile, LabelFilter: "level:must"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range sel {
			ids = append(ids, m.ID)
			if m.Level != engine.MUST {
				t.Errorf("%s: level:must selected %s at %s", profile, m.ID, m.Level)
			}
		}
		return ids
	}
	if ids := must(engine.ProfileOAuth); slices.Contains(ids, "ASYM-KID-02") || slices.Contains(ids, "TRESP-05") {
		t.Errorf("oauth: level:must selects ASYM-KID-02 or TRESP-05: %v", ids)
	}
	if ids := must(engine.ProfileSMARTv2); !slices.Contains(ids, "ASYM-KID-02") {
		t.Errorf("smart-v2: level:must does not select ASYM-KID-02")
	}
	filtered := runAgainst(t, engine.Options{Profile: engine.ProfileOAuth, LabelFilter: "level:must && method:private_key_jwt"}, refserver.FaultAcceptMissingKID)
	for _, c := range filtered.Cases {
		if c.ID == "ASYM-KID-02" || c.Level != "MUST" {
			t.Errorf("oauth, level:must: %s (%s) selected", c.ID, c.Level)
		}
	}
	// The default profile still fails it.
	if c := caseByID(t, runAgainst(t, engine.Options{}, refserver.FaultAcceptMissingKID), "ASYM-KID-02"); c.Level != "MUST" || c.Status != reporter.Failed {
		t.Errorf("smart-v2: ASYM-KID-02 %s %s", c.Level, c.Status)
	}
}
