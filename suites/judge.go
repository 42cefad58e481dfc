package suites

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	. "github.com/onsi/gomega"
)

// Rejection says how a negative case's answer must look: an RFC 6749 §5.2
// error. The universal part (no token, no 2xx/3xx/5xx, JSON with an error
// member, the §5.2 character set) is always checked.
type Rejection struct {
	// Statuses allowed. Form-based client authentication failing may be 400
	// or 401 (RFC 6749 §5.2 "MAY return an HTTP 401"; policy AMB-ERR-1).
	Statuses []int
	// Codes accepted for the error member; another registered code is a
	// warning (requirements ERR-07: the code should fit the failure).
	Codes []string
	// HeaderScheme is set when the client tried the Authorization header:
	// the answer must then be 401 with WWW-Authenticate (RFC 6749 §5.2).
	HeaderScheme string
	// Lenient400 downgrades "must be 401" to a warning (policy AMB-ERR-1 for
	// a misplaced Bearer, which is arguably not a client-auth scheme).
	Lenient400 bool
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

// ExpectRejected judges an answer that must refuse the request.
func (t *T) ExpectRejected(r *Response, x Rejection) {
	t.Must("no access token is issued", "no access_token member", r.Str("access_token"), BeEmpty())
	if !t.Must("status is not a success", "a 4xx status", r.Status, Not(BeNumerically("<", 300))) {
		return // a success: the rest is moot
	}
	t.Must("status is not a redirect", "a 4xx status, not a redirect", r.Status, Not(BeNumerically("<", 400)))
	t.Must("status is not a server error", "a 4xx status: a 5xx is never a correct rejection", r.Status, BeNumerically("<", 500))
	allowed := x.Statuses
	if x.HeaderScheme != "" {
		allowed = []int{http.StatusUnauthorized}
		level := MUST
		if x.Lenient400 {
			level = SHOULD
		}
		t.Check(level, "status when the client used the Authorization header",
			"401 (RFC 6749 §5.2: the client tried to authenticate via the Authorization header)", r.Status, Equal(401))
	} else if r.Status == http.StatusForbidden {
		t.Should("status", "one of "+ints(allowed)+" (RFC 6749 defines no 403 at the token endpoint)", r.Status, BeElementOf(intsAny(allowed)...))
	} else if r.Status >= 400 && r.Status < 500 {
		t.Must("status", "one of "+ints(allowed), r.Status, BeElementOf(intsAny(allowed)...))
	}
	if r.Status == http.StatusUnauthorized {
		challenge := r.Header.Get("WWW-Authenticate")
		if x.HeaderScheme != "" {
			t.Must("WWW-Authenticate on the 401", "a WWW-Authenticate challenge (RFC 6749 §5.2, RFC 7235 §3.1)", challenge, Not(BeEmpty()))
		} else {
			t.Should("WWW-Authenticate on the 401", "a WWW-Authenticate challenge (RFC 7235 §3.1: every 401 carries one)", challenge, Not(BeEmpty()))
		}
	}
	t.Must("error body media type", "application/json (RFC 6749 §5.2)", r.MediaType(), Equal("application/json"))
	if !t.Must("error body", "a JSON object (RFC 6749 §5.2)", errString(r.JSONErr), BeEmpty()) {
		return
	}
	code, _ := r.JSON["error"].(string)
	asCode := func(v any) string { s, _ := v.(string); return s }
	if !t.Must("error member", "a non-empty string error code (RFC 6749 §5.2)", r.JSON["error"], WithTransform(asCode, Not(BeEmpty()))) {
		return
	}
	if len(x.Codes) > 0 {
		t.Should("error code fits the failure", "one of "+strings.Join(x.Codes, ", "), code, BeElementOf(stringsAny(x.Codes)...))
	}
	t.Must("error code characters", "only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2)", code, MatchRegexp(errTextRE.String()))
	if d, ok := r.JSON["error_description"].(string); ok {
		t.Must("error_description characters", "only %x20-21 / %x23-5B / %x5D-7E, no CR/LF (RFC 6749 §5.2)", d, MatchRegexp(errTextRE.String()))
	}
	if u, ok := r.JSON["error_uri"].(string); ok {
		t.Must("error_uri characters", "a URI of %x21 / %x23-5B / %x5D-7E (RFC 6749 §5.2)", u, MatchRegexp(errURIRE.String()))
	}
}

// ExpectToken judges an answer that must issue an access token: 200 (201
// warns, policy AMB-TRESP-4) with a JSON object holding a non-empty string
// access_token. The rest of the token response is judged by TRESP cases.
func (t *T) ExpectToken(r *Response) {
	if r.Status == http.StatusCreated {
		t.Should("success status", "200 (RFC 6749 §5.1)", r.Status, Equal(200))
	} else if !t.Must("success status", "200 (RFC 6749 §5.1)", describeRejection(r), Equal("200")) {
		return
	}
	if !t.Must("token response body", "a JSON object (RFC 6749 §5.1)", errString(r.JSONErr), BeEmpty()) {
		return
	}
	t.Must("access_token", "a non-empty string (RFC 6749 §5.1)", fmt.Sprintf("%T", r.JSON["access_token"]), Equal("string"))
	t.Must("access_token", "a non-empty string (RFC 6749 §5.1)", r.Str("access_token") != "", BeTrue())
}

// describeRejection is "200", or the status with the error code and text.
func describeRejection(r *Response) string {
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

func errString(err error) string {
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
