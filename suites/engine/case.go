package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

type outcome int

const (
	judged  outcome = iota // the findings decide
	skipped                // not applicable here
	notRun                 // a prerequisite failed
	errored                // the harness could not get or judge an answer
)

// caseRecord is what a case leaves behind for the results model.
type caseRecord struct {
	meta      Meta
	outcome   outcome
	reason    string
	findings  []reporter.Finding
	exchanges []reporter.Exchange
	duration  time.Duration
	failure   string // set by conclude when the findings fail the case
	// causes parallels findings: the behaviour each finding records.
	causes []cause
	// answers are the responses the case got (T.Do), for the 5xx rule.
	answers []answered
	// noAnswer is set when a request got no answer (Do) or discovery
	// failed: an error of such a case makes the cases that need it errors
	// too; any other error (a login script that cannot be driven) makes
	// them not run.
	noAnswer bool
	// slotless is set when the case left the pool (T.leavePool).
	slotless bool
}

// T is a case's handle on the target: it sends requests (recording every
// exchange, redacted), collects findings, and ends the case.
type T struct {
	ctx  context.Context
	Meta Meta
	env  *env
	rec  *caseRecord
	// sweepOffenders counts the exchanges a sweep found breaking its rule.
	sweepOffenders int
	sweepMore      []string // senders of the offenders beyond MaxSweepEvidence
}

// abortCase is how Skip, NotRun and Errorf end a case body early. Bodies run
// outside Ginkgo (on the worker pool, see run.go), so they never call
// Ginkgo's Skip or Fail themselves; the spec judges the record afterwards.
type abortCase struct{}

// execute runs one case body and returns its record. A panic other than
// abortCase is a harness error, reported as such, never as a verdict.
func (e *env) execute(ctx context.Context, m Meta, body func(t *T)) (rec *caseRecord) {
	rec = &caseRecord{meta: m}
	ctx = sentBy(ctx, sender{caseID: m.ID})
	t := &T{ctx: ctx, Meta: m, env: e, rec: rec}
	if p := m.NotApplicableUnder(); p != "" {
		rec.outcome, rec.reason = skipped, fmt.Sprintf("not applicable under the %s profile (see the case's policy)", p)
		return rec
	}
	start := time.Now()
	defer func() {
		rec.duration = time.Since(start)
		if p := recover(); p != nil {
			if _, ok := p.(abortCase); !ok {
				rec.outcome = errored
				rec.reason = e.redactor.Text(fmt.Sprintf("harness error: %v", p))
			}
		}
		if rec.outcome == judged {
			t.unjudged5xx()
			t.conclude()
		}
	}()
	body(t)
	return rec
}

// judgeRecord is the body of a case's Ginkgo spec: it reports the record's
// outcome to Ginkgo.
func judgeRecord(rec *caseRecord) {
	switch rec.outcome {
	case skipped:
		ginkgo.Skip(rec.reason)
	case notRun:
		ginkgo.Skip("not run: " + rec.reason)
	case errored:
		ginkgo.Fail(rec.reason)
	}
	if rec.failure != "" {
		ginkgo.Fail(rec.failure)
	}
}

// Target is the configuration of the server under test.
func (t *T) Target() *config.Target { return t.env.opts.Target }

// Context is the case's context: cancelled on interrupt or timeout.
func (t *T) Context() context.Context { return t.ctx }

// Skip ends the case as not applicable to this target.
func (t *T) Skip(reason string) {
	t.rec.outcome, t.rec.reason = skipped, reason
	panic(abortCase{})
}

// NotRun ends the case because a prerequisite case failed.
func (t *T) NotRun(reason string) {
	t.rec.outcome, t.rec.reason = notRun, reason
	panic(abortCase{})
}

// Errorf ends the case as an error: the harness could not get or judge an
// answer (unreachable target, failed discovery, unusable configuration).
func (t *T) Errorf(format string, a ...any) {
	msg := t.env.redactor.Text(fmt.Sprintf(format, a...))
	t.rec.outcome, t.rec.reason = errored, msg
	panic(abortCase{})
}

// Check records a finding at level when actual does not satisfy matcher.
// check says what is being checked; expected says what the spec wants, in
// words a person reads. It returns whether the check held.
func (t *T) Check(level Level, check, expected string, actual any, matcher types.GomegaMatcher) bool {
	ok, err := matcher.Match(actual)
	if err == nil && ok {
		return true
	}
	act := describe(actual)
	if err != nil {
		act += " (" + err.Error() + ")"
	}
	t.addFinding(level, check, expected, act)
	return false
}

// addFinding records a finding of the case's own (its cause is set by the
// judge helpers that record a behaviour).
func (t *T) addFinding(level Level, check, expected, actual string) {
	t.rec.findings = append(t.rec.findings, reporter.Finding{
		Level: string(level), Check: check, Expected: expected, Actual: t.env.redactor.Text(actual),
	})
	t.rec.causes = append(t.rec.causes, cause{})
}

// Must records a MUST finding; Should a SHOULD finding.
func (t *T) Must(check, expected string, actual any, m types.GomegaMatcher) bool {
	return t.Check(MUST, check, expected, actual, m)
}

// Should records a SHOULD finding (a warning; a failure under --strict).
func (t *T) Should(check, expected string, actual any, m types.GomegaMatcher) bool {
	return t.Check(SHOULD, check, expected, actual, m)
}

// Level records a finding at the case's own level.
func (t *T) Level(check, expected string, actual any, m types.GomegaMatcher) bool {
	return t.Check(t.Meta.Level, check, expected, actual, m)
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if x == "" {
			return `"" (empty)`
		}
		return fmt.Sprintf("%q", x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case int, int64, float64, bool:
		return fmt.Sprint(x)
	case fmt.Stringer:
		return x.String()
	}
	return format.Object(v, 0)
}

// conclude turns the findings into the case's verdict: a MUST finding fails
// it, and so does a SHOULD finding under --strict; other SHOULD findings
// leave it passed with warnings.
func (t *T) conclude() {
	var failing []reporter.Finding
	for _, f := range t.rec.findings {
		if f.Level == string(MUST) || t.env.opts.Strict {
			failing = append(failing, f)
		}
	}
	if len(failing) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", t.Meta.ID, t.Meta.Requirement)
	for _, f := range failing {
		fmt.Fprintf(&b, "  [%s] %s\n    expected: %s\n    actual:   %s\n", f.Level, f.Check, f.Expected, f.Actual)
	}
	t.rec.failure = strings.TrimRight(b.String(), "\n")
}

// elapsed is a duration in milliseconds, for the model.
func elapsed(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
