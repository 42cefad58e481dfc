package suites

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/gomega"

	. "github.com/smartconform/smartconform/suites/engine"
)

// introspectionURL is the configured or advertised introspection endpoint;
// the case is skipped when there is none.
func introspectionURL(t *T) string {
	if tr := t.Target().Trust; tr != nil && tr.IntrospectionURL != "" {
		return tr.IntrospectionURL
	}
	d := t.Discovery()
	u, _ := d.Doc["introspection_endpoint"].(string)
	if u == "" {
		t.Skip("the server advertises no introspection_endpoint (SMART: SHOULD support introspection) and none is configured (trust.introspectionEndpoint)")
	}
	return u
}

// introspect asks about token, authenticating with the bearer token caller
// (SMART: an appropriately-scoped bearer token SHALL be accepted) or, when
// caller is "", with nothing.
func introspect(t *T, label, token, caller string) *Response {
	h := http.Header{"Accept": {"application/json"}}
	if caller != "" {
		h.Set("Authorization", "Bearer "+caller)
	}
	return t.Do(Request{Label: label, URL: introspectionURL(t), Form: url.Values{"token": {token}}, Header: h, Endpoint: EndpointIntrospect})
}

// introspectOK introspects with the caller's bearer token and ends the case
// as not run unless the answer is a 200 JSON object.
func introspectOK(t *T, label, token, caller string) *Response {
	r := introspect(t, label, token, caller)
	if r.Status != http.StatusOK || r.JSON == nil {
		t.NotRun(fmt.Sprintf("introspection with the harness's own access token as Authorization: Bearer answered %s, so nothing could be introspected (see INTRO-ACT-01)", DescribeAnswer(r)))
	}
	return r
}

// Token introspection (SMART token-introspection; RFC 7662).
var _ = Area(64, "introspection", "Token introspection", func() {

	refTI := SAL("token-introspection.html", "", "Token Introspection")
	refTIFields := SAL("token-introspection.html", "required-fields-in-the-introspection-response", "Token Introspection: Required fields")
	refRFC7662Resp := RFC(7662, "2.2")
	refRFC7662Req := RFC(7662, "2.1")

	Case(Meta{
		ID:          "INTRO-ACT-01",
		Title:       "An active token introspects as active, with scope, client_id and exp",
		Requirement: "Introspecting a fresh access token (authenticated by the caller's own bearer token) answers 200 with active true, scope as granted, the client_id of the client it was issued to, and an integer exp within 60 s of the token response time plus expires_in.",
		Level:       MUST,
		Refs:        []Ref{refTIFields, refRFC7662Resp, refRFC7662Req},
		Policy:      "SMART: a caller SHALL be permitted to authenticate with an appropriately-scoped bearer token; the harness uses the token of its first confidential client (the one introspected).",
		Hint:        "The introspection response lacks a field SMART requires, or says another scope, client or expiry than the token response did.",
	}, func(t *T) {
		method, r, at := freshToken(t)
		tok := r.Str("access_token")
		ir := introspect(t, "Introspection (active token)", tok, tok)
		if !t.Must("answer", "200 with a JSON object (RFC 7662 §2.2)", DescribeAnswer(ir), Equal("200")) || !t.Must("body", "a JSON object", ErrText(ir.JSONErr), BeEmpty()) {
			return
		}
		t.Must("active", "true, a JSON boolean", ir.JSON["active"], Equal(true))
		sc, _ := ir.JSON["scope"].(string)
		granted := grantedScopes(r, t.Target().Scope)
		t.Must("scope", "the granted scope as a space-separated string ["+strings.Join(granted, " ")+"]", strings.Fields(sc), WithTransform(func(s []string) bool { return sameScopes(s, granted) }, BeTrue()))
		t.Must("client_id", "the client the token was issued to", ir.JSON["client_id"], Equal(clientIDOf(t, method)))
		exp, isNum := ir.JSON["exp"].(float64)
		if t.Must("exp", "an integer timestamp", isNum && exp == math.Trunc(exp), BeTrue()) {
			if ei, ok := expiresIn(r); ok {
				want := float64(at.Unix()) + ei
				t.Must("exp", fmt.Sprintf("consistent with expires_in: within 60 s of %d", int64(want)), math.Abs(exp-want), BeNumerically("<=", 60))
			}
		}
	})

	Case(Meta{
		ID:          "INTRO-INACT-01",
		Title:       "A token the server never issued introspects as {\"active\": false} alone",
		Requirement: "Introspecting a value that is no token of the server answers 200 with active false, and should carry no other member.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRFC7662Resp, refTI},
		Policy: "RFC 7662 §2.2: active false is a MUST; \"SHOULD NOT include any additional information about an inactive token\", so extra members warn.",
		Hint:   "The endpoint answers an error (or details) for an unknown token; RFC 7662 wants 200 {\"active\": false}.",
	}, func(t *T) {
		_, r, _ := freshToken(t)
		ir := introspect(t, "Introspection (a value never issued)", "smartconform-not-a-token-"+strings.Repeat("x", 16), r.Str("access_token"))
		if !t.Must("answer", "200 with a JSON object (RFC 7662 §2.2)", DescribeAnswer(ir), Equal("200")) || !t.Must("body", "a JSON object", ErrText(ir.JSONErr), BeEmpty()) {
			return
		}
		t.Must("active", "false, a JSON boolean", ir.JSON["active"], Equal(false))
		var extra []string
		for k := range ir.JSON {
			if k != "active" {
				extra = append(extra, k)
			}
		}
		t.Should("other members", "none (RFC 7662 §2.2: no information about an inactive token)", extra, BeEmpty())
	})

	Case(Meta{
		ID:          "INTRO-AUTH-01",
		Title:       "An anonymous caller learns nothing about an active token",
		Requirement: "Introspection without any credentials should be refused (401), or at least not reveal that a valid token is active.",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{refRFC7662Req, RFC(7662, "4"), refTI},
		Policy: "AMB-INTRO-1: RFC 7662 §2.1 says the endpoint MUST require authorization, SMART says access control MAY be implemented: a 401 and a 200 both pass, and an anonymous 200 that says active true warns.",
		Hint:   "Anyone can ask the endpoint whether a token is live and what it grants (token scanning, RFC 7662 §4). Require the caller to authenticate.",
	}, func(t *T) {
		_, r, _ := freshToken(t)
		ir := introspect(t, "Introspection (no credentials)", r.Str("access_token"), "")
		t.Must("status", "not a server error", ir.Status, BeNumerically("<", 500))
		if ir.Status == http.StatusOK {
			t.Level("active", "not true for a caller that presented no credentials", ir.JSON["active"], Not(Equal(true)))
		}
	})

	Case(Meta{
		ID:          "INTRO-OTHER-01",
		Title:       "Another client's token is reported for that client, or as inactive",
		Requirement: "Introspecting a token issued to another client answers 200 with either active false or active true and the client_id of the client the token was issued to, never the caller's.",
		Level:       MUST,
		Refs:        []Ref{refRFC7662Resp, RFC(7662, "4"), refTIFields},
		Policy:      "RFC 7662 §2.2 and §4 let a server refuse to describe tokens to a protected resource not allowed to see them, answering active false; SMART lets a bearer-authenticated caller introspect tokens of any client. Both readings pass; what never passes is describing the token as the caller's. Needs two confidential clients (the first asks, the Basic or post client's token is asked about).",
		Hint:        "The response describes the caller (its client_id), not the token asked about.",
	}, func(t *T) {
		method, r, _ := freshToken(t)
		tg := t.Target()
		var other Request
		var otherID string
		switch {
		case method != ClientSecretBasic && tg.Basic != nil:
			t.RequireBaseline(ClientSecretBasic)
			other, otherID = t.BasicRequest(tg.Basic.ClientID, tg.Basic.Secret), tg.Basic.ClientID
		case method != ClientSecretPost && tg.Post != nil:
			t.RequireBaseline(ClientSecretPost)
			other, otherID = t.PostRequest(tg.Post.ClientID, tg.Post.Secret), tg.Post.ClientID
		default:
			t.Skip("a second confidential client (client_secret_basic or client_secret_post) is needed for a token of another client")
		}
		or := t.Do(other)
		if or.Status != http.StatusOK || or.Str("access_token") == "" {
			t.NotRun(fmt.Sprintf("the second client got no token (%s)", DescribeAnswer(or)))
		}
		ir := introspectOK(t, "Introspection (another client's token)", or.Str("access_token"), r.Str("access_token"))
		if ir.JSON["active"] == true {
			t.Must("client_id", "the client the token was issued to ("+otherID+")", ir.JSON["client_id"], Equal(otherID))
		} else {
			t.Must("active", "false or true (a JSON boolean)", ir.JSON["active"], Equal(false))
		}
	})
})
