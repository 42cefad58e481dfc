package engine

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/reporter"
)

// Rejection says how a negative case's answer must look: an RFC 6749 §5.2
// error. ExpectRejected judges the case's own requirement: no token, no
// 2xx or redirect, never a 5xx, a status in the allowed set, a JSON object
// with an error code, the code fitting the failure (SHOULD). The rules
// every error answer follows (the WWW-Authenticate challenge, the media
// type, the character set, the cache headers) are judged once per run by
// the sweeps, over every exchange.
type Rejection struct {
	// Statuses allowed. Form-based client authentication failing may be 400
	// or 401 (RFC 6749 §5.2 "MAY return an HTTP 401"; policy AMB-ERR-1).
	Statuses []int
	// Codes accepted for the error member; another registered code is a
	// warning (requirements ERR-07: the code should fit the failure).
	Codes []string
	// HeaderScheme is set when the client tried the Authorization header:
	// the answer must then be 401 (RFC 6749 §5.2; the challenge it carries
	// is judged by a sweep).
	HeaderScheme string
	// Lenient400 downgrades "must be 401" to a warning (policy AMB-ERR-1 for
	// a misplaced Bearer, which is arguably not a client-auth scheme).
	Lenient400 bool
	// ChallengeOn401 is ignored: the WWW-Authenticate challenge of every 401
	// answering a request that used the Authorization header is judged once
	// per run by the ERR-CHAL-01 sweep. Kept so that cases written before
	// the sweep still compile.
	//
	// Deprecated: drop it from new cases.
	ChallengeOn401 bool
	// Level, if SHOULD, records every finding as a warning: the case's
	// requirement is a SHOULD (a derived server obligation). A 5xx fails
	// whatever the level.
	Level Level
}

// At returns the rejection judged at level l (SHOULD: every finding warns).
func (x Rejection) At(l Level) Rejection {
	x.Level = l
	return x
}

// InvalidClient is the usual rejection of failed form-based client
// authentication: 400 or 401, invalid_client (invalid_request accepted:
// policy AMB-ERR-2, a malformed credential may be called a bad request).
var InvalidClient = Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client", "invalid_request"}}

// §5.2: error and error_description are %x20-21 / %x23-5B / %x5D-7E;
// error_uri is %x21 / %x23-5B / %x5D-7E.
var (
	errTextRE = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]*$`)
	errURIRE  = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]*$`)
)

// ErrorTextOK says whether an error or error_description value uses only the
// characters RFC 6749 §5.2 allows; ErrorURIOK the same for error_uri.
func ErrorTextOK(s string) bool { return errTextRE.MatchString(s) }

// ErrorURIOK says whether an error_uri uses only the characters §5.2 allows.
func ErrorURIOK(s string) bool { return errURIRE.MatchString(s) }

// ExpectRejected judges an answer that must refuse the request.
func (t *T) ExpectRejected(r *Response, x Rejection) {
	level := MUST
	if x.Level == SHOULD {
		level = SHOULD
	}
	switch {
	case r.Status >= 500:
		t.serverError(r, "")
		return
	case r.Status/100 == 2:
		t.fact(BehaviourIssued, "", level, "status is not a success", "an RFC 6749 §5.2 error (4xx), no access token", DescribeAnswer(r)+tokenNote(r))
		return
	case r.Str("access_token") != "":
		t.fact(BehaviourIssued, "", level, "no access token is issued", "no access_token member in the refusal", DescribeAnswer(r)+tokenNote(r))
		return
	case r.Status/100 == 3:
		t.redirect(level, r)
		return
	case r.Status < 400:
		t.fact(BehaviourStatus, statusHint(r, "a 4xx error"), level, "status", "a 4xx error", DescribeAnswer(r))
		return
	}
	allowed := x.Statuses
	switch {
	case x.HeaderScheme != "":
		l := level
		if x.Lenient400 {
			l = SHOULD
		}
		t.checkAs(BehaviourStatus, statusHint(r, "401"), l, "status when the client used the Authorization header",
			"401 (RFC 6749 §5.2: the client tried to authenticate via the Authorization header)", r.Status, Equal(401))
	case r.Status == http.StatusForbidden:
		t.checkAs(BehaviourStatus, statusHint(r, ints(allowed)), SHOULD, "status", "one of "+ints(allowed)+" (RFC 6749 defines no 403 at the token endpoint)", r.Status, BeElementOf(intsAny(allowed)...))
	default:
		t.checkAs(BehaviourStatus, statusHint(r, ints(allowed)), level, "status", "one of "+ints(allowed), r.Status, BeElementOf(intsAny(allowed)...))
	}
	malformed := fmt.Sprintf("The server refused the request (%d), but its answer is not an RFC 6749 §5.2 error: a JSON object with an error code is what tells a client why. The refusal itself is in place; the error format is not.", r.Status)
	if !t.checkAs(BehaviourMalformed, malformed, level, "error body", "a JSON object (RFC 6749 §5.2)", ErrText(r.JSONErr), BeEmpty()) {
		return
	}
	code, _ := r.JSON["error"].(string)
	asCode := func(v any) string { s, _ := v.(string); return s }
	if !t.checkAs(BehaviourMalformed, malformed, level, "error member", "a non-empty string error code (RFC 6749 §5.2)", r.JSON["error"], WithTransform(asCode, Not(BeEmpty()))) {
		return
	}
	if len(x.Codes) > 0 {
		t.checkAs(BehaviourCode, fmt.Sprintf("The server refused the request, as it must, but with error %q where %s fits this failure (RFC 6749 §5.2 error codes): the check is in place; the code it reports is not the one clients act on.", code, strings.Join(x.Codes, " or ")),
			SHOULD, "error code fits the failure", "one of "+strings.Join(x.Codes, ", "), code, BeElementOf(stringsAny(x.Codes)...))
	}
}

// tokenNote says that an answer carries a token, without showing it.
func tokenNote(r *Response) string {
	if r.Str("access_token") != "" {
		return " with an access_token"
	}
	return ""
}

// ExpectToken judges an answer that must issue an access token: 200 (201
// warns, policy AMB-TRESP-4) with a JSON object holding a non-empty string
// access_token. The rest of the token response is judged by TRESP cases.
func (t *T) ExpectToken(r *Response) {
	switch {
	case r.Status >= 500:
		t.serverError(r, "")
		return
	case r.Status/100 == 3:
		t.redirect(MUST, r)
		return
	case r.Status >= 400:
		t.fact(BehaviourRefused, "", MUST, "the request is accepted", "200 with an access token (RFC 6749 §5.1)", DescribeAnswer(r))
		return
	case r.Status == http.StatusCreated:
		t.checkAs(BehaviourStatus, "The server issued the token with 201; RFC 6749 §5.1 answers a token request with 200.", SHOULD, "success status", "200 (RFC 6749 §5.1)", r.Status, Equal(200))
	case r.Status != http.StatusOK:
		t.fact(BehaviourStatus, fmt.Sprintf("The server answered %d to a valid token request; RFC 6749 §5.1 answers with 200 and the token.", r.Status), MUST, "success status", "200 (RFC 6749 §5.1)", DescribeAnswer(r))
		return
	}
	malformed := "The server accepted the request, but its answer is not an RFC 6749 §5.1 token response (a JSON object with a string access_token), so a client gets no usable token."
	if !t.checkAs(BehaviourMalformed, malformed, MUST, "token response body", "a JSON object (RFC 6749 §5.1)", ErrText(r.JSONErr), BeEmpty()) {
		return
	}
	if t.checkAs(BehaviourMalformed, malformed, MUST, "access_token", "a non-empty string (RFC 6749 §5.1)", fmt.Sprintf("%T", r.JSON["access_token"]), Equal("string")) {
		t.checkAs(BehaviourMalformed, malformed, MUST, "access_token", "a non-empty string (RFC 6749 §5.1)", r.Str("access_token") != "", BeTrue())
	}
}

// DescribeAnswer is "200", or the status with the error code and text.
func DescribeAnswer(r *Response) string {
	s := fmt.Sprint(r.Status)
	if r.Status == 200 {
		return s
	}
	if c := r.Str("error"); c != "" {
		s += " " + c
	}
	if d := r.Str("error_description"); d != "" {
		s += ` ("` + d + `")`
	}
	return s
}

func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " or ")
}

func intsAny(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func stringsAny(v []string) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// ProfileLevel is the case's level under the run's profile (Meta.Profiles,
// else Meta.Level: the engine hands each case its metadata as the profile
// sees it, Meta.ForProfile). A case not applicable under the profile is
// skipped before its body runs; this is a backstop.
func (t *T) ProfileLevel() Level {
	if t.Meta.NotApplicableUnder() != "" || t.Meta.Level == NotApplicable {
		t.Skip(fmt.Sprintf("not applicable under the %s profile", t.env.opts.Profile))
	}
	return t.Meta.Level
}

// AnyValidRequest returns a fresh valid client_credentials request of the
// first configured confidential method (private_key_jwt, then Basic, then
// post) whose baseline is accepted. Cases that judge the token endpoint
// rather than one authentication method start from it, so a server whose
// private_key_jwt is broken (which that method's own cases judge) still
// has its token endpoint judged through a client secret. When no method's
// baseline is accepted, the case is not run, naming the first method's.
func (t *T) AnyValidRequest() (string, Request) {
	m, _ := t.validMethod()
	req, err := t.env.validRequest(t.ctx, m)
	if err != nil {
		t.Errorf("not run: %v", err)
	}
	return m, req
}

// BaselineAnswer returns the accepted answer to the baseline request of
// AnyValidRequest's method (sent once per run) and when it came, recorded
// as this case's evidence: a valid token response, for cases that judge
// what a token response and its token hold (media type, token_type,
// expires_in, scope, the token's claims) and so need no request of their
// own. Cases that use the token (which may expire, be revoked, or outlive
// its signing key during a run) get a fresh one instead.
func (t *T) BaselineAnswer() (string, *Response, time.Time) {
	m, b := t.validMethod()
	ex := b.ex
	ex.Label = fmt.Sprintf("Token request (the run's %s baseline, sent once; shared by the cases that judge a token response)", m)
	t.rec.exchanges = append(t.rec.exchanges, ex)
	t.rec.answers = append(t.rec.answers, answered{label: ex.Label, resp: b.resp})
	return m, b.resp, ex.At.Add(b.resp.Elapsed)
}

// validMethod is the first configured confidential method whose baseline
// is accepted, with that baseline; the case ends (skipped, not run or an
// error) when there is none.
func (t *T) validMethod() (string, *baseline) {
	first := ""
	for _, m := range []string{PrivateKeyJWT, ClientSecretBasic, ClientSecretPost} {
		if !t.clientFor(m) {
			continue
		}
		if first == "" {
			first = m
		}
		if b := t.env.baseline(t.ctx, m); b.setup {
			t.Errorf("not run: %s", b.why)
		} else if b.ok {
			return m, b
		}
	}
	if first == "" {
		t.Skip("no confidential client is configured")
	}
	t.RequireBaseline(first) // not accepted: ends the case as not run
	return "", nil
}

// WithForm returns a copy of req whose form has key set to values (none:
// the key is removed).
func WithForm(req Request, key string, values ...string) Request {
	f := url.Values{}
	for k, v := range req.Form {
		f[k] = append([]string(nil), v...)
	}
	if len(values) == 0 {
		f.Del(key)
	} else {
		f[key] = values
	}
	req.Form = f
	return req
}

// ---- scopes ----

// ScopeParts splits a SMART resource scope "system/Patient.rs" into its
// context, resource type and permissions, normalised to v2 letters (v1
// read = rs, write = cud, * = cruds). ok is false for other scopes.
func ScopeParts(s string) (ctx, typ, perms string, ok bool) {
	ctx, rest, ok1 := strings.Cut(s, "/")
	i := strings.LastIndexByte(rest, '.')
	if !ok1 || i < 0 || strings.Contains(rest, "?") {
		return "", "", "", false
	}
	typ, perms = rest[:i], rest[i+1:]
	switch perms {
	case "read":
		perms = "rs"
	case "write":
		perms = "cud"
	case "*":
		perms = "cruds"
	}
	for _, c := range perms {
		if !strings.ContainsRune("cruds", c) {
			return "", "", "", false
		}
	}
	return ctx, typ, perms, perms != ""
}

// ScopeCovered says whether the granted scope token is within one of the
// requested ones: the same token, or the same context, the same resource
// type (or a requested wildcard) and no permission beyond those requested.
func ScopeCovered(granted string, requested []string) bool {
	gc, gt, gp, gok := ScopeParts(granted)
	for _, r := range requested {
		if r == granted {
			return true
		}
		rc, rt, rp, rok := ScopeParts(r)
		if !gok || !rok || gc != rc || (rt != "*" && rt != gt) {
			continue
		}
		if strings.Trim(gp, rp) == "" {
			return true
		}
	}
	return false
}

// ConvertScope rewrites each resource scope of s into v1 (.read, .write,
// .*) or v2 (.rs, .cud, .cruds) syntax; ok is false when one has no
// equivalent in the other syntax.
func ConvertScope(s string, v2 bool) (string, bool) {
	var out []string
	for _, tok := range strings.Fields(s) {
		ctx, typ, perms, ok := ScopeParts(tok)
		if !ok {
			return "", false
		}
		if v2 {
			out = append(out, ctx+"/"+typ+"."+perms)
			continue
		}
		v1, ok := map[string]string{"rs": "read", "cud": "write", "cruds": "*"}[perms]
		if !ok {
			return "", false
		}
		out = append(out, ctx+"/"+typ+"."+v1)
	}
	return strings.Join(out, " "), len(out) > 0
}

// IsV1Scope says whether a resource scope is written in SMART v1 syntax.
func IsV1Scope(s string) bool {
	i := strings.LastIndexByte(s, '.')
	return i >= 0 && (s[i+1:] == "read" || s[i+1:] == "write" || s[i+1:] == "*")
}

// Evidence records an observation of the harness itself (not an exchange
// with the server) among the case's exchanges, e.g. what a listener saw.
func (t *T) Evidence(label, u string) {
	t.rec.exchanges = append(t.rec.exchanges, reporter.Exchange{Label: label, Method: "OBSERVED", URL: t.env.redactor.URL(u)})
}

// Directives splits header values into lower-cased comma-separated tokens.
func Directives(values []string) []string {
	var out []string
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			out = append(out, strings.ToLower(d))
		}
	}
	return out
}

// MissingNoStore lists what of Cache-Control: no-store and Pragma: no-cache
// (RFC 6749 §5.1) the answer lacks.
func MissingNoStore(r *Response) []string {
	var out []string
	if !slices.Contains(Directives(r.Header.Values("Cache-Control")), "no-store") {
		out = append(out, "Cache-Control: no-store")
	}
	if !slices.Contains(Directives(r.Header.Values("Pragma")), "no-cache") {
		out = append(out, "Pragma: no-cache")
	}
	return out
}

// ExpectNoStore checks Cache-Control: no-store and Pragma: no-cache at level
// (RFC 6749 §5.1).
func (t *T) ExpectNoStore(level Level, r *Response) {
	t.Check(level, "Cache-Control", "a no-store directive", Directives(r.Header.Values("Cache-Control")), ContainElement("no-store"))
	t.Check(level, "Pragma", "no-cache", Directives(r.Header.Values("Pragma")), ContainElement("no-cache"))
}

// configured scope, for scopes the harness makes up.
func FirstScopeContext(scope string) string {
	if ctx, _, ok := strings.Cut(strings.Fields(scope + " system/x")[0], "/"); ok {
		return ctx
	}
	return "system"
}
