package suites

import (
	"encoding/json"
	. "github.com/smartconform/smartconform/suites/engine"
	"net/http"

	. "github.com/onsi/gomega"
)

// The token endpoint itself: method, body encoding, grant_type, parameters
// (RFC 6749 §3.2, §4.4.2, §5.2).
var _ = Area(50, "token-endpoint", "Token endpoint: requests", func() {

	// refusedWith judges an answer that may be a bare HTTP refusal (405,
	// 415: no OAuth body required) or a §5.2 error.
	refusedWith := func(t *T, r *Response, bare int, x Rejection) {
		if r.Status == bare {
			t.Check(x.Level, "no access token is issued", "no access_token member", r.Str("access_token"), BeEmpty())
			return
		}
		t.ExpectRejected(r, x)
	}

	Case(Meta{
		ID:          "TEP-HTTP-01",
		Title:       "The token endpoint refuses GET",
		Requirement: "A token request sent as GET, with its parameters in the query string and valid client authentication (the first configured confidential method whose valid request is accepted), should be refused (405, or 400 invalid_request).",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{RFC(6749, "3.2"), refBSRequest},
		Policy: "TEP-HTTP-01: RFC 6749 §3.2 binds the client (MUST use POST); refusing GET is a derived server obligation, so acceptance warns.",
		Hint:   "The token endpoint serves GET. Token requests over GET put parameters in URLs, which end up in logs and caches; answer 405 with Allow: POST.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		q := r.Form
		r.Form = nil
		r.Method = http.MethodGet
		r.URL += "?" + q.Encode()
		r.Label = "Token request (GET)"
		refusedWith(t, t.Do(r), http.StatusMethodNotAllowed, Rejection{Statuses: []int{400, 405}, Codes: []string{"invalid_request"}, Level: SHOULD})
	})

	Case(Meta{
		ID:          "TEP-HTTP-02",
		Title:       "The token endpoint refuses a JSON body",
		Requirement: "A token request with valid client authentication (the first configured confidential method whose valid request is accepted) whose parameters are a JSON body (Content-Type: application/json) instead of application/x-www-form-urlencoded should be refused (400 invalid_request or 415).",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{RFC(6749, "4.4.2"), refBSRequest},
		Policy: "TEP-HTTP-02: a derived obligation, so acceptance warns; 401 invalid_client is tolerated (the server found no usable request).",
		Hint:   "The server accepts JSON token requests. Clients then work against this server and fail against every other; RFC 6749 requires application/x-www-form-urlencoded.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		m := map[string]string{}
		for k := range r.Form {
			m[k] = r.Form.Get(k)
		}
		body, _ := json.Marshal(m)
		r.Form, r.RawBody, r.ContentType = nil, string(body), "application/json"
		r.Label = "Token request (JSON body)"
		refusedWith(t, t.Do(r), http.StatusUnsupportedMediaType, Rejection{Statuses: []int{400, 401, 415}, Codes: []string{"invalid_request", "invalid_client"}, Level: SHOULD})
	})

	Case(Meta{
		ID:          "TEP-GT-01",
		Title:       "A request without grant_type is rejected",
		Requirement: "A token request with valid client authentication but no grant_type is refused with 400 invalid_request.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{RFC(6749, "4.4.2"), refRFC6749Error},
		Policy: "ERR-07: unsupported_grant_type instead of invalid_request warns.",
		Hint:   "The server defaults a missing grant_type. grant_type is REQUIRED; a request without it is malformed (invalid_request).",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "grant_type")
		r.Label = "Token request (no grant_type)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400}, Codes: []string{"invalid_request"}})
	})

	Case(Meta{
		ID:          "TEP-GT-02",
		Title:       "An unknown grant_type is rejected with unsupported_grant_type",
		Requirement: "A token request with valid client authentication and an unknown grant_type is refused with 400 unsupported_grant_type.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRFC6749Error, refBSIssue},
		Policy: "ERR-07: another error code (such as invalid_request) warns; Inferno checks the 400 only.",
		Hint:   "The server serves any grant_type as client_credentials (or only checks that it is present). Compare grant_type with the grants it supports.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "grant_type", "urn:smartconform:unknown-grant")
		r.Label = "Token request (unknown grant_type)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400}, Codes: []string{"unsupported_grant_type"}})
	})

	Case(Meta{
		ID:          "TEP-DUP-01",
		Title:       "A repeated request parameter is rejected",
		Requirement: "A token request in which grant_type appears twice is refused with 400 invalid_request, and one in which (private_key_jwt) client_assertion appears twice is refused with invalid_request or invalid_client.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{RFC(6749, "3.2"), refRFC6749Error},
		Policy: "For the repeated client_assertion, 401 and invalid_client are accepted too (AMB-ERR-1, AMB-ERR-2).",
		Hint:   "The server takes the first (or last) value of a repeated parameter. Parameters MUST NOT repeat; a proxy and the server reading different values is a classic request-smuggling gap.",
	}, func(t *T) {
		m, r := t.AnyValidRequest()
		r = WithForm(r, "grant_type", "client_credentials", "client_credentials")
		r.Label = "Token request (grant_type twice)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400}, Codes: []string{"invalid_request"}})
		if m == PrivateKeyJWT {
			r := t.AssertionRequest(t.Assertion())
			r = WithForm(r, "client_assertion", r.Form.Get("client_assertion"), t.Assertion())
			r.Label = "Token request (client_assertion twice)"
			t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request", "invalid_client"}})
		}
	})

	Case(Meta{
		ID:          "TEP-EXTRA-01",
		Title:       "Unknown request parameters are ignored",
		Requirement: "A valid token request with an extra unrecognised parameter gets an access token: the server ignores parameters it does not know.",
		Level:       MUST,
		Refs:        []Ref{RFC(6749, "3.2")},
		Hint:        "The server refuses parameters it does not recognise; RFC 6749 §3.2 requires it to ignore them, so that clients and extensions can add parameters.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "smartconform_extra", "1")
		r.Label = "Token request (an extra parameter)"
		t.ExpectToken(t.Do(r))
	})
})

// firstScopeContext is the context (system, patient, user) of the first
