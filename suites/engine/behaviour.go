package engine

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/smartconform/smartconform/reporter"
)

// Behaviours of the server that a finding can record. A case's hint is
// chosen by what the server did: Meta.Hint when the case's own requirement
// failed (the server issued what it must refuse, refused what it must
// accept, or a check of the case body itself did not hold); otherwise the
// hint of the behaviour, which Meta.Hints may override per case.
const (
	// BehaviourOwn: the case's own requirement failed (Meta.Hint).
	BehaviourOwn = "own"
	// BehaviourIssued: a token or a success answered a request the case
	// says must be refused (Meta.Hint by default).
	BehaviourIssued = "issued"
	// BehaviourRefused: a request the case says must be accepted was
	// refused (Meta.Hint by default).
	BehaviourRefused = "refused"
	// BehaviourServerError: the server answered 5xx.
	BehaviourServerError = "server-error"
	// BehaviourRedirect: the server answered with a redirect.
	BehaviourRedirect = "redirect"
	// BehaviourStatus: the server refused, as it must, with a status the
	// case does not allow (or accepted with 201).
	BehaviourStatus = "wrong-status"
	// BehaviourCode: the server refused, as it must, with an error code
	// that does not fit the failure.
	BehaviourCode = "wrong-code"
	// BehaviourMalformed: the answer lacks what every answer of its kind
	// has: a §5.2 error that is not a JSON object or has no error code, a
	// token response that is not a JSON object or has no access_token.
	BehaviourMalformed = "malformed-answer"
)

var knownBehaviour = map[string]bool{BehaviourOwn: true, BehaviourIssued: true, BehaviourRefused: true, BehaviourServerError: true,
	BehaviourRedirect: true, BehaviourStatus: true, BehaviourCode: true, BehaviourMalformed: true}

// behaviourRank orders behaviours when several findings decide a case: the
// one that explains the others first.
var behaviourRank = map[string]int{BehaviourServerError: 0, BehaviourRedirect: 1, BehaviourOwn: 2, BehaviourIssued: 2, BehaviourRefused: 2,
	BehaviourMalformed: 3, BehaviourStatus: 4, BehaviourCode: 5}

// cause is why a finding was recorded: the server's behaviour and the hint
// that describes it ("" kind: the case's own check).
type cause struct {
	kind, hint string
}

// checkAs is Check, recording the finding as caused by behaviour kind with
// the engine's hint for it.
func (t *T) checkAs(kind, hint string, level Level, check, expected string, actual any, m types.GomegaMatcher) bool {
	ok := t.Check(level, check, expected, actual, m)
	if !ok {
		t.rec.causes[len(t.rec.causes)-1] = cause{kind: kind, hint: hint}
	}
	return ok
}

// fact records a finding that needs no matcher: what the server did is the
// finding.
func (t *T) fact(kind, hint string, level Level, check, expected, actual string) {
	t.addFinding(level, check, expected, actual)
	t.rec.causes[len(t.rec.causes)-1] = cause{kind: kind, hint: hint}
}

// serverError records that r is a 5xx: a failure at every level, since a
// 5xx is never a correct answer to anything a case sends.
func (t *T) serverError(r *Response, label string) {
	r.judged5xx = true
	what, check := "this request", "status is not a server error"
	if label != "" {
		what = "the " + strings.ToLower(label)
		check += " (" + label + ")"
	}
	t.fact(BehaviourServerError, fmt.Sprintf("The server answered %d to %s: it failed on the request instead of answering it (an RFC 6749 §5.2 error or a token), so whether the check this case tests is in place cannot be told. A 5xx is never a correct answer; the server's log should show what broke.", r.Status, what),
		MUST, check, "a 4xx error or a success: a 5xx is never a correct answer", DescribeAnswer(r))
}

// redirect records that r is a redirect, at level.
func (t *T) redirect(level Level, r *Response) {
	t.fact(BehaviourRedirect, fmt.Sprintf("The server answered %d, a redirect to %s, instead of answering the request itself: a token endpoint answers with a token or an RFC 6749 §5.2 error. A proxy, a login page or a trailing-slash rule may stand in front of it.", r.Status, t.env.redactor.URL(r.Header.Get("Location"))),
		level, "status is not a redirect", "an answer to the request itself, not a redirect", DescribeAnswer(r))
}

// unjudged5xx fails the case for each of its answers that was a 5xx and
// that no judge helper looked at: whatever a case body checks, a 5xx is
// never a correct answer.
func (t *T) unjudged5xx() {
	for _, a := range t.rec.answers {
		if a.resp.Status >= 500 && !a.resp.judged5xx {
			t.serverError(a.resp, a.label)
		}
	}
}

type answered struct {
	label string
	resp  *Response
}

// hint chooses the hint of a judged record from its deciding findings (the
// failing ones of a failed case, every finding of a warned one): a 5xx or a
// redirect first (the case's own checks of such an answer are moot), then
// the case's own requirement (Meta.Hint), then what the answer got wrong
// (malformed, status, code). Meta.Hints overrides the hint of a behaviour.
func (rec *caseRecord) hint(strict bool) string {
	m := rec.meta
	deciding := func(f reporter.Finding) bool { return rec.failure == "" || f.Level == string(MUST) || strict }
	best, bestRank := cause{}, len(behaviourRank)+1
	for i, f := range rec.findings {
		if !deciding(f) {
			continue
		}
		c := cause{kind: BehaviourOwn}
		if i < len(rec.causes) && rec.causes[i].kind != "" {
			c = rec.causes[i]
		}
		if r := behaviourRank[c.kind]; r < bestRank {
			best, bestRank = c, r
		}
	}
	if h, ok := m.Hints[best.kind]; ok {
		return h
	}
	if best.hint == "" {
		return m.Hint // the case's own requirement failed
	}
	return best.hint
}

// statusHint describes a refusal with a status the case does not allow.
func statusHint(r *Response, want string) string {
	return fmt.Sprintf("The server refused the request, as it must, but answered %d where %s is required: the check itself is in place; the status it maps this failure to is not (RFC 6749 §5.2).", r.Status, want)
}
