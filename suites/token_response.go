package suites

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/gomega"
)

// The token response (RFC 6749 §5.1; SMART Backend Services).
var _ = Area("token-response", "Token response", func() {

	// validToken sends a valid request with the first configured method.
	validToken := func(t *T) *Response {
		for _, m := range []string{PrivateKeyJWT, ClientSecretBasic, ClientSecretPost} {
			if t.clientFor(m) {
				t.RequireBaseline(m)
				req, err := t.env.validRequest(t.ctx, m)
				if err != nil {
					t.Errorf("not run: %v", err)
				}
				return t.Do(req)
			}
		}
		t.Skip("no confidential client is configured")
		return nil
	}

	Case(Meta{
		ID:          "TRESP-01",
		Title:       "The token response has the required members and types",
		Requirement: "A successful token response is a JSON object with a non-empty string access_token, token_type bearer (any case), expires_in as a JSON number and scope as a string; it carries no refresh_token and expires_in is at most 300 (both SHOULD).",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Token, refBSIssue},
		Policy:      "AMB-TRESP-1: token_type compared case-insensitively. AMB-TRESP-2: scope required (SMART). AMB-TRESP-3: expires_in above 300 only warns.",
		Hint:        "Compare the response with RFC 6749 §5.1: numbers as JSON numbers, token_type Bearer, and scope always present for SMART.",
	}, func(t *T) {
		r := validToken(t)
		t.ExpectToken(r)
		if r.JSON == nil {
			return
		}
		t.Must("media type", "application/json", r.MediaType(), Equal("application/json"))
		t.Must("token_type", "bearer, in any letter case (RFC 6749 §5.1, RFC 6750)", strings.ToLower(r.Str("token_type")), Equal("bearer"))
		exp, isNum := r.JSON["expires_in"].(float64)
		t.Must("expires_in", "a JSON number of seconds (SMART Backend Services: required)", fmt.Sprintf("%T", r.JSON["expires_in"]), Equal("float64"))
		if isNum {
			t.Must("expires_in", "greater than 0", exp, BeNumerically(">", 0))
			t.Should("expires_in", "at most 300 seconds (SMART Backend Services: SHOULD NOT exceed 300)", exp, BeNumerically("<=", 300))
		}
		t.Must("scope", "a string naming the granted scopes (SMART: required)", fmt.Sprintf("%T", r.JSON["scope"]), Equal("string"))
		t.Should("refresh_token", "absent (SMART Backend Services: refresh tokens SHOULD NOT be issued)", r.Has("refresh_token"), BeFalse())
	})

	Case(Meta{
		ID:          "TRESP-02",
		Title:       "The token response forbids caching",
		Requirement: "A response carrying an access token includes Cache-Control: no-store and Pragma: no-cache.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Token},
		Hint:        "Add Cache-Control: no-store and Pragma: no-cache to every token response, so that no proxy or browser cache keeps the token.",
	}, func(t *T) {
		r := validToken(t)
		if r.Status != http.StatusOK {
			t.NotRun(fmt.Sprintf("no token was issued (%s)", describeRejection(r)))
		}
		t.Must("Cache-Control", "a no-store directive", directives(r.Header.Values("Cache-Control")), ContainElement("no-store"))
		t.Must("Pragma", "no-cache", directives(r.Header.Values("Pragma")), ContainElement("no-cache"))
	})
})

// directives splits header values into lower-cased comma-separated tokens.
func directives(values []string) []string {
	var out []string
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			out = append(out, strings.ToLower(d))
		}
	}
	return out
}

// clientFor says whether the target has a client for method.
func (t *T) clientFor(method string) bool {
	tg := t.Target()
	return map[string]bool{PrivateKeyJWT: tg.Asym != nil, ClientSecretBasic: tg.Basic != nil, ClientSecretPost: tg.Post != nil, AuthNone: tg.Public != nil}[method]
}
