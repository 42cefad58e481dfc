package reporter

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit is written here rather than with Ginkgo's reporters.GenerateJUnitReport
// because that writer hard-codes classname to the suite description, adds
// status and disabled attributes, and turns report entries into <properties>
// inside <testcase>, all of which the Jenkins xUnit schema (junit-10.xsd)
// rejects; and because the model, not Ginkgo's report, is the source of
// truth (a case the harness could not run is an <error>, never missing).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`
	ms         float64
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
	ms        float64
}

type junitMessage struct {
	Type    string `xml:"type,attr,omitempty"`
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes one <testsuite> per area and one <testcase> per case:
// classname is the area, name is "[ID] title". A failed case is <failure>
// whose type is its severity and whose message starts "[severity]",
// an error (the harness could not judge) is <error>, skipped and not-run
// cases are <skipped> with their reason; warnings and the requirement are in
// <system-out>.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "smartconform " + r.Target.Name, Time: seconds(r.Run.DurationMs)}
	index := map[string]int{}
	for _, c := range r.Cases {
		i, ok := index[c.Area]
		if !ok {
			i = len(doc.Suites)
			index[c.Area] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: c.Area, Timestamp: r.Run.Start.UTC().Format("2006-01-02T15:04:05")})
		}
		doc.Suites[i].add(junitCase(c, c.Area))
	}
	if len(doc.Suites) > 0 {
		doc.Suites[0].Properties = runProperties(r)
	}
	return doc.write(w)
}

// WriteJUnitTargets writes the JUnit of a run over several targets: one
// <testsuite> per target, classname "target › area".
func WriteJUnitTargets(w io.Writer, reps []*Report) error {
	doc := junitSuites{Name: fmt.Sprintf("smartconform, %d targets", len(reps))}
	var total float64
	for _, r := range reps {
		s := junitSuite{Name: r.Target.Name, Timestamp: r.Run.Start.UTC().Format("2006-01-02T15:04:05"), Properties: runProperties(r)}
		for _, c := range r.Cases {
			s.add(junitCase(c, r.Target.Name+" › "+c.Area))
		}
		total += r.Run.DurationMs
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	return doc.write(w)
}

func runProperties(r *Report) *junitProps {
	return &junitProps{Props: []junitProp{
		{"smartconform.version", r.Tool.Version}, {"testPlanVersion", r.TestPlanVersion},
		{"target", r.Target.Name}, {"profile", r.Run.Profile}, {"strict", fmt.Sprint(r.Run.Strict)},
		{"verdict", r.Summary.Verdict}, {"headline", r.Summary.Headline}, {"exitCode", fmt.Sprint(r.Summary.ExitCode)},
		{"failOn", r.Run.FailOn}, {"why", r.Summary.Why},
		{"severity.critical", fmt.Sprint(r.Summary.Severity.Critical)}, {"severity.high", fmt.Sprint(r.Summary.Severity.High)},
		{"severity.medium", fmt.Sprint(r.Summary.Severity.Medium)}, {"severity.low", fmt.Sprint(r.Summary.Severity.Low)},
		{"insecureSkipVerify", fmt.Sprint(r.Target.InsecureSkipVerify)},
	}}
}

// add appends a testcase and keeps the suite's counts and time.
func (s *junitSuite) add(tc junitTestCase) {
	s.Cases = append(s.Cases, tc)
	s.Tests++
	switch {
	case tc.Failure != nil:
		s.Failures++
	case tc.Error != nil:
		s.Errors++
	case tc.Skipped != nil:
		s.Skipped++
	}
	s.ms += tc.ms
	s.Time = seconds(s.ms)
}

func (d *junitSuites) write(w io.Writer) error {
	for _, s := range d.Suites {
		d.Tests += s.Tests
		d.Failures += s.Failures
		d.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitCase renders one case.
func junitCase(c Case, classname string) junitTestCase {
	tc := junitTestCase{Name: "[" + c.ID + "] " + c.Title, Classname: classname, Time: seconds(c.DurationMs), ms: c.DurationMs}
	var out strings.Builder
	fmt.Fprintf(&out, "%s (%s): %s\n", c.ID, c.Level, c.Requirement)
	for _, ref := range c.Refs {
		fmt.Fprintf(&out, "see %s <%s>\n", ref.Label, ref.URL)
	}
	switch c.Status {
	case Failed:
		sev := c.Severity
		if sev == "" {
			sev = CaseSeverity(c)
		}
		tc.Failure = &junitMessage{Type: string(sev), Message: "[" + string(sev) + "] " + failureMessage(c), Body: findingsText(c)}
	case Errored:
		tc.Error = &junitMessage{Type: "incomplete", Message: c.Reason, Body: c.Reason}
	case Skipped, NotRun:
		tc.Skipped = &junitMessage{Message: string(c.Status) + ": " + c.Reason}
	case Warned:
		out.WriteString("WARNING [low] (SHOULD-level; gates only under --fail-on should or --strict):\n")
		out.WriteString(findingsText(c))
	case Waived:
		tc.Skipped = &junitMessage{Message: fmt.Sprintf("waived until %s: %s", c.Waiver.Expires, c.Waiver.Reason)}
		fmt.Fprintf(&out, "WAIVED FAILURE [%s] (known, accepted until the waiver expires):\n", c.Severity)
		out.WriteString(findingsText(c))
	}
	if c.Hint != "" && (c.Status == Failed || c.Status == Warned) {
		fmt.Fprintf(&out, "hint: %s\n", c.Hint)
	}
	tc.SystemOut = out.String()
	return tc
}

// failureMessage is the most severe finding (the first among equals).
func failureMessage(c Case) string {
	best := -1
	for i, f := range c.Findings {
		if best < 0 || severityRank(f.Severity) < severityRank(c.Findings[best].Severity) {
			best = i
		}
	}
	if best < 0 {
		return c.Reason
	}
	f := c.Findings[best]
	msg := fmt.Sprintf("%s: expected %s, got %s", f.Check, f.Expected, f.Actual)
	if n := len(c.Findings) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %s)", plural(n, "other finding", "other findings"))
	}
	return msg
}

func findingsText(c Case) string {
	var b strings.Builder
	for _, f := range c.Findings {
		level := f.Level
		if f.Severity != "" {
			level += ", " + string(f.Severity)
		}
		fmt.Fprintf(&b, "[%s] %s\n  expected: %s\n  actual:   %s\n", level, f.Check, f.Expected, f.Actual)
	}
	return b.String()
}
