// Package reporter holds the one results model of a run and renders it as
// JSON (json.go), JUnit (junit.go), a self-contained HTML page (html.go) and
// console lines (console.go). Evidence is redacted before it enters the model
// (redact.go), so no renderer can leak what it never receives.
package reporter

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON report's shape.
const SchemaVersion = "1"

// Status is a case's outcome.
type Status string

// The outcomes. A warned case passed every MUST check but missed a SHOULD.
const (
	Passed  Status = "passed"
	Warned  Status = "warned"
	Failed  Status = "failed"
	Skipped Status = "skipped" // not applicable: no client configured, feature not advertised
	NotRun  Status = "notrun"  // a prerequisite case failed, so this one could not be judged
	Errored Status = "error"   // the harness could not get or judge an answer
	Waived  Status = "waived"  // failed, under a waiver that has not expired: shown, not hidden
)

// Report is one run against one target.
type Report struct {
	SchemaVersion   string    `json:"schemaVersion"`
	Tool            Tool      `json:"tool"`
	TestPlanVersion string    `json:"testPlanVersion"`
	Target          Target    `json:"target"`
	Run             RunInfo   `json:"run"`
	Summary         Summary   `json:"summary"`
	Notes           []string  `json:"notes,omitempty"`
	Cases           []Case    `json:"cases"`
	Generated       time.Time `json:"generated"`

	// IndexHref, when set, links the HTML page back to the index of a
	// multi-target run (see IndexHrefFor). It describes where the page is
	// written, not the run, so it is not part of the JSON.
	IndexHref string `json:"-"`
}

// Tool names the harness.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target is the server under test, as configured and discovered.
type Target struct {
	Name               string   `json:"name"`
	FHIRBaseURL        string   `json:"fhirBaseUrl,omitempty"`
	TokenEndpoint      string   `json:"tokenEndpoint,omitempty"`
	InsecureSkipVerify bool     `json:"insecureSkipVerify"`
	Reference          bool     `json:"reference"` // the embedded reference server
	Faults             []string `json:"faults,omitempty"`
}

// RunInfo says how the run was made.
type RunInfo struct {
	Start       time.Time `json:"start"`
	DurationMs  float64   `json:"durationMs"`
	Profile     string    `json:"profile"`
	Strict      bool      `json:"strict"`
	LabelFilter string    `json:"labelFilter,omitempty"`
	Focus       []string  `json:"focus,omitempty"`
	FailOn      string    `json:"failOn"` // must (default), should, never
	Concurrency int       `json:"concurrency"`
}

// Summary counts the cases and gives the verdict and exit code.
//
// Passed, Warned, Failed, Waived, Skipped, NotRun and Errors count cases by
// status and add up to Total. Severity counts the failed cases by severity
// (warnings count as low; waived failures are not counted). Verdict is one
// word that always agrees with ExitCode (see Summarize); Headline qualifies
// it ("conformant (2 warnings)"), and Why says which --fail-on applied and
// why the exit code is what it is, including why a failure did not gate.
type Summary struct {
	Total    int            `json:"total"`
	Passed   int            `json:"passed"`
	Warned   int            `json:"warned"`
	Failed   int            `json:"failed"`
	Waived   int            `json:"waived"`
	Skipped  int            `json:"skipped"`
	NotRun   int            `json:"notRun"`
	Errors   int            `json:"errors"`
	Severity SeverityCounts `json:"severity"`
	Verdict  string         `json:"verdict"` // conformant, report-only, non-conformant, incomplete
	Headline string         `json:"headline"`
	Why      string         `json:"why"`
	ExitCode int            `json:"exitCode"`
}

// The verdict words. Each names exactly one exit code.
const (
	VerdictConformant    = "conformant"     // exit 0: nothing that gates failed
	VerdictReportOnly    = "report-only"    // exit 0: --fail-on never, and cases failed
	VerdictNonConformant = "non-conformant" // exit 1: a failure gates the run
	VerdictIncomplete    = "incomplete"     // exit 3: a case could not be judged, or none was
)

// VerdictExitCode is the exit code a verdict word stands for (-1 if the word
// is not a verdict).
func VerdictExitCode(verdict string) int {
	switch verdict {
	case VerdictConformant, VerdictReportOnly:
		return 0
	case VerdictNonConformant:
		return 1
	case VerdictIncomplete:
		return 3
	}
	return -1
}

// Ref is a spec reference: a section and its URL.
type Ref struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Case is one conformance case and its outcome.
type Case struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Requirement string     `json:"requirement"`
	Area        string     `json:"area"`
	Method      string     `json:"method,omitempty"`
	Polarity    string     `json:"polarity"` // positive or negative
	Level       string     `json:"level"`    // MUST or SHOULD
	Refs        []Ref      `json:"refs"`
	Policy      string     `json:"policy,omitempty"`
	Labels      []string   `json:"labels"`
	Status      Status     `json:"status"`
	Severity    Severity   `json:"severity,omitempty"` // failed, waived and warned cases: see Severity
	Reason      string     `json:"reason,omitempty"`
	Hint        string     `json:"hint,omitempty"`
	Waiver      *Waiver    `json:"waiver,omitempty"`
	Findings    []Finding  `json:"findings,omitempty"`
	DurationMs  float64    `json:"durationMs"`
	Exchanges   []Exchange `json:"exchanges,omitempty"`
}

// Waiver is a known failure accepted until a date, with the reason.
type Waiver struct {
	ID      string `json:"id" yaml:"id"`
	Reason  string `json:"reason" yaml:"reason"`
	Expires string `json:"expires" yaml:"expires"` // YYYY-MM-DD, inclusive
	Expired bool   `json:"expired"`
}

// Finding is one check that did not hold.
type Finding struct {
	Level    string   `json:"level"` // MUST (a failure) or SHOULD (a warning)
	Severity Severity `json:"severity,omitempty"`
	Check    string   `json:"check"`
	Expected string   `json:"expected"`
	Actual   string   `json:"actual"`
}

// Header is one HTTP header line.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// JWT is the decoded header and claims of a token, never its signature.
type JWT struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// Exchange is one HTTP request and its answer, redacted. At is when the
// request was sent (zero when unknown): JWT time claims are shown relative
// to it.
type Exchange struct {
	Label           string    `json:"label"`
	At              time.Time `json:"at,omitzero"`
	Method          string    `json:"method"`
	URL             string    `json:"url"`
	RequestHeaders  []Header  `json:"requestHeaders"`
	RequestBody     string    `json:"requestBody,omitempty"`
	Status          int       `json:"status,omitempty"`
	ResponseHeaders []Header  `json:"responseHeaders,omitempty"`
	ResponseBody    string    `json:"responseBody,omitempty"`
	DurationMs      float64   `json:"durationMs"`
	Error           string    `json:"error,omitempty"`
	Assertion       *JWT      `json:"assertion,omitempty"`
	Curl            string    `json:"curl"`
}

// Summarize assigns severities (AssignSeverities), counts the cases and
// sets the verdict, headline, reason and exit code. An empty Run.FailOn
// becomes "must", so the report states which applied.
//
// One verdict model, one verdict word per exit code:
//
//   - exit 3, "incomplete": a case is an error (the harness could not get or
//     judge an answer), or no case could be judged at all (every one skipped
//     or not run: an empty run never looks green). --fail-on does not change
//     this.
//   - exit 1, "non-conformant": a failure gates the run: under --fail-on must
//     (the default) a failed case; under --fail-on should a failed or a
//     warned case. A waived failure never gates; one whose waiver expired
//     is failed again.
//   - exit 0, "conformant": nothing that gates failed. Warnings that do not
//     gate show in the headline: "conformant (2 warnings)".
//   - exit 0, "report-only": --fail-on never, and cases failed. The run
//     reports and does not gate; the word never claims conformance.
func (r *Report) Summarize() {
	r.AssignSeverities()
	if r.Run.FailOn == "" {
		r.Run.FailOn = "must"
	}
	s := Summary{Total: len(r.Cases)}
	for _, c := range r.Cases {
		switch c.Status {
		case Passed:
			s.Passed++
		case Warned:
			s.Warned++
			s.Severity.add(SeverityLow)
		case Failed:
			s.Failed++
			s.Severity.add(c.Severity)
		case Skipped:
			s.Skipped++
		case NotRun:
			s.NotRun++
		case Errored:
			s.Errors++
		case Waived:
			s.Waived++
		}
	}
	failOn := r.Run.FailOn
	gateWarnings := failOn == "should"
	gates := failOn != "never"
	judged := s.Passed + s.Warned + s.Failed + s.Waived + s.Errors
	failures := plural(s.Failed, "failed case", "failed cases")
	if s.Failed > 0 {
		failures += " (" + severityBreakdown(r.Cases, Failed) + ")"
	}
	warnings := plural(s.Warned, "SHOULD warning", "SHOULD warnings")
	var why []string
	switch {
	case s.Errors > 0 || (s.Total > 0 && judged == 0):
		s.Verdict, s.ExitCode = VerdictIncomplete, 3
		if s.Errors > 0 {
			s.Headline = "incomplete (" + plural(s.Errors, "case", "cases") + " not judged)"
			why = append(why, plural(s.Errors, "case", "cases")+" could not be judged, so the run is incomplete (exit 3) whatever --fail-on says")
		} else {
			s.Headline = "incomplete (nothing judged)"
			why = append(why, "no case could be judged (every one was skipped or not run), so the run proves nothing (exit 3)")
		}
		if s.Failed > 0 {
			why = append(why, "also "+failures)
		}
	case gates && s.Failed > 0:
		s.Verdict, s.ExitCode = VerdictNonConformant, 1
		s.Headline = "non-conformant (" + failures + ")"
		why = append(why, failures+agree(s.Failed, " gates", " gate")+" the run (--fail-on "+failOn+")")
		if s.Warned > 0 {
			why = append(why, "and "+warnings)
		}
	case gateWarnings && s.Warned > 0:
		s.Verdict, s.ExitCode = VerdictNonConformant, 1
		s.Headline = "non-conformant (" + warnings + ", gating: --fail-on should)"
		why = append(why, "no MUST failure, but "+warnings+agree(s.Warned, " gates", " gate")+" the run under --fail-on should")
	case s.Failed > 0: // --fail-on never
		s.Verdict, s.ExitCode = VerdictReportOnly, 0
		s.Headline = "report-only (" + failures + ", not gating: --fail-on never)"
		why = append(why, failures+", not gating: --fail-on never reports failures with exit 0")
	default:
		s.Verdict, s.ExitCode = VerdictConformant, 0
		s.Headline = VerdictConformant
		if s.Warned > 0 {
			s.Headline += " (" + plural(s.Warned, "warning", "warnings") + ")"
			why = append(why, "no MUST failure; "+warnings+agree(s.Warned, " does", " do")+" not gate under --fail-on "+failOn)
		} else {
			why = append(why, "no case failed and every case that ran was judged (--fail-on "+failOn+")")
		}
	}
	if s.Waived > 0 {
		why = append(why, plural(s.Waived, "waived failure does", "waived failures do")+" not gate while the waiver lasts")
	}
	s.Why = upperFirst(strings.Join(why, "; ")) + "."
	r.Summary = s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// severityBreakdown reads "1 critical, 2 medium" for the cases of a status.
func severityBreakdown(cases []Case, st Status) string {
	var n SeverityCounts
	for _, c := range cases {
		if c.Status == st {
			n.add(c.Severity)
		}
	}
	var parts []string
	for _, sev := range Severities {
		if k := n.Of(sev); k > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k, sev))
		}
	}
	return strings.Join(parts, ", ")
}

// statusRank orders cases for people: failures first.
var statusRank = map[Status]int{Failed: 0, Errored: 1, Waived: 2, Warned: 3, NotRun: 4, Passed: 5, Skipped: 6}

// ByAttention returns the cases with failures first, most severe first
// within a status (critical before high before medium before low), then in
// catalogue order.
func (r *Report) ByAttention() []Case {
	out := append([]Case(nil), r.Cases...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if statusRank[a.Status] != statusRank[b.Status] {
			return statusRank[a.Status] < statusRank[b.Status]
		}
		return severityRank(a.Severity) < severityRank(b.Severity)
	})
	return out
}
