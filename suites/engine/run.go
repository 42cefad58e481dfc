package engine

import (
	"context"
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
	// Context ends the run early when cancelled (SIGINT, SIGTERM): cases not
	// finished are reported as errors, "not run", and the reports written.
	Context context.Context
	// Concurrency is how many cases run at once (default 4), besides the
	// one case that holds the JWKS host (those cases mostly wait, and take
	// the host one at a time: T.leavePool). Verdicts do
	// not depend on it; cases whose requests must be ordered make them in
	// one body (the replay case sends its two requests in sequence).
	Concurrency int
	// Rate caps requests per second to the target (0: no cap).
	Rate float64
	// ParallelTargets is how many targets run at once (RunTargets; default 8).
	ParallelTargets int
	// FailOn is must (default), should or never; see reporter.Summarize.
	FailOn string
	// Waivers turn the failures they cover into waived, until they expire.
	Waivers []reporter.Waiver
	// Progress receives one line per finished case, in catalogue order;
	// nil: none. CaseFinished is the alternative that reports each case as
	// it finishes.
	Progress io.Writer
	// CaseStarted and CaseFinished, when set, are called from the worker
	// pool as each case of target number target (its index in RunTargets'
	// list) starts and as its record completes (waivers applied), in the
	// order cases finish, not catalogue order. They may be called
	// concurrently.
	CaseStarted  func(target int, m Meta)
	CaseFinished func(target int, c reporter.Case)
	Color        bool
	// GinkgoOutput receives Ginkgo's own reporter (verbose mode); nil: discarded.
	GinkgoOutput io.Writer
	// Reference and Faults stamp a run against the embedded reference server.
	Reference bool
	Faults    []string

	// Per target, set by RunTargetsFunc (kept here, not in env, so that
	// env.go stays as it is): the target's index and when its pool started.
	index int
	start *time.Time // a pointer: judge copies Options while the pool sets it
}

// UsageError is a mistake in how the run was asked for (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// fakeT is the GinkgoTestingT of a run outside `go test`. RunSpecs' own
// verdict is not used: the results model decides (records, not Ginkgo
// states, say what happened to each case).
type fakeT struct{}

func (fakeT) Fail() {}

var runMu sync.Mutex

// prepare resets Ginkgo's global suite and declares the tree afresh, so that
// one process can run the suites many times (tests, mutants).
// The tree's level labels follow profile (Meta.ForProfile).
func prepare(profile string) {
	globals.Reset()
	gomega.RegisterFailHandler(ginkgo.Fail)
	treeProfile = profile
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
		// The run's own deadline (Options.Timeout) ends the worker pool;
		// Ginkgo's suite timeout is a backstop behind it.
		sc.Timeout = o.Timeout + time.Minute
	}
	rc.NoColor = true
	rc.Succinct = true
	return sc, rc, nil
}

// Catalogue returns every case's metadata, validated, in catalogue order.
func Catalogue() ([]Meta, error) {
	runMu.Lock()
	defer runMu.Unlock()
	prepare("")
	sc, rc, _ := ginkgoConfig(Options{})
	ginkgo.PreviewSpecs("smartconform", sc, rc)
	cat := append([]Meta(nil), catalogue...)
	return cat, ValidateCatalogue(cat)
}

// Select returns the cases a label filter and focus would run; with
// o.Profile set, as that profile sees them (Meta.ForProfile: level labels
// and Level follow it).
func Select(o Options) ([]Meta, error) {
	runMu.Lock()
	defer runMu.Unlock()
	return selectLocked(o)
}

func selectLocked(o Options) ([]Meta, error) {
	prepare(o.Profile)
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
			out = append(out, m.ForProfile(o.Profile))
		}
	}
	return out, nil
}

// Run runs the selected cases against o.Target and returns the results
// model. Every selected case is in it, whatever happened: a case whose body
// never ran (interrupt, timeout) is an error, never a silent pass.
func Run(o Options) (*reporter.Report, error) {
	if o.Target == nil {
		return nil, &UsageError{errors.New("no target")}
	}
	reps, err := RunTargets([]*config.Target{o.Target}, o)
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// DefaultParallelTargets is how many targets' cases run at once.
const DefaultParallelTargets = 8

// RunTargets judges several targets in one run (o.Target is ignored): each
// target's cases execute on its own pool of o.Concurrency workers, with at
// most o.ParallelTargets targets executing at once; Ginkgo then judges the
// targets one after another, in order, each as soon as its cases finish.
func RunTargets(targets []*config.Target, o Options) ([]*reporter.Report, error) {
	reps := make([]*reporter.Report, len(targets))
	err := RunTargetsFunc(targets, o, func(i int, rep *reporter.Report) error {
		reps[i] = rep
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reps, nil
}

// RunTargetsFunc is RunTargets handing each target's report to each as soon
// as the target is judged, in target order, and keeping none: memory stays
// flat in the number of targets when each writes the report out and keeps
// only what it needs. An error from each ends the run (the pools are
// cancelled) and is returned.
func RunTargetsFunc(targets []*config.Target, o Options, each func(i int, rep *reporter.Report) error) error {
	runMu.Lock()
	defer runMu.Unlock()
	if len(targets) == 0 {
		return &UsageError{errors.New("no target")}
	}
	if o.Profile == "" {
		o.Profile = "smart-v2"
	}
	selected, err := selectLocked(o)
	if err != nil {
		return err
	}
	baseIDs := baselineIDs(catalogue)
	if len(selected) == 0 {
		return &UsageError{errors.New("the label filter and focus select no case (see `smartconform list`)")}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.ParallelTargets <= 0 {
		o.ParallelTargets = DefaultParallelTargets
	}
	if o.FailOn == "" {
		o.FailOn = "must"
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	// Snapshot the bodies: RunSpecs rebuilds the tree (and so bodies)
	// while the pools run.
	run := map[string]func(*T){}
	for _, m := range selected {
		run[m.ID] = bodies[m.ID]
	}
	rank := map[string]int{} // read only: shared by every target's log
	for j, m := range catalogue {
		rank[m.ID] = j
	}
	// A target's environment (its HTTP client, redactor and case records)
	// is made when its pool starts, not for every target up front: a run
	// of thousands of tenants holds ParallelTargets of them at a time.
	// What could make one fail is checked before anything starts.
	for _, tg := range targets {
		if err := checkCACert(tg.CACertPEM); err != nil {
			return &UsageError{fmt.Errorf("target %s: %w", tg.Name, err)}
		}
	}
	newEnv := func(i int) *env {
		to := o
		to.Target = targets[i]
		to.index = i
		to.start = new(time.Time)
		e := &env{opts: to, records: map[string]*caseRecord{}, baselines: map[string]*baseline{}, baselineIDs: baseIDs, limiter: newLimiter(o.Rate), done: map[string]chan struct{}{}}
		e.redactor = reporter.NewRedactor(to.Target.Secrets()...)
		e.log.rank = rank
		e.client, _ = newHTTPClient(to) // its one error, checkCACert's, was ruled out above
		for _, m := range selected {
			e.done[m.ID] = make(chan struct{})
		}
		return e
	}
	// Start the pools in target order, at most ParallelTargets at a time. A
	// target holds its slot until it is judged and handed to each, not just
	// until its cases finish: targets are judged in order, so a target that
	// finished early waits for those before it, and memory stays bounded
	// by ParallelTargets targets (not by how far the pools run ahead).
	slots := make(chan struct{}, o.ParallelTargets)
	pools := make([]sync.WaitGroup, len(targets))
	for i := range pools {
		pools[i].Add(1)
	}
	started := make(chan *env, len(targets)) // in target order
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		for i := range targets {
			slots <- struct{}{}
			e := newEnv(i)
			wg := e.startPool(ctx, selected, run)
			started <- e
			go func(i int) {
				wg.Wait()
				pools[i].Done()
			}(i)
		}
	}()

	out := o.GinkgoOutput
	if out == nil {
		out = io.Discard
	}
	saved := formatter.ColorableStdOut
	formatter.ColorableStdOut = out
	defer func() { formatter.ColorableStdOut = saved }()
	defer func() { current = nil }()

	for i := range targets {
		e := <-started
		if o.Progress != nil && len(targets) > 1 {
			fmt.Fprintf(o.Progress, "== target %d/%d: %s\n", i+1, len(targets), e.opts.Target.Name)
		}
		rep := e.judge(ctx, selected)
		pools[i].Wait()
		e.finish(ctx, selected, rep)
		closeJWKSHost(e)                            // jwkshost.go
		e.client.GetClient().CloseIdleConnections() // no idle connection (and its goroutines) outlives the target
		err := each(i, rep)
		<-slots
		if err != nil {
			cancelAll()
			// Let the remaining pools start (as not run) and stop.
			for done := false; !done; {
				select {
				case <-slots:
				case <-dispatched:
					done = true
				}
			}
			for j := i + 1; j < len(pools); j++ {
				pools[j].Wait()
			}
			return err
		}
	}
	return nil
}

// judge runs Ginkgo over one target: each spec waits for its case's record
// and reports it; progress lines follow catalogue order.
func (e *env) judge(ctx context.Context, selected []Meta) *reporter.Report {
	o := e.opts
	prepare(o.Profile)
	sc, rc, _ := ginkgoConfig(o)
	current = e
	rep := &reporter.Report{
		SchemaVersion: reporter.SchemaVersion, TestPlanVersion: TestPlanVersion,
		Tool: reporter.Tool{Name: "smartconform", Version: o.Version},
		Target: reporter.Target{Name: o.Target.Name, FHIRBaseURL: o.Target.BaseURL, TokenEndpoint: o.Target.TokenURL,
			InsecureSkipVerify: o.Target.Insecure, Reference: o.Reference, Faults: o.Faults},
		Run: reporter.RunInfo{Start: time.Now(), Profile: o.Profile, Strict: o.Strict, LabelFilter: o.LabelFilter, Focus: o.Focus,
			FailOn: o.FailOn, Concurrency: o.Concurrency},
	}
	if o.Target.Insecure {
		rep.Notes = append(rep.Notes, "TLS certificate verification was switched off (insecureSkipVerify): the results say nothing about the server's certificate.")
	}
	e.results = map[string]reporter.Case{}
	n := 0
	ginkgo.ReportAfterEach(func(sr types.SpecReport) {
		if sr.LeafNodeType != types.NodeTypeIt {
			return
		}
		m, ok := metaByText(selected, sr.LeafNodeText)
		if !ok {
			return // filtered out
		}
		c, ok := e.judged(m)
		if !ok {
			return // interrupted before it finished: added in finish
		}
		e.results[m.ID] = c
		n++
		if o.Progress != nil {
			reporter.ProgressLine(o.Progress, n, len(selected), c, o.Color)
		}
	})
	ginkgo.RunSpecs(fakeT{}, "smartconform", sc, rc)
	return rep
}

// finish completes a target's report once its pool has stopped: every
// selected case is in it, in catalogue order.
func (e *env) finish(ctx context.Context, selected []Meta, rep *reporter.Report) {
	o := e.opts
	rep.Run.Start = *o.start // the pool's start: a later target is not timed from an earlier one's
	for _, m := range selected {
		c, ok := e.results[m.ID]
		if !ok {
			if c, ok = e.caseResult(m); !ok {
				c = caseFromMeta(m)
				c.Status, c.Reason = reporter.Errored, "not run: the run ended before this case finished ("+endReason(ctx)+")"
			}
		}
		rep.Cases = append(rep.Cases, c)
	}
	if n := e.clockNote(); n != "" {
		rep.Notes = append(rep.Notes, n)
	}
	if rep.Target.TokenEndpoint == "" && e.disc != nil {
		rep.Target.TokenEndpoint = e.disc.TokenURL // discovered
	}
	if e.discErr != nil && o.Target.TokenURL == "" {
		rep.Notes = append(rep.Notes, "Discovery failed: "+e.discErr.Error()+". Cases that need the token endpoint could not run.")
	}
	rep.ApplyWaivers(o.Waivers, rep.Run.Start)
	rep.Run.DurationMs = elapsed(time.Since(rep.Run.Start))
	rep.Generated = time.Now()
	rep.Summarize()
	if rep.Summary.Errors == 0 && rep.Summary.ExitCode == 3 {
		rep.Notes = append(rep.Notes, "No case could be judged: every selected case was skipped or not run (see each case's reason; is a client configured for the methods selected?). A run that judged nothing is incomplete, never conformant.")
	}
}

func metaByText(cat []Meta, text string) (Meta, bool) {
	// text is a Meta.SpecText, "[ID] Title" (a valid ID holds no "] "):
	// split once rather than build every case's text for every spec.
	rest, ok1 := strings.CutPrefix(text, "[")
	id, title, ok2 := strings.Cut(rest, "] ")
	if !ok1 || !ok2 {
		return Meta{}, false
	}
	for _, m := range cat {
		if m.ID == id && m.Title == title {
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

// judged is caseResult with the run's waivers applied.
func (e *env) judged(m Meta) (reporter.Case, bool) {
	c, ok := e.caseResult(m)
	if ok && len(e.opts.Waivers) > 0 {
		one := reporter.Report{Cases: []reporter.Case{c}}
		one.ApplyWaivers(e.opts.Waivers, *e.opts.start)
		c = one.Cases[0]
	}
	return c, ok
}

// caseResult turns a case's record into a model case; ok is false when the
// case has no record (the run ended before it finished).
func (e *env) caseResult(m Meta) (reporter.Case, bool) {
	e.mu.Lock()
	rec := e.records[m.ID]
	e.mu.Unlock()
	if rec == nil {
		return reporter.Case{}, false
	}
	c := caseFromMeta(m)
	c.DurationMs = elapsed(rec.duration)
	c.Findings, c.Exchanges = rec.findings, rec.exchanges
	switch {
	case rec.outcome == skipped:
		c.Status, c.Reason = reporter.Skipped, rec.reason
	case rec.outcome == notRun:
		c.Status, c.Reason = reporter.NotRun, rec.reason
	case rec.outcome == errored:
		c.Status, c.Reason = reporter.Errored, rec.reason
	case rec.failure != "":
		c.Status = reporter.Failed
	case len(rec.findings) > 0:
		c.Status = reporter.Warned
	default:
		c.Status = reporter.Passed
	}
	c.Hint = ""
	if c.Status == reporter.Failed || c.Status == reporter.Warned {
		c.Hint = rec.hint(e.opts.Strict)
	}
	sort.SliceStable(c.Findings, func(i, j int) bool { return c.Findings[i].Level < c.Findings[j].Level })
	return c, true
}

// DefaultConcurrency is how many cases run at once unless told otherwise.
const DefaultConcurrency = 4

// startPool runs the selected case bodies, at most Options.Concurrency at
// once, in catalogue order, the sweeps (Meta.Sweep) once every other case
// has finished; each spec waits for its own case (await). A case that waits
// for the JWKS host leaves the pool (T.leavePool), so waiting cases never
// stall the rest of the run.
// When ctx ends, cases not yet started are recorded as not run and
// in-flight requests are cancelled.
func (e *env) startPool(ctx context.Context, selected []Meta, run map[string]func(*T)) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(len(selected))
	e.slots = make(chan struct{}, e.opts.Concurrency)
	*e.opts.start = time.Now()
	one := func(m Meta) {
		defer wg.Done()
		var rec *caseRecord
		if ctx.Err() != nil {
			rec = &caseRecord{meta: m, outcome: errored, reason: "not run: the run ended before this case started (" + endReason(ctx) + ")"}
		} else {
			if e.opts.CaseStarted != nil {
				e.opts.CaseStarted(e.opts.index, m)
			}
			rec = e.execute(ctx, m, run[m.ID])
		}
		if !rec.slotless {
			<-e.slots
		}
		e.mu.Lock()
		e.records[m.ID] = rec
		e.mu.Unlock()
		if e.opts.CaseFinished != nil {
			if c, ok := e.judged(m); ok {
				e.opts.CaseFinished(e.opts.index, c)
			}
		}
		close(e.done[m.ID])
	}
	go func() {
		var sweeps []Meta
		for _, m := range selected {
			if m.Sweep {
				sweeps = append(sweeps, m)
				continue
			}
			e.slots <- struct{}{}
			go one(m)
		}
		if len(sweeps) > 0 {
			for _, m := range selected {
				if !m.Sweep {
					<-e.done[m.ID]
				}
			}
		}
		for _, m := range sweeps {
			e.slots <- struct{}{}
			go one(m)
		}
	}()
	return &wg
}

// leavePool gives the case's slot back to the pool for the rest of the
// case: for the cases that take the JWKS host, one at a time (their own
// lane beside the pool, so at most Concurrency+1 case bodies run at once).
// They mostly wait (for the host, for a served set to go stale), and
// waiting for a slot again after that wait would queue them behind the
// browser flows.
func (t *T) leavePool() {
	if !t.rec.slotless {
		t.rec.slotless = true
		<-t.env.slots
	}
}

// await is the spec side of the pool: it waits for the case's record, or
// for the spec to be interrupted.
func (e *env) await(ctx context.Context, m Meta) *caseRecord {
	select {
	case <-e.done[m.ID]:
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.records[m.ID]
	case <-ctx.Done():
		return &caseRecord{meta: m, outcome: errored, reason: "interrupted"}
	}
}

// endReason says why a run's context ended.
func endReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the run's --timeout passed"
	}
	if ctx.Err() != nil {
		return "interrupted"
	}
	return "the run was interrupted or timed out"
}
