package suites

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// Options configure a run.
type Options struct {
	Target      *config.Target
	Version     string
	Profile     string
	Strict      bool
	LabelFilter string
	Focus       []string
	Timeout     time.Duration // whole run; 0: one hour
	// Progress receives one line per finished case; nil: none.
	Progress io.Writer
	Color    bool
	// GinkgoOutput receives Ginkgo's own reporter (verbose mode); nil: discarded.
	GinkgoOutput io.Writer
	// Reference and Faults stamp a run against the embedded reference server.
	Reference bool
	Faults    []string
}

// UsageError is a mistake in how the run was asked for (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// fakeT is the GinkgoTestingT of a run outside `go test`.
type fakeT struct{ failed bool }

func (f *fakeT) Fail() { f.failed = true }

var runMu sync.Mutex

// prepare resets Ginkgo's global suite and declares the tree afresh, so that
// one process can run the suites many times (tests, mutants).
func prepare() {
	globals.Reset()
	gomega.RegisterFailHandler(ginkgo.Fail)
	defineTree()
}

func ginkgoConfig(o Options) (types.SuiteConfig, types.ReporterConfig, error) {
	sc, rc := ginkgo.GinkgoConfiguration()
	if o.LabelFilter != "" {
		if _, err := types.ParseLabelFilter(o.LabelFilter); err != nil {
			return sc, rc, &UsageError{fmt.Errorf("--label-filter: %v", err)}
		}
	}
	sc.LabelFilter = o.LabelFilter
	sc.FocusStrings = o.Focus
	sc.RandomSeed = 1
	sc.RandomizeAllSpecs = false
	sc.FailOnEmpty = false
	if o.Timeout > 0 {
		sc.Timeout = o.Timeout
	}
	rc.NoColor = true
	rc.Succinct = true
	return sc, rc, nil
}

// Catalogue returns every case's metadata, validated, in catalogue order.
func Catalogue() ([]Meta, error) {
	runMu.Lock()
	defer runMu.Unlock()
	prepare()
	sc, rc, _ := ginkgoConfig(Options{})
	ginkgo.PreviewSpecs("smartconform", sc, rc)
	cat := append([]Meta(nil), catalogue...)
	return cat, ValidateCatalogue(cat)
}

// Select returns the cases a label filter and focus would run.
func Select(o Options) ([]Meta, error) {
	runMu.Lock()
	defer runMu.Unlock()
	return selectLocked(o)
}

func selectLocked(o Options) ([]Meta, error) {
	prepare()
	sc, rc, err := ginkgoConfig(o)
	if err != nil {
		return nil, err
	}
	rep := ginkgo.PreviewSpecs("smartconform", sc, rc)
	if err := ValidateCatalogue(catalogue); err != nil {
		return nil, err
	}
	will := map[string]bool{}
	for _, sr := range rep.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt && sr.State == types.SpecStatePassed {
			will[sr.LeafNodeText] = true
		}
	}
	var out []Meta
	for _, m := range catalogue {
		if will[m.SpecText()] {
			out = append(out, m)
		}
	}
	return out, nil
}

// Run runs the selected cases against o.Target and returns the results
// model. Every selected case is in it, whatever happened: a case whose body
// never ran (interrupt, timeout) is an error, never a silent pass.
func Run(o Options) (*reporter.Report, error) {
	runMu.Lock()
	defer runMu.Unlock()
	if o.Target == nil {
		return nil, &UsageError{errors.New("no target")}
	}
	if o.Profile == "" {
		o.Profile = "smart-v2"
	}
	selected, err := selectLocked(o)
	if err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		return nil, &UsageError{errors.New("the label filter and focus select no case (see `smartconform list`)")}
	}
	prepare()
	sc, rc, _ := ginkgoConfig(o)
	e := &env{opts: o, records: map[string]*caseRecord{}, baselines: map[string]*baseline{}}
	e.redactor = reporter.NewRedactor(o.Target.Secrets()...)
	if e.client, err = newHTTPClient(o); err != nil {
		return nil, &UsageError{err}
	}
	current = e
	defer func() { current = nil }()

	rep := &reporter.Report{
		SchemaVersion: reporter.SchemaVersion, TestPlanVersion: TestPlanVersion,
		Tool: reporter.Tool{Name: "smartconform", Version: o.Version},
		Target: reporter.Target{Name: o.Target.Name, FHIRBaseURL: o.Target.BaseURL, TokenEndpoint: o.Target.TokenURL,
			InsecureSkipVerify: o.Target.Insecure, Reference: o.Reference, Faults: o.Faults},
		Run: reporter.RunInfo{Start: time.Now(), Profile: o.Profile, Strict: o.Strict, LabelFilter: o.LabelFilter, Focus: o.Focus},
	}
	if o.Target.Insecure {
		rep.Notes = append(rep.Notes, "TLS certificate verification was switched off (insecureSkipVerify): the results say nothing about the server's certificate.")
	}
	done := map[string]reporter.Case{}
	n := 0
	ginkgo.ReportAfterEach(func(sr types.SpecReport) {
		if sr.LeafNodeType != types.NodeTypeIt {
			return
		}
		m, ok := metaByText(selected, sr.LeafNodeText)
		if !ok {
			return // filtered out
		}
		c := e.caseResult(m, sr)
		done[m.ID] = c
		n++
		if o.Progress != nil {
			reporter.ProgressLine(o.Progress, n, len(selected), c, o.Color)
		}
	})
	out := o.GinkgoOutput
	if out == nil {
		out = io.Discard
	}
	saved := formatter.ColorableStdOut
	formatter.ColorableStdOut = out
	defer func() { formatter.ColorableStdOut = saved }()
	ginkgo.RunSpecs(&fakeT{}, "smartconform", sc, rc)

	for _, m := range selected {
		c, ok := done[m.ID]
		if !ok {
			c = caseFromMeta(m)
			c.Status, c.Reason = reporter.Errored, "not run: the run ended before this case (interrupted or timed out)"
		}
		rep.Cases = append(rep.Cases, c)
	}
	if e.discErr != nil && o.Target.TokenURL == "" {
		rep.Notes = append(rep.Notes, "Discovery failed: "+e.discErr.Error()+". Cases that need the token endpoint could not run.")
	}
	rep.Run.DurationMs = elapsed(time.Since(rep.Run.Start))
	rep.Generated = time.Now()
	rep.Summarize()
	return rep, nil
}

func metaByText(cat []Meta, text string) (Meta, bool) {
	for _, m := range cat {
		if m.SpecText() == text {
			return m, true
		}
	}
	return Meta{}, false
}

func caseFromMeta(m Meta) reporter.Case {
	c := reporter.Case{ID: m.ID, Title: m.Title, Requirement: m.Requirement, Area: m.area, Method: m.Method,
		Level: string(m.Level), Policy: m.Policy, Hint: m.Hint, Labels: m.Labels(), Polarity: "positive"}
	if m.Negative {
		c.Polarity = "negative"
	}
	for _, r := range m.Refs {
		c.Refs = append(c.Refs, reporter.Ref{Label: r.Label, URL: r.URL})
	}
	return c
}

// caseResult turns a finished spec and its record into a model case.
func (e *env) caseResult(m Meta, sr types.SpecReport) reporter.Case {
	c := caseFromMeta(m)
	c.DurationMs = elapsed(sr.RunTime)
	rec := e.records[m.ID]
	if rec == nil {
		rec = &caseRecord{meta: m}
	}
	c.Findings, c.Exchanges = rec.findings, rec.exchanges
	switch {
	case rec.outcome == skipped:
		c.Status, c.Reason = reporter.Skipped, rec.reason
	case rec.outcome == notRun:
		c.Status, c.Reason = reporter.NotRun, rec.reason
	case rec.outcome == errored:
		c.Status, c.Reason = reporter.Errored, rec.reason
	case sr.State == types.SpecStatePassed:
		c.Status = reporter.Passed
		if len(rec.findings) > 0 {
			c.Status = reporter.Warned
		}
	case sr.State == types.SpecStateFailed && len(rec.findings) > 0:
		c.Status = reporter.Failed
	case sr.State.Is(types.SpecStateInterrupted | types.SpecStateTimedout | types.SpecStateAborted):
		c.Status, c.Reason = reporter.Errored, "not run to the end: "+sr.State.String()
	default:
		// A failure without findings: a harness fault (panic, stray assertion).
		c.Status = reporter.Errored
		c.Reason = e.redactor.Text("harness error: " + firstLine(sr.Failure.Message) + firstLine(sr.Failure.ForwardedPanic))
	}
	if c.Status != reporter.Failed && c.Status != reporter.Warned {
		c.Hint = ""
	}
	sort.SliceStable(c.Findings, func(i, j int) bool { return c.Findings[i].Level < c.Findings[j].Level })
	return c
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
