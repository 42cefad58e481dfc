package engine

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/smartconform/smartconform/reporter"
)

// Sweeps (Meta.Sweep) judge rules that every answer of an endpoint must
// follow (RFC 6749 §5.1 and §5.2, RFC 7235) once per run, over every
// exchange the run recorded: the exchanges of every case, the baseline
// requests and discovery. The pool runs them after every other selected
// case of the target has finished, so what they see does not depend on
// concurrency.

// sender says who sent a request: a case, a method's baseline (sent once per
// run, on behalf of every case that needs it), or the run's discovery.
type sender struct {
	caseID string
	note   string // "baseline", "discovery"
}

type senderKey struct{}

// sentBy marks ctx as the context of requests sent by s.
func sentBy(ctx context.Context, s sender) context.Context {
	return context.WithValue(ctx, senderKey{}, s)
}

func senderOf(ctx context.Context) sender {
	s, _ := ctx.Value(senderKey{}).(sender)
	return s
}

// baselineSender marks ctx for the baseline request of a method.
func (e *env) baselineSender(ctx context.Context, method string) context.Context {
	return sentBy(ctx, sender{caseID: e.baselineIDs[method], note: "baseline " + method + " request, sent once per run"})
}

// discoverySender marks ctx for the run's discovery request.
func discoverySender(ctx context.Context) context.Context {
	return sentBy(ctx, sender{note: "the run's discovery request"})
}

// Recorded is one exchange of the run, as a sweep sees it.
type Recorded struct {
	// CaseID is the case that sent it; for a baseline request, the
	// method's baseline case; "" for the run's discovery request.
	CaseID string
	// Note says on whose behalf it was sent when that is not CaseID's own
	// body ("baseline private_key_jwt request…", "the run's discovery…").
	Note string
	// Request is the request as the case built it; SentHeader the headers
	// as they went on the wire.
	Request    Request
	SentHeader http.Header
	// Response is the raw answer (nil: none came).
	Response *Response
	// Evidence is the redacted exchange, as the sending case reports it.
	Evidence reporter.Exchange
	rank     int
	seq      int
}

// Sender names who sent the exchange, for findings: "SYM-BASIC-02",
// "ASYM-POS-01 (baseline …)", "(the run's discovery request)".
func (r Recorded) Sender() string {
	switch {
	case r.Note == "":
		return r.CaseID
	case r.CaseID == "":
		return "(" + r.Note + ")"
	}
	return r.CaseID + " (" + r.Note + ")"
}

// Endpoint is the endpoint the request went to: Request.Endpoint, and ""
// counts as the token endpoint for a POST.
func (r Recorded) Endpoint() string {
	if r.Request.Endpoint != "" {
		return r.Request.Endpoint
	}
	if r.Request.Method == "" || r.Request.Method == http.MethodPost {
		return EndpointToken
	}
	return ""
}

// Token says whether the exchange went to the token endpoint and was
// answered.
func (r Recorded) Token() bool { return r.Response != nil && r.Endpoint() == EndpointToken }

// IssuedToken says whether the answer carries an access token: a 2xx whose
// JSON body holds a non-empty access_token.
func (r Recorded) IssuedToken() bool {
	return r.Token() && r.Response.Status/100 == 2 && r.Response.Str("access_token") != ""
}

// OAuthError says whether the answer is a token endpoint error response
// (RFC 6749 §5.2): a 400 or 401, or another 4xx whose JSON body has an
// error member. A 429 is rate limiting, not an answer to the request, and a
// 5xx is judged by the case that sent the request.
func (r Recorded) OAuthError() bool {
	if !r.Token() {
		return false
	}
	s := r.Response.Status
	if s < 400 || s >= 500 || s == http.StatusTooManyRequests {
		return false
	}
	return s == http.StatusBadRequest || s == http.StatusUnauthorized || r.Response.Has("error")
}

// UsedAuthorizationHeader says whether the request carried an
// Authorization header, and its scheme.
func (r Recorded) UsedAuthorizationHeader() (string, bool) {
	h := r.SentHeader.Get("Authorization")
	if h == "" {
		h = r.Request.Header.Get("Authorization")
	}
	if strings.TrimSpace(h) == "" {
		return "", false
	}
	scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
	return scheme, true
}

// runLog records every exchange of a target's run.
type runLog struct {
	mu      sync.Mutex
	entries []Recorded
	rank    map[string]int // case ID → catalogue position
}

func (l *runLog) add(r Recorded) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.seq = len(l.entries)
	l.entries = append(l.entries, r)
}

// Exchanges returns every exchange the run recorded, in catalogue order of
// the case that sent it (discovery first, a baseline request just before
// its baseline case), each case's in the order it sent them. Only a sweep
// may ask: it runs after every other case, so the list is complete.
func (t *T) Exchanges() []Recorded {
	if !t.Meta.Sweep {
		t.Errorf("harness error: %s asked for the run's exchanges but is not a sweep (Meta.Sweep)", t.Meta.ID)
	}
	l := &t.env.log
	l.mu.Lock()
	out := append([]Recorded(nil), l.entries...)
	l.mu.Unlock()
	for i := range out {
		r, ok := l.rank[out[i].CaseID]
		switch {
		case out[i].CaseID == "":
			r = -1
		case !ok:
			r = len(l.rank)
		}
		out[i].rank = r
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if (a.Note != "") != (b.Note != "") {
			return a.Note != "" // a baseline before its case's own requests
		}
		return a.seq < b.seq
	})
	return out
}

// MaxSweepEvidence caps how many offending exchanges a sweep lists as its
// own evidence and findings (the rest are counted).
const MaxSweepEvidence = 12

// Offending records, for a sweep, that exchange x breaks the rule: a
// finding at level naming the case that sent it, and (up to
// MaxSweepEvidence) the exchange as evidence; SweepDone counts the rest.
func (t *T) Offending(x Recorded, level Level, check, expected, actual string) {
	t.sweepOffenders++
	if t.sweepOffenders > MaxSweepEvidence {
		t.sweepMore = append(t.sweepMore, x.Sender())
		return
	}
	ev := x.Evidence
	ev.Label = x.Sender() + ": " + ev.Label
	t.rec.exchanges = append(t.rec.exchanges, ev)
	t.addFinding(level, check+" — "+x.Sender()+": "+x.Request.Label, expected, actual)
}

// Sweep judges every exchange of the run that applies (what names them,
// for SweepDone) with judge, at the case's level under the run's profile,
// and ends the sweep: judge records each exchange that breaks the rule with
// Offending.
func (t *T) Sweep(what string, applies func(Recorded) bool, judge func(x Recorded, level Level)) {
	lvl := t.ProfileLevel()
	n := 0
	for _, x := range t.Exchanges() {
		if applies(x) {
			n++
			judge(x, lvl)
		}
	}
	t.SweepDone(n, what, lvl)
}

// SweepDone ends a sweep: when no exchange of the run was relevant (what
// names what it looked for), an error if some request of the run got no
// answer (the target could not be judged), else skipped; otherwise it notes
// the offenders beyond MaxSweepEvidence.
func (t *T) SweepDone(relevant int, what string, level Level) {
	if relevant == 0 {
		for _, x := range t.Exchanges() {
			if x.Response == nil {
				t.Errorf("no exchange of this run is %s, and %s got no answer (%s): the rule could not be judged", what, x.Sender(), x.Evidence.Error)
			}
		}
		t.Skip("no exchange of this run is " + what + " (a filtered run, or the cases that send such requests were skipped or not run), so the rule could not be judged")
	}
	if n := len(t.sweepMore); n > 0 {
		// Name every further sender, in order, with how many of its
		// exchanges break the rule.
		var names []string
		count := map[string]int{}
		for _, s := range t.sweepMore {
			if count[s] == 0 {
				names = append(names, s)
			}
			count[s]++
		}
		for i, s := range names {
			if count[s] > 1 {
				names[i] = s + " (×" + strconv.Itoa(count[s]) + ")"
			}
		}
		t.addFinding(level, "further exchanges breaking the rule", "none",
			plural(n, "more exchange")+", sent by "+strings.Join(names, ", ")+" (evidence shown for the first "+strconv.Itoa(MaxSweepEvidence)+" only)")
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return strconv.Itoa(n) + " " + s + "s"
}
