package engine

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The target's clock. A server that allows little or no clock skew refuses
// an assertion the harness dates by its own clock when the two disagree: an
// iat ahead of the server's clock, or an exp more than five minutes ahead
// of it (SAL client-confidential-asymmetric: exp "no more than five minutes
// in the future"). The harness reads the Date header (RFC 9110 §6.6.1) of
// the first answer that has one (discovery, or the first token answer),
// dates every valid assertion by the server's clock, and reports the skew.

// MinReportedSkew is the smallest skew the harness acts on and reports:
// Date has a resolution of one second, so less is noise.
const MinReportedSkew = 2 * time.Second

// IssuedBackdate is how far before the server's now a valid assertion's iat
// is set, so that a second of Date resolution or of transit never puts iat
// in the server's future; exp stays within five minutes of the server's
// clock (iat + 4 minutes).
const IssuedBackdate = 5 * time.Second

type clock struct {
	mu     sync.Mutex
	known  bool
	skew   time.Duration // server clock − harness clock
	source string        // the request whose answer gave it
	probe  sync.Once
}

// observeClock records the skew from an answer's Date header, once.
func (e *env) observeClock(h http.Header, label string, sent time.Time, took time.Duration) {
	d := h.Get("Date")
	if d == "" {
		return
	}
	e.clock.mu.Lock()
	defer e.clock.mu.Unlock()
	if e.clock.known {
		return
	}
	at, err := http.ParseTime(d)
	if err != nil {
		return
	}
	// Date is truncated to the second: the server's time was in
	// [at, at+1s) while the answer was made, about half-way through.
	local := sent.Add(took / 2)
	e.clock.skew = at.Add(500 * time.Millisecond).Sub(local).Round(time.Second)
	e.clock.known, e.clock.source = true, label
}

func (e *env) clockKnown() bool {
	e.clock.mu.Lock()
	defer e.clock.mu.Unlock()
	return e.clock.known
}

// clockShift is the skew the harness corrects for: 0 below MinReportedSkew.
func (e *env) clockShift() time.Duration {
	e.clock.mu.Lock()
	defer e.clock.mu.Unlock()
	if !e.clock.known || (e.clock.skew < MinReportedSkew && e.clock.skew > -MinReportedSkew) {
		return 0
	}
	return e.clock.skew
}

// assertionNow is the time a valid assertion is dated by: the server's
// clock (as far as its Date header tells), less IssuedBackdate. Before the
// first answer it reads discovery, or, with no FHIR base configured, sends
// one HEAD request to the token endpoint, for its Date header.
func (e *env) assertionNow(ctx context.Context) time.Time {
	if !e.clockKnown() {
		e.clock.probe.Do(func() {
			if e.opts.Target.BaseURL != "" {
				_, _ = e.discovery(ctx)
			}
			if !e.clockKnown() && e.opts.Target.TokenURL != "" {
				_, _, _ = e.send(ctx, Request{Label: "Clock probe (the server's Date header)", Method: http.MethodHead, URL: e.opts.Target.TokenURL})
			}
		})
	}
	return time.Now().Add(e.clockShift()).Add(-IssuedBackdate)
}

// AssertionNow is the time a valid assertion is dated by (see assertionNow).
func (t *T) AssertionNow() time.Time { return t.env.assertionNow(t.ctx) }

// ServerNow is the harness's best reading of the server's clock: for time
// claims a case sets relative to the server.
func (t *T) ServerNow() time.Time { return time.Now().Add(t.env.clockShift()) }

// clockNote is the report's note on the server's clock, if it is off.
func (e *env) clockNote() string {
	shift := e.clockShift()
	if shift == 0 {
		return ""
	}
	dir, n := "ahead of", shift
	if shift < 0 {
		dir, n = "behind", -shift
	}
	e.clock.mu.Lock()
	src := e.clock.source
	e.clock.mu.Unlock()
	return fmt.Sprintf("The server's clock is %d s %s the harness's (Date header of the %s). Valid assertions were dated by the server's clock (iat %d s before it, exp within five minutes of it); time claims that must be refused were set %s off that clock.",
		int(n.Seconds()), dir, src, int(IssuedBackdate.Seconds()), SkewMargin)
}
