// Package reporter holds the one results model of a run and renders it as
// JSON (json.go), JUnit (junit.go), a self-contained HTML page (html.go) and
// console lines (console.go). Evidence is redacted before it enters the model
// (redact.go), so no renderer can leak what it never receives.
package reporter

import (
	"sort"
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
type Summary struct {
	Total    int    `json:"total"`
	Passed   int    `json:"passed"`
	Warned   int    `json:"warned"`
	Failed   int    `json:"failed"`
	Waived   int    `json:"waived"`
	Skipped  int    `json:"skipped"`
	NotRun   int    `json:"notRun"`
	Errors   int    `json:"errors"`
	Verdict  string `json:"verdict"` // conformant, non-conformant, incomplete
	ExitCode int    `json:"exitCode"`
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
	Level    string `json:"level"` // MUST (a failure) or SHOULD (a warning)
	Check    string `json:"check"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
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

// Exchange is one HTTP request and its answer, redacted.
type Exchange struct {
	Label           string   `json:"label"`
	Method          string   `json:"method"`
	URL             string   `json:"url"`
	RequestHeaders  []Header `json:"requestHeaders"`
	RequestBody     string   `json:"requestBody,omitempty"`
	Status          int      `json:"status,omitempty"`
	ResponseHeaders []Header `json:"responseHeaders,omitempty"`
	ResponseBody    string   `json:"responseBody,omitempty"`
	DurationMs      float64  `json:"durationMs"`
	Error           string   `json:"error,omitempty"`
	Assertion       *JWT     `json:"assertion,omitempty"`
	Curl            string   `json:"curl"`
}

// Summarize counts the cases and sets the verdict and exit code: 3
// (incomplete) if any case is an error or no case could be judged at all
// (every one skipped or not run: an empty run never looks green), else 1 if any failed (a waived
// failure does not count; one whose waiver expired stays failed), or under
// --fail-on should if any warned; else 0. --fail-on never reports failures
// with exit 0 (an incomplete run still exits 3).
func (r *Report) Summarize() {
	s := Summary{Total: len(r.Cases)}
	for _, c := range r.Cases {
		switch c.Status {
		case Passed:
			s.Passed++
		case Warned:
			s.Warned++
		case Failed:
			s.Failed++
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
	judged := s.Passed + s.Warned + s.Failed + s.Waived + s.Errors
	switch {
	case s.Errors > 0 || (s.Total > 0 && judged == 0):
		// Nothing judged (every case skipped or not run) is never a pass.
		s.Verdict, s.ExitCode = "incomplete", 3
	case s.Failed > 0:
		s.Verdict, s.ExitCode = "non-conformant", 1
	case s.Warned > 0 && r.Run.FailOn == "should":
		s.Verdict, s.ExitCode = "conformant with warnings", 1
	default:
		s.Verdict, s.ExitCode = "conformant", 0
	}
	if r.Run.FailOn == "never" && s.ExitCode == 1 {
		s.ExitCode = 0
	}
	r.Summary = s
}

// statusRank orders cases for people: failures first.
var statusRank = map[Status]int{Failed: 0, Errored: 1, Waived: 2, Warned: 3, NotRun: 4, Passed: 5, Skipped: 6}

// ByAttention returns the cases with failures first, then in catalogue order.
func (r *Report) ByAttention() []Case {
	out := append([]Case(nil), r.Cases...)
	sort.SliceStable(out, func(i, j int) bool { return statusRank[out[i].Status] < statusRank[out[j].Status] })
	return out
}
