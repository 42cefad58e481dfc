package suites

import (
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"strings"

	. "github.com/onsi/gomega"
)

// The token response (RFC 6749 §5.1; SMART Backend Services).
var _ = Area(60, "token-response", "Token response", func() {

	// issued is a valid token response: the run's baseline answer of the
	// first configured method whose baseline is accepted (BaselineAnswer),
	// which every case here judges for its own property; the case is not
	// run without one.
	issued := func(t *T) *Response {
		_, r, _ := t.BaselineAnswer()
		return r
	}

	Case(Meta{
		ID:          "TRESP-01",
		Title:       "A token is issued as 200 with an application/json object",
		Requirement: "A successful token response is 200 with Content-Type application/json and a JSON object holding a non-empty string access_token.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Token, refBSIssue},
		Policy:      "AMB-TRESP-4: 201 warns.",
		Hint:        "Serve the token response as application/json (RFC 6749 §5.1); clients that check the media type refuse anything else.",
	}, func(t *T) {
		r := issued(t)
		t.ExpectToken(r)
		if r.Status/100 != 2 {
			return
		}
		t.Must("media type", "application/json (RFC 6749 §5.1)", r.MediaType(), Equal("application/json"))
	})

	Case(Meta{
		ID:          "TRESP-02",
		Title:       "Token responses forbid caching",
		Requirement: "Every response of the token endpoint in the run that carries an access token includes Cache-Control: no-store and Pragma: no-cache.",
		Level:       MUST, Sweep: true,
		Refs: []Ref{refRFC6749Token},
		Hint: "Add Cache-Control: no-store and Pragma: no-cache to every token response, so that no proxy or browser cache keeps the token.",
	}, func(t *T) {
		t.Sweep("a token endpoint response carrying an access token", Recorded.IssuedToken, func(x Recorded, lvl Level) {
			if miss := MissingNoStore(x.Response); len(miss) > 0 {
				t.Offending(x, lvl, "cache headers of the token response", "Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1)", "no "+strings.Join(miss, ", no "))
			}
		})
	})

	Case(Meta{
		ID:          "TRESP-03",
		Title:       "token_type is bearer",
		Requirement: "The token response's token_type is bearer, in any letter case.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Token, refBSIssue},
		Policy:      "AMB-TRESP-1: SMART writes Bearer and bearer in different places; RFC 6749 makes the value case-insensitive, so it is compared case-insensitively.",
		Hint:        "SMART access tokens are bearer tokens (RFC 6750); clients send them as Authorization: Bearer.",
	}, func(t *T) {
		r := issued(t)
		t.Must("token_type", "bearer, in any letter case (RFC 6749 §5.1, RFC 6750)", strings.ToLower(r.Str("token_type")), Equal("bearer"))
	})

	Case(Meta{
		ID:          "TRESP-04",
		Title:       "expires_in is a positive JSON number",
		Requirement: "The token response's expires_in is present as a JSON number of seconds greater than 0.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Token, refBSIssue},
		Policy:      "SMART Backend Services requires expires_in (smart-v2, smart-v1); RFC 6749 §5.1 only RECOMMENDS it, so under oauth it warns.",
		Profiles:    map[string]Level{ProfileOAuth: SHOULD},
		Hint:        "expires_in is a JSON number (RFC 6749 §5.1: numerical values are JSON numbers), not a string; SMART Backend Services requires it.",
	}, func(t *T) {
		lvl := t.ProfileLevel()
		r := issued(t)
		exp, isNum := r.JSON["expires_in"].(float64)
		if t.Check(lvl, "expires_in", "a JSON number of seconds (SMART Backend Services: required)", fmt.Sprintf("%T", r.JSON["expires_in"]), Equal("float64")) && isNum {
			t.Check(lvl, "expires_in", "greater than 0", exp, BeNumerically(">", 0))
		}
	})

	Case(Meta{
		ID:          "TRESP-05",
		Title:       "The token response states the granted scope",
		Requirement: "The token response has a scope member: a string naming the granted scopes.",
		Level:       MUST,
		Refs:        []Ref{refBSIssue, refRFC6749Token},
		Policy:      "AMB-TRESP-2: SMART always requires scope (smart-v2, smart-v1); RFC 6749 makes it optional when it equals the request, so the case does not apply under oauth.",
		Profiles:    map[string]Level{ProfileOAuth: NotApplicable},
		Hint:        "SMART clients learn what they may do from scope; include it in every token response, even when it equals the request.",
	}, func(t *T) {
		lvl := t.ProfileLevel()
		r := issued(t)
		t.Check(lvl, "scope", "a string naming the granted scopes (SMART: required)", fmt.Sprintf("%T", r.JSON["scope"]), Equal("string"))
	})

	Case(Meta{
		ID:          "TRESP-06",
		Title:       "The granted scope is not broader than requested",
		Requirement: "Each granted scope should be within a requested one (same resource type or a requested wildcard, no further permissions).",
		Level:       SHOULD,
		Refs:        []Ref{refBSIssue, refScopes},
		Policy:      "AMB-SCOPE-3: SAL lets the grant differ from the request, but a backend token SHOULD be limited to what was requested, so a broader grant warns. v1 and v2 spellings of the same permissions are equal.",
		Hint:        "The server grants the client's whole registration instead of what it asked for. Backend tokens should carry only the requested access (least privilege).",
	}, func(t *T) {
		r := issued(t)
		if !r.Has("scope") {
			return // omitted: as requested (RFC 6749 §3.3); TRESP-05 judges the omission
		}
		requested := strings.Fields(t.Target().Scope)
		var wider []string
		for _, g := range strings.Fields(r.Str("scope")) {
			if !ScopeCovered(g, requested) {
				wider = append(wider, g)
			}
		}
		t.Should("granted scope", "within the requested "+t.Target().Scope, wider, BeEmpty())
	})

	Case(Meta{
		ID:          "TRESP-07",
		Title:       "Backend access tokens are short-lived",
		Requirement: "The expires_in of a client_credentials token should not exceed 300 seconds.",
		Level:       SHOULD,
		Refs:        []Ref{refBSIssue},
		Policy:      "AMB-TRESP-3: the IG's own example and major vendors use longer lifetimes, so above 300 only warns; not applicable under oauth.",
		Profiles:    map[string]Level{ProfileOAuth: NotApplicable},
		Hint:        "Backend clients can always get a new token; SMART Backend Services recommends at most five minutes so that a leaked token is useful only briefly.",
	}, func(t *T) {
		t.ProfileLevel()
		r := issued(t)
		if exp, ok := r.JSON["expires_in"].(float64); ok {
			t.Should("expires_in", "at most 300 seconds (SMART Backend Services: SHOULD NOT exceed 300)", exp, BeNumerically("<=", 300))
		}
	})

	Case(Meta{
		ID:          "TRESP-08",
		Title:       "No refresh token is issued for client_credentials",
		Requirement: "A client_credentials token response should not include a refresh_token.",
		Level:       SHOULD,
		Refs:        []Ref{RFC(6749, "4.4.3"), refBSEnforce},
		Hint:        "A backend client re-authenticates with its key or secret; a refresh token only adds a long-lived credential to protect.",
	}, func(t *T) {
		r := issued(t)
		t.Should("refresh_token", "absent (RFC 6749 §4.4.3, SMART Backend Services: SHOULD NOT be issued)", r.Has("refresh_token"), BeFalse())
	})

	Case(Meta{
		ID:          "TRESP-09",
		Title:       "A token granted for a request without scope states the scope granted",
		Requirement: "A valid client_credentials request with no scope parameter is refused (400 invalid_request or invalid_scope) or answered with a token response whose scope member, a string, names the scopes granted.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Scope, refRFC6749Token, refBSRequest},
		Policy:      "AMB-SCOPE-1: SMART Backend Services makes scope a required request parameter and RFC 6749 §3.3 lets the server use a default or fail, so a refusal passes. A token granted from a default cannot be \"identical to the scope requested\" (none was), so RFC 6749 §5.1 makes scope REQUIRED in the response under every profile.",
		Hint:        "The server grants its default scopes when the request names none but does not say which; the client cannot know what it may do. Include scope whenever the grant is not exactly what was requested.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "scope")
		r.Label = "Token request (no scope)"
		resp := t.Do(r)
		if resp.Status/100 != 2 {
			t.ExpectRejected(resp, Rejection{Statuses: []int{400}, Codes: []string{"invalid_request", "invalid_scope"}})
			return
		}
		t.ExpectToken(resp)
		t.Must("scope", "a string naming the granted scopes (RFC 6749 §5.1: REQUIRED when the grant is not the requested scope)", fmt.Sprintf("%T", resp.JSON["scope"]), Equal("string"))
	})
})
