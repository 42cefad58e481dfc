package suites

import (
	"fmt"
	"regexp"
	"strings"

	. "github.com/smartconform/smartconform/suites/engine"

	. "github.com/onsi/gomega"
)

// Error responses (RFC 6749 §5.2). The rules every error answer of the token
// endpoint follows are sweeps: each is judged once, over every exchange of
// the run, and names the cases whose answers break it.
var _ = Area(80, "errors", "Error responses", func() {

	// refused sends a valid request with an unknown grant_type: a refusal
	// every server gives, whatever its validation order.
	refused := func(t *T) *Response {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "grant_type", "urn:smartconform:unknown-grant")
		r.Label = "Token request (unknown grant_type)"
		resp := t.Do(r)
		if resp.Status < 400 {
			t.NotRun(fmt.Sprintf("the request was not refused (%s; see TEP-GT-02)", DescribeAnswer(resp)))
		}
		return resp
	}

	Case(Meta{
		ID:          "ERR-CACHE-01",
		Title:       "Error responses forbid caching",
		Requirement: "Every error response of the token endpoint in the run should carry Cache-Control: no-store and Pragma: no-cache.",
		Level:       SHOULD, Negative: true, Sweep: true,
		Refs:   []Ref{refRFC6749Error, refRFC6749Token},
		Policy: "AMB-ERR-3: RFC 6749 mandates no-store for responses with tokens or credentials and shows it on its error example; on errors it is a SHOULD. Judged once over every error answer (400, 401, or a body with an error member) of the run.",
		Hint:   "Only successful token responses get the cache headers. Set Cache-Control: no-store and Pragma: no-cache on every token endpoint response.",
	}, func(t *T) {
		t.Sweep("an error response of the token endpoint", Recorded.OAuthError, func(x Recorded, lvl Level) {
			if miss := MissingNoStore(x.Response); len(miss) > 0 {
				t.Offending(x, lvl, "cache headers of the error response", "Cache-Control: no-store and Pragma: no-cache", "no "+strings.Join(miss, ", no "))
			}
		})
	})

	Case(Meta{
		ID:          "ERR-DESC-01",
		Title:       "Error responses explain themselves",
		Requirement: "An error response from the token endpoint should include an error_description or an error_uri.",
		Level:       SHOULD, Negative: true,
		Refs: []Ref{refBSIssue, refRFC6749Error},
		Hint: "Errors carry only the code. SMART Backend Services asks for error_description or error_uri, which is what integrators need to fix a request.",
	}, func(t *T) {
		r := refused(t)
		if r.Status >= 500 {
			return // a server error: the engine fails the case for it
		}
		t.Should("error_description or error_uri", "a non-empty string in one of them (SMART Backend Services)", r.Str("error_description")+r.Str("error_uri"), Not(BeEmpty()))
	})

	Case(Meta{
		ID:          "ERR-CHAL-01",
		Title:       "A 401 to a request that used the Authorization header carries a challenge",
		Requirement: "Every 401 the token endpoint answers in the run to a request that used the Authorization header carries a WWW-Authenticate header with a challenge for the scheme the client used (Basic for Basic).",
		Level:       MUST, Negative: true, Sweep: true,
		Refs:   []Ref{refRFC6749Error, refRFC7235Chall},
		Policy: "AMB-ERR-1: RFC 6749 §5.2 requires 401 with a WWW-Authenticate header matching the scheme when the client authenticated through the Authorization header; the scheme is compared for Basic, and any challenge is accepted for a misplaced Bearer (matching it would literally mean Bearer). A 401 to form-based authentication, which §5.2 allows without the header, is not judged. Judged once over every exchange of the run.",
		Hint:   "401 answers carry no WWW-Authenticate header (or one for another scheme). When a client authenticated with the Authorization header, RFC 6749 §5.2 requires the challenge, e.g. WWW-Authenticate: Basic realm=\"token\", error=\"invalid_client\"; clients and proxies that retry with credentials rely on it.",
	}, func(t *T) {
		applies := func(x Recorded) bool {
			_, used := x.UsedAuthorizationHeader()
			return x.Token() && used && x.Response.Status == 401
		}
		t.Sweep("a 401 of the token endpoint answering a request that used the Authorization header", applies, func(x Recorded, lvl Level) {
			scheme, _ := x.UsedAuthorizationHeader()
			var challenges []string
			for _, v := range x.Response.Header.Values("WWW-Authenticate") {
				if strings.TrimSpace(v) != "" {
					challenges = append(challenges, v)
				}
			}
			switch {
			case len(challenges) == 0:
				want := "a challenge for the " + scheme + " scheme the client used (RFC 6749 §5.2, RFC 7235 §3.1)"
				if !strings.EqualFold(scheme, "basic") {
					want = "a WWW-Authenticate challenge, any scheme (RFC 6749 §5.2, RFC 7235 §3.1; AMB-ERR-1)"
				}
				t.Offending(x, lvl, "WWW-Authenticate on the 401", want, "no WWW-Authenticate header")
			case strings.EqualFold(scheme, "basic") && !namesScheme(challenges, "basic"):
				t.Offending(x, lvl, "WWW-Authenticate scheme", "a Basic challenge: the scheme the client used (RFC 6749 §5.2)", strings.Join(challenges, ", "))
			}
		})
	})

	Case(Meta{
		ID:          "ERR-CHARS-01",
		Title:       "Error codes and descriptions use the characters RFC 6749 allows",
		Requirement: "In every error response of the token endpoint in the run, error and error_description use only %x20-21 / %x23-5B / %x5D-7E (printable ASCII without \" and \\) and error_uri only %x21 / %x23-5B / %x5D-7E.",
		Level:       MUST, Negative: true, Sweep: true,
		Refs:   []Ref{refRFC6749Error},
		Policy: "ERR-03: judged once over every error answer (400, 401, or a body with an error member) of the run whose body is a JSON object.",
		Hint:   "Error texts carry characters §5.2 excludes: a double quote, a backslash, a line break or non-ASCII text (often an exception message or a quoted value passed through). Clients copy these members into WWW-Authenticate parameters and logs; keep them to printable ASCII without \" and \\.",
	}, func(t *T) {
		applies := func(x Recorded) bool { return x.OAuthError() && x.Response.JSON != nil }
		t.Sweep("an error response of the token endpoint with a JSON object body", applies, func(x Recorded, lvl Level) {
			var bad []string
			for _, k := range []string{"error", "error_description", "error_uri"} {
				v, ok := x.Response.JSON[k].(string)
				okChars := ErrorTextOK
				if k == "error_uri" {
					okChars = ErrorURIOK
				}
				if ok && !okChars(v) {
					bad = append(bad, fmt.Sprintf("%s %q", k, v))
				}
			}
			if len(bad) > 0 {
				t.Offending(x, lvl, "error member characters", "error and error_description in %x20-21 / %x23-5B / %x5D-7E, error_uri in %x21 / %x23-5B / %x5D-7E (RFC 6749 §5.2)", strings.Join(bad, "; "))
			}
		})
	})

	Case(Meta{
		ID:          "ERR-TYPE-01",
		Title:       "Error responses are application/json",
		Requirement: "Every error response of the token endpoint in the run (400, 401, or a body with an error member) is served with Content-Type application/json.",
		Level:       MUST, Negative: true, Sweep: true,
		Refs:   []Ref{refRFC6749Error},
		Policy: "ERR-02: judged once over every error answer of the run; a 5xx is judged by the case that got it, a bare 405 or 415 by the TEP-HTTP cases.",
		Hint:   "Some error answers are not labelled application/json (text/plain, text/html, application/problem+json). RFC 6749 §5.2 puts the error parameters in an application/json body; clients that check the media type cannot read the error otherwise.",
	}, func(t *T) {
		t.Sweep("an error response of the token endpoint", Recorded.OAuthError, func(x Recorded, lvl Level) {
			if mt := x.Response.MediaType(); mt != "application/json" {
				got := fmt.Sprintf("Content-Type %q", x.Response.Header.Get("Content-Type"))
				if mt == "" {
					got = "no Content-Type"
				}
				t.Offending(x, lvl, "error media type", "application/json (RFC 6749 §5.2)", got)
			}
		})
	})
})

// namesScheme says whether one of the WWW-Authenticate values holds a
// challenge for scheme (case-insensitive).
func namesScheme(values []string, scheme string) bool {
	re := regexp.MustCompile(`(?i)(^|,)\s*` + regexp.QuoteMeta(scheme) + `(\s|,|$)`)
	for _, v := range values {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}
