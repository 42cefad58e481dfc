package reporter

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestSeverityForFollowsTheDocumentedRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    SeverityFacts
		want Severity
	}{
		{"token issued to a forged assertion", SeverityFacts{Level: "MUST", Negative: true, AuthRefusal: true, TokenIssued: true, Status: 200}, SeverityCritical},
		{"token issued even with an odd status", SeverityFacts{Level: "MUST", AuthRefusal: true, TokenIssued: true, Status: 400}, SeverityCritical},
		{"auth refusal answered 200 without a token", SeverityFacts{Level: "MUST", Negative: true, AuthRefusal: true, Status: 200}, SeverityHigh},
		{"other refusal accepted", SeverityFacts{Level: "MUST", Negative: true, TokenIssued: true, Status: 200}, SeverityHigh},
		{"5xx", SeverityFacts{Level: "MUST", Status: 503}, SeverityHigh},
		{"5xx on a refusal", SeverityFacts{Level: "MUST", Negative: true, AuthRefusal: true, Status: 500}, SeverityHigh},
		{"wrong status on a refusal", SeverityFacts{Level: "MUST", Negative: true, AuthRefusal: true, Status: 403}, SeverityMedium},
		{"wrong shape of a success", SeverityFacts{Level: "MUST", Status: 200, TokenIssued: true}, SeverityMedium},
		{"no answer", SeverityFacts{Level: "MUST"}, SeverityMedium},
		{"SHOULD even when a token was issued", SeverityFacts{Level: "SHOULD", Negative: true, AuthRefusal: true, TokenIssued: true, Status: 200}, SeverityLow},
	} {
		if got := SeverityFor(tc.f); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func sevCase(id string, st Status, level, polarity, method string, status int, body string, findings ...Finding) Case {
	return Case{ID: id, Title: "t " + id, Requirement: "r", Area: "a", Level: level, Polarity: polarity, Method: method, Status: st,
		Findings: findings, Exchanges: []Exchange{{Label: "token", Method: "POST", URL: "https://x.test/token", Status: status, ResponseBody: body}}}
}

func TestSummarizeAssignsSortsAndCountsSeverities(t *testing.T) {
	must := Finding{Level: "MUST", Check: "status", Expected: "400", Actual: "200"}
	r := &Report{Cases: []Case{
		sevCase("SHAPE-01", Failed, "MUST", "positive", "", 200, `{"access_token":"x"}`, Finding{Level: "MUST", Check: "token_type", Expected: "Bearer", Actual: "bearer"}),
		sevCase("ASYM-EXP-01", Failed, "MUST", "negative", "private_key_jwt", 200, `{"access_token":"[redacted]"}`, must),
		sevCase("WARN-01", Warned, "SHOULD", "negative", "private_key_jwt", 400, "", Finding{Level: "SHOULD", Check: "h", Expected: "x", Actual: "y"}),
		sevCase("BOOM-01", Failed, "MUST", "positive", "", 502, "bad gateway", must),
		sevCase("ENGINE-01", Failed, "MUST", "positive", "", 400, "", Finding{Level: "MUST", Severity: SeverityCritical, Check: "c", Expected: "e", Actual: "a"}),
		sevCase("OK-01", Passed, "MUST", "positive", "", 200, "", Finding{}),
	}}
	r.Cases[5].Severity = SeverityHigh // a pass has no severity, whatever it was given
	r.Summarize()
	got := map[string]Severity{}
	for _, c := range r.Cases {
		got[c.ID] = c.Severity
	}
	want := map[string]Severity{"SHAPE-01": SeverityMedium, "ASYM-EXP-01": SeverityCritical, "WARN-01": SeverityLow,
		"BOOM-01": SeverityHigh, "ENGINE-01": SeverityCritical, "OK-01": ""}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: severity %q, want %q", id, got[id], w)
		}
	}
	if s := r.Summary.Severity; s != (SeverityCounts{Critical: 2, High: 1, Medium: 1, Low: 1}) {
		t.Errorf("severity counts %+v", s)
	}
	var order []string
	for _, c := range r.ByAttention() {
		order = append(order, c.ID)
	}
	if got := strings.Join(order, " "); got != "ASYM-EXP-01 ENGINE-01 BOOM-01 SHAPE-01 WARN-01 OK-01" {
		t.Errorf("attention order: %s", got)
	}
	if r.Cases[0].Findings[0].Severity != SeverityMedium {
		t.Errorf("a finding without a severity was not given one: %+v", r.Cases[0].Findings[0])
	}
}

// verdictReport has the given numbers of passed, failed and warned cases.
func verdictReport(failOn string, passed, failed, warned, errored, waived int) *Report {
	r := &Report{Run: RunInfo{FailOn: failOn}}
	add := func(n int, st Status, level string) {
		for i := 0; i < n; i++ {
			c := Case{ID: fmt.Sprintf("%s-%d", strings.ToUpper(string(st)), i), Status: st, Level: level, Polarity: "negative", Method: "private_key_jwt"}
			if st == Failed || st == Warned || st == Waived {
				c.Findings = []Finding{{Level: level, Check: "status", Expected: "401", Actual: "400"}}
			}
			r.Cases = append(r.Cases, c)
		}
	}
	add(passed, Passed, "MUST")
	add(failed, Failed, "MUST")
	add(warned, Warned, "SHOULD")
	add(errored, Errored, "MUST")
	add(waived, Waived, "MUST")
	r.Summarize()
	return r
}

// The verdict word always names the exit code, whatever --fail-on says,
// and the reason names the --fail-on that applied.
func TestVerdictAlwaysAgreesWithTheExitCode(t *testing.T) {
	for _, tc := range []struct {
		failOn                           string
		passed, failed, warned, err, wvd int
		verdict                          string
		exit                             int
		headline, why                    string
	}{
		{"", 3, 0, 0, 0, 0, "conformant", 0, "conformant", "(--fail-on must)"},
		{"must", 3, 0, 2, 0, 0, "conformant", 0, "conformant (2 warnings)", "2 SHOULD warnings do not gate under --fail-on must"},
		{"should", 3, 0, 2, 0, 0, "non-conformant", 1, "non-conformant (2 SHOULD warnings, gating: --fail-on should)", "gate the run under --fail-on should"},
		{"never", 3, 0, 2, 0, 0, "conformant", 0, "conformant (2 warnings)", "do not gate under --fail-on never"},
		{"must", 3, 1, 0, 0, 0, "non-conformant", 1, "non-conformant (1 failed case (1 medium))", "1 failed case (1 medium) gates the run (--fail-on must)"},
		{"should", 3, 2, 1, 0, 0, "non-conformant", 1, "non-conformant (2 failed cases (2 medium))", "gate the run (--fail-on should)"},
		{"never", 3, 3, 0, 0, 0, "report-only", 0, "report-only (3 failed cases (3 medium), not gating: --fail-on never)", "3 failed cases (3 medium), not gating: --fail-on never"},
		{"never", 3, 1, 0, 1, 0, "incomplete", 3, "incomplete (1 case not judged)", "whatever --fail-on says"},
		{"must", 0, 0, 0, 0, 0, "conformant", 0, "conformant", ""},
		{"must", 2, 0, 0, 0, 1, "conformant", 0, "conformant", "1 waived failure does not gate"},
	} {
		name := fmt.Sprintf("fail-on %q: %d passed %d failed %d warned %d errors %d waived", tc.failOn, tc.passed, tc.failed, tc.warned, tc.err, tc.wvd)
		r := verdictReport(tc.failOn, tc.passed, tc.failed, tc.warned, tc.err, tc.wvd)
		s := r.Summary
		if s.Verdict != tc.verdict || s.ExitCode != tc.exit || s.Headline != tc.headline || !strings.Contains(s.Why, tc.why) {
			t.Errorf("%s:\n got %q exit %d %q / %q\nwant %q exit %d %q / …%q…", name, s.Verdict, s.ExitCode, s.Headline, s.Why, tc.verdict, tc.exit, tc.headline, tc.why)
		}
		if VerdictExitCode(s.Verdict) != s.ExitCode {
			t.Errorf("%s: verdict %q stands for exit %d, the run exits %d", name, s.Verdict, VerdictExitCode(s.Verdict), s.ExitCode)
		}
		if r.Run.FailOn == "" {
			t.Errorf("%s: run.failOn left empty", name)
		}
		// Every renderer says the same word, the same exit code and the fail-on.
		line := VerdictLine(r)
		if !strings.HasPrefix(line, fmt.Sprintf("verdict: %s (exit %d, fail-on %s)", s.Verdict, s.ExitCode, r.Run.FailOn)) {
			t.Errorf("%s: console %q", name, line)
		}
		page, _ := htmlRender(t, r)
		class, word, _ := htmlVerdict(s)
		if !strings.Contains(page, `class="verdict `+class+`"`) || !strings.Contains(page, `<span class="verdict-word">`+word+`</span>`) ||
			!strings.Contains(page, `data-exit-code="`+fmt.Sprint(s.ExitCode)+`"`) || !strings.Contains(page, `<code id="sc-failon">`+r.Run.FailOn+`</code>`) {
			t.Errorf("%s: the HTML verdict box disagrees", name)
		}
		if strings.Contains(page, "Non-conformant") && s.ExitCode == 0 {
			t.Errorf("%s: the HTML says non-conformant with exit 0", name)
		}
		md := mdRender(t, r)
		if !strings.Contains(md, "exit code **"+fmt.Sprint(s.ExitCode)+"**") || !strings.Contains(md, "fail-on `"+r.Run.FailOn+"`") {
			t.Errorf("%s: markdown:\n%s", name, md)
		}
	}
}

func TestConsoleClosingLinesCountEverything(t *testing.T) {
	r := schemaRichSample()
	var buf bytes.Buffer
	WriteClosing(&buf, r)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("closing lines: %q", lines)
	}
	s := r.Summary
	last := regexp.MustCompile(`^smartconform: (\d+) passed, (\d+) failed, (\d+) skipped$`).FindStringSubmatch(lines[2])
	if last == nil {
		t.Fatalf("last line %q is not parseable", lines[2])
	}
	if want := fmt.Sprintf("smartconform: %d passed, %d failed, %d skipped", s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived); lines[2] != want {
		t.Errorf("last line %q, want %q", lines[2], want)
	}
	want := fmt.Sprintf("counts: %d passed, %d warned, %d failed, %d errors, %d not run, %d skipped, %d waived (%d total); severity: %d critical, %d high, %d medium, %d low",
		s.Passed, s.Warned, s.Failed, s.Errors, s.NotRun, s.Skipped, s.Waived, s.Total, s.Severity.Critical, s.Severity.High, s.Severity.Medium, s.Severity.Low)
	if lines[1] != want {
		t.Errorf("counts line %q\nwant %q", lines[1], want)
	}
	if !strings.HasPrefix(lines[0], "verdict: incomplete (exit 3, fail-on should) — ") {
		t.Errorf("verdict line %q", lines[0])
	}
}

func TestProgressHidesSkipsAndHasAQuietMode(t *testing.T) {
	r := schemaRichSample() // one case of each status
	run := func(o ConsoleOptions) string {
		var buf bytes.Buffer
		p := NewProgress(&buf, len(r.Cases), o)
		for _, c := range r.Cases {
			p.Case(c)
		}
		p.Finish()
		return buf.String()
	}
	def := run(ConsoleOptions{})
	if strings.Contains(def, "SYM-POST-01") || !strings.Contains(def, "(1 skipped not shown: skipped cases are hidden)") {
		t.Errorf("default: skipped case shown or not counted:\n%s", def)
	}
	for _, id := range []string{"ASYM-POS-01", "ASYM-EXP-01 [medium]", "ASYM-BEARER-01 [low]", "SYM-POST-02", "DISC-WK-01"} {
		if !strings.Contains(def, id) {
			t.Errorf("default: %s not shown:\n%s", id, def)
		}
	}
	if !strings.Contains(def, "[7/7]") {
		t.Errorf("default: numbering does not count hidden cases:\n%s", def)
	}
	all := run(ConsoleOptions{ShowSkips: true})
	if !strings.Contains(all, "SYM-POST-01") || strings.Contains(all, "not shown") {
		t.Errorf("show skips:\n%s", all)
	}
	quiet := run(ConsoleOptions{Quiet: true})
	if strings.Count(quiet, "\n") != 3 || !strings.Contains(quiet, "ASYM-EXP-01") || !strings.Contains(quiet, "DISC-WK-01") ||
		!strings.Contains(quiet, "only failures and errors are shown (quiet)") {
		t.Errorf("quiet:\n%s", quiet)
	}
	var details bytes.Buffer
	PrintDetailsWith(&details, r, ConsoleOptions{Quiet: true})
	if strings.Contains(details.String(), "ASYM-BEARER-01") || strings.Contains(details.String(), "Note:") || !strings.Contains(details.String(), "FAIL [medium] ASYM-EXP-01") {
		t.Errorf("quiet details:\n%s", details.String())
	}
}

// A failure carries its severity in JUnit as the type and a message prefix,
// and the document still validates against the committed schema.
func TestJUnitCarriesSeverityAndStaysValid(t *testing.T) {
	r := sampleForJUnit()
	crit := sevCase("ASYM-SIG-01", Failed, "MUST", "negative", "private_key_jwt", 200, `{"access_token":"[redacted]"}`,
		Finding{Level: "MUST", Check: "status", Expected: "400 or 401", Actual: "200 with a token"})
	crit.Area = "private_key_jwt"
	r.Cases = append(r.Cases, crit)
	r.Summarize()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure == nil {
				continue
			}
			found++
			if !strings.HasPrefix(c.Failure.Message, "["+c.Failure.Type+"] ") || severityRank(Severity(c.Failure.Type)) > 3 {
				t.Errorf("failure %q: type %q message %q", c.Name, c.Failure.Type, c.Failure.Message)
			}
			if strings.Contains(c.Name, "ASYM-SIG-01") && c.Failure.Type != "critical" {
				t.Errorf("forged assertion that got a token: type %q", c.Failure.Type)
			}
		}
	}
	if found != 2 {
		t.Errorf("%d failures, want 2", found)
	}
	if !strings.Contains(buf.String(), `name="severity.critical" value="1"`) || !strings.Contains(buf.String(), `name="failOn" value="must"`) {
		t.Errorf("suite properties lack the severity counts or failOn")
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed (Debian package libxml2-utils)")
	}
	p := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", schemaPath, p).CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

func TestWriteHTMLShowsSeverityAndFiltersByIt(t *testing.T) {
	r := htmlSampleReport()
	out, doc := htmlRender(t, r)
	for _, c := range r.Cases {
		el := htmlByID(doc, c.ID)[0]
		if sev, _ := htmlAttr(el, "data-severity"); sev != string(c.Severity) {
			t.Errorf("%s: data-severity %q, want %q", c.ID, sev, c.Severity)
		}
		badges := htmlFindAll(el, func(n *html.Node) bool { return htmlHasClass(n, "sev") })
		if (c.Severity != "") != (len(badges) > 0) {
			t.Errorf("%s (%s): %d severity badges", c.ID, c.Severity, len(badges))
		}
	}
	if len(htmlByID(doc, "sc-severity")) != 1 || len(htmlByID(doc, "sc-sort")) != 1 || !strings.Contains(out, `data-severity-counter="critical"`) {
		t.Error("no severity filter, sort or counters")
	}
}
