package suites

import (
	"fmt"
	"net/http"
	"net/url"

	. "github.com/onsi/gomega"

	. "github.com/smartconform/smartconform/suites/engine"
)

// revocationURL is the configured or advertised revocation endpoint; the
// case is skipped when there is none.
func revocationURL(t *T) string {
	if tr := t.Target().Trust; tr != nil && tr.RevocationURL != "" {
		return tr.RevocationURL
	}
	d := t.Discovery()
	u, _ := d.Doc["revocation_endpoint"].(string)
	if u == "" {
		t.Skip("the server advertises no revocation_endpoint and none is configured (trust.revocationEndpoint)")
	}
	return u
}

// revoke asks the server to revoke token, authenticating as the client of
// method the way it authenticates at the token endpoint (RFC 7009 §2.1).
func revoke(t *T, label, method, token string) *Response {
	tg := t.Target()
	req := Request{Label: label, URL: revocationURL(t), Form: url.Values{"token": {token}, "token_type_hint": {"access_token"}}, Header: http.Header{}, Endpoint: EndpointRevoke}
	switch method {
	case PrivateKeyJWT:
		a := t.Assertion()
		req.Form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		req.Form.Set("client_assertion", a)
		req.Assertion = a
	case ClientSecretBasic:
		req.Header.Set("Authorization", BasicAuth(tg.Basic.ClientID, tg.Basic.Secret))
	case ClientSecretPost:
		req.Form.Set("client_id", tg.Post.ClientID)
		req.Form.Set("client_secret", tg.Post.Secret)
	}
	return t.Do(req)
}

// Token revocation (RFC 7009), when advertised.
var _ = Area(66, "revocation", "Token revocation", func() {

	refRevoke := RFC(7009, "2.1")
	refRevokeResp := RFC(7009, "2.2")

	Case(Meta{
		ID:          "REVOKE-01",
		Title:       "A revoked token introspects as inactive",
		Requirement: "After the client revokes its access token (200), introspecting the token answers active false.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRevoke, refRevokeResp, RFC(7662, "2.2")},
		Policy: "The access token is revoked with the client's own authentication, as at the token endpoint. Needs an introspection endpoint too (skipped otherwise); the token must first introspect as active.",
		Hint:   "The revocation endpoint answers 200 but the token stays active: invalidate it (RFC 7009 §2.1: \"the token is invalidated immediately\" for access tokens the server can invalidate).",
	}, func(t *T) {
		introspectionURL(t)
		method, r, _ := freshToken(t)
		tok := r.Str("access_token")
		before := introspectOK(t, "Introspection (before revocation)", tok, tok)
		if before.JSON["active"] != true {
			t.NotRun("the fresh token does not introspect as active (see INTRO-ACT-01)")
		}
		rv := revoke(t, "Revocation", method, tok)
		if !t.Must("revocation", "200 (RFC 7009 §2.2)", DescribeAnswer(rv), Equal("200")) {
			return
		}
		_, r2, _ := freshToken(t) // a live token to authenticate the introspection
		after := introspectOK(t, "Introspection (after revocation)", tok, r2.Str("access_token"))
		t.Must("active", "false: the token was revoked", after.JSON["active"], Equal(false))
	})

	Case(Meta{
		ID:          "REVOKE-02",
		Title:       "A revoked token no longer works at the FHIR server",
		Requirement: "A token that was accepted at the FHIR server is refused (401) there after the client revokes it.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRevoke, refBSEnforce, RFC(6750, "3.1")},
		Policy: "Needs the FHIR server (trust.resourceServer); the token is first shown to work there.",
		Hint:   "The resource server keeps accepting a revoked token (a cached introspection, or a JWT checked only by signature and exp).",
	}, func(t *T) {
		u := fhirResourceURL(t)
		revocationURL(t)
		method, r, _ := freshToken(t)
		tok := r.Str("access_token")
		before := fhirGET(t, "FHIR search (before revocation)", u, "Bearer", tok)
		if before.Status/100 != 2 {
			t.NotRun(fmt.Sprintf("the token is not accepted at the FHIR server before revocation (%d; see RS-VALID-01)", before.Status))
		}
		rv := revoke(t, "Revocation", method, tok)
		if !t.Must("revocation", "200 (RFC 7009 §2.2)", DescribeAnswer(rv), Equal("200")) {
			return
		}
		after := fhirGET(t, "FHIR search (after revocation)", u, "Bearer", tok)
		t.Must("status", "401: the token was revoked", after.Status, Equal(http.StatusUnauthorized))
	})

	Case(Meta{
		ID:          "REVOKE-03",
		Title:       "Revoking an unknown token is answered 200",
		Requirement: "A revocation request, authenticated, for a value that is no token of the server is answered 200.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRevokeResp},
		Hint: "RFC 7009 §2.2: \"invalid tokens do not cause an error response\"; the client cannot do anything useful with such an error.",
	}, func(t *T) {
		revocationURL(t)
		method, _ := t.AnyValidRequest()
		rv := revoke(t, "Revocation (a value never issued)", method, "smartconform-not-a-token-0123456789abcdef")
		t.Must("status", "200 (RFC 7009 §2.2)", DescribeAnswer(rv), Equal("200"))
	})
})
