package suites

import (
	"encoding/json"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/fixtures"
	. "github.com/smartconform/smartconform/suites/engine"
)

// OpenID Connect in SMART App Launch (scopes-and-launch-context "Scopes for
// requesting identity data", capability sso-openid-connect; OpenID Connect
// Core 1.0 §3.1.3.7).

// idTokenFlow runs a flow asking for openid fhirUser with a nonce and
// returns the request, the token response and the id_token's decoded
// header and claims. The case is skipped when the server does not
// advertise sso-openid-connect; a missing id_token is a finding.
func idTokenFlow(t *T) (AuthRequest, *Response, string, map[string]any, map[string]any) {
	t.RequireLaunchBaseline()
	d := t.Discovery()
	if !slices.Contains(d.StringList("capabilities"), "sso-openid-connect") {
		t.Skip("the server does not advertise the sso-openid-connect capability")
	}
	c := t.LaunchClient()
	res, resp := t.TokensFor(c, func(r *AuthRequest) { r.Scope = withScope(r.Scope, "openid", "fhirUser") })
	idt := resp.Str("id_token")
	if !t.Must("id_token", "an id_token in the token response (openid was requested, sso-openid-connect is advertised)", idt, Not(BeEmpty())) {
		t.NotRun("there is no id_token to judge")
	}
	h, claims, err := fixtures.DecodeCompact(idt)
	if err != nil {
		t.Must("id_token", "a compact JWS", err.Error(), BeEmpty())
		t.NotRun("the id_token does not decode")
	}
	return res.Request, resp, idt, h, claims
}

// audience returns the aud claim as a list.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var _ = Area(120, "openid", "SMART App Launch: OpenID Connect id_token", func() {

	Case(Meta{
		ID:          "IDTOKEN-01",
		Title:       "The id_token is signed with RS256 by a key published at jwks_uri",
		Requirement: "The id_token is a JWS signed with RS256 whose signature verifies with a key of the server's jwks_uri.",
		Level:       MUST,
		Refs:        []Ref{refScopesID, refOIDCIDToken},
		Policy:      "The keys are read at the jwks_uri of smart-configuration, else of openid-configuration; whether smart-configuration advertises jwks_uri is DISC-OIDC-01's requirement, so a server naming none is reported not run here.",
		Hint:        "The id_token does not verify with the keys at jwks_uri (unpublished or rotated-out key, wrong kid, or another algorithm): apps cannot trust the identity.",
	}, func(t *T) {
		_, _, idt, h, _ := idTokenFlow(t)
		t.Must("id_token alg", "RS256", h["alg"], Equal("RS256"))
		// Whether smart-configuration advertises jwks_uri is DISC-OIDC-01's
		// to judge: the keys are taken from wherever the server names them.
		_, ju := discoveredIssuerAndJWKS(t)
		if ju == "" {
			t.NotRun("neither smart-configuration nor openid-configuration names a jwks_uri, so the id_token's signature cannot be checked (DISC-OIDC-01 judges the advertisement)")
		}
		r := t.Do(Request{Label: "JWKS", Method: "GET", URL: ju, Endpoint: EndpointJWKS, Header: map[string][]string{"Accept": {"application/json"}}})
		var set jose.JSONWebKeySet
		if r.Status != 200 || json.Unmarshal(r.Body, &set) != nil {
			t.Must("jwks_uri", "200 with a JSON Web Key Set", DescribeAnswer(r), Equal("200 and a key set"))
			return
		}
		jws, err := jose.ParseSigned(idt, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.PS256})
		if err != nil {
			t.Must("id_token", "a compact JWS", err.Error(), BeEmpty())
			return
		}
		kid, _ := h["kid"].(string)
		keys := set.Keys
		if kid != "" {
			keys = set.Key(kid)
		}
		verified := false
		for _, k := range keys {
			if _, err := jws.Verify(k.Public()); err == nil {
				verified = true
				break
			}
		}
		t.Must("id_token signature", "verifies with a key published at jwks_uri (kid "+kid+")", verified, BeTrue())
	})

	Case(Meta{
		ID:          "IDTOKEN-02",
		Title:       "The id_token's iss is the issuer and its aud the client",
		Requirement: "The id_token's iss equals the issuer the server advertises, and its aud contains the client_id.",
		Level:       MUST,
		Refs:        []Ref{refOIDCIDToken, refScopesID},
		Policy:      "The issuer is read from smart-configuration, else from openid-configuration; whether smart-configuration advertises issuer is DISC-OIDC-01's requirement, so a server naming none has only its aud judged here.",
		Hint:        "The id_token names another issuer or audience: OpenID Connect clients must reject it.",
	}, func(t *T) {
		r, _, _, _, claims := idTokenFlow(t)
		t.Must("id_token aud", "contains the client_id "+r.Client.ClientID, audience(claims["aud"]), ContainElement(r.Client.ClientID))
		issuer, _ := discoveredIssuerAndJWKS(t)
		if issuer == "" {
			t.Evidence("iss not judged: neither smart-configuration nor openid-configuration names an issuer (DISC-OIDC-01 judges the advertisement)", t.DiscoveryURL())
			return
		}
		t.Must("id_token iss", "the issuer "+issuer, claims["iss"], Equal(issuer))
	})

	Case(Meta{
		ID:          "IDTOKEN-03",
		Title:       "The id_token echoes the nonce",
		Requirement: "When the authorization request carries a nonce, the id_token carries the same nonce.",
		Level:       MUST,
		Refs:        []Ref{refOIDCNonce, refOIDCIDToken},
		Hint:        "The id_token does not echo the request's nonce: clients cannot detect a replayed id_token.",
	}, func(t *T) {
		r, _, _, _, claims := idTokenFlow(t)
		t.Must("id_token nonce", "the nonce of the request", claims["nonce"], Equal(r.Nonce))
	})

	Case(Meta{
		ID:          "IDTOKEN-04",
		Title:       "The id_token has fhirUser when fhirUser is granted",
		Requirement: "When the fhirUser scope is granted, the id_token carries a fhirUser claim: the URL of a FHIR resource for the user.",
		Level:       MUST,
		Refs:        []Ref{refScopesID},
		Hint:        "The server granted fhirUser but the id_token has no fhirUser claim.",
	}, func(t *T) {
		r, resp, _, _, claims := idTokenFlow(t)
		if !slices.Contains(grantedScopes(resp, r.Scope), "fhirUser") {
			t.Skip("fhirUser was not granted")
		}
		fu, _ := claims["fhirUser"].(string)
		if t.Must("fhirUser claim", "a string naming a FHIR resource", fu, Not(BeEmpty())) {
			t.Should("fhirUser claim", "a Patient, Practitioner, PractitionerRole, RelatedPerson or Person", fu, Satisfy(func(s string) bool {
				for _, ty := range []string{"Patient/", "Practitioner/", "PractitionerRole/", "RelatedPerson/", "Person/"} {
					if strings.Contains(s, ty) {
						return true
					}
				}
				return false
			}))
		}
	})
})
