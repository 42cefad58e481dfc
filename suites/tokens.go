package suites

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/fixtures"
	. "github.com/smartconform/smartconform/suites/engine"
)

// Shared by the trust-chain areas (tokens, introspection, revocation, the
// resource server).

// freshToken sends a valid request (AnyValidRequest: the first configured
// confidential method whose baseline is accepted) and returns the method,
// the answer and when it came; the case is not run without a token.
func freshToken(t *T) (string, *Response, time.Time) {
	method, req := t.AnyValidRequest()
	r := t.Do(req)
	at := time.Now()
	if r.Status != http.StatusOK || r.Str("access_token") == "" {
		t.NotRun(fmt.Sprintf("no token was issued (%s; see TRESP-01)", DescribeAnswer(r)))
	}
	return method, r, at
}

// clientIDOf is the configured client of a method.
func clientIDOf(t *T, method string) string {
	tg := t.Target()
	switch method {
	case PrivateKeyJWT:
		return tg.Asym.ClientID
	case ClientSecretBasic:
		return tg.Basic.ClientID
	case ClientSecretPost:
		return tg.Post.ClientID
	}
	return ""
}

// expiresIn reads expires_in, a number (or a numeric string).
func expiresIn(r *Response) (float64, bool) {
	switch v := r.JSON["expires_in"].(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// sameScopes compares two scope lists as sets.
func sameScopes(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// getJSON GETs a JSON document and ends the case as an error unless it is
// a 200 JSON object.
func getJSON(t *T, label, u, endpoint string) *Response {
	r := t.Do(Request{Label: label, Method: http.MethodGet, URL: u, Header: http.Header{"Accept": {"application/json"}}, Endpoint: endpoint})
	if r.Status != http.StatusOK || r.JSON == nil {
		t.Errorf("not run: GET %s answered %s (%s)", u, DescribeAnswer(r), ErrText(r.JSONErr))
	}
	return r
}

// oidcConfigURL is where the OpenID Connect discovery document would be:
// under the advertised issuer, else under the FHIR base.
func oidcConfigURL(t *T, d *Discovery) string {
	base := strings.TrimRight(t.Target().BaseURL, "/")
	if iss, ok := d.Doc["issuer"].(string); ok && iss != "" {
		base = strings.TrimRight(iss, "/")
	}
	return base + "/.well-known/openid-configuration"
}

// issuerAndJWKS finds the issuer and jwks_uri (discoveredIssuerAndJWKS);
// the case is skipped when neither document names them.
func issuerAndJWKS(t *T) (string, string) {
	iss, jwks := discoveredIssuerAndJWKS(t)
	if iss == "" || jwks == "" {
		t.Skip("the server advertises no issuer and jwks_uri (smart-configuration or openid-configuration), so an access token cannot be checked against them")
	}
	return iss, jwks
}

// discoveredIssuerAndJWKS finds the issuer and jwks_uri: from
// smart-configuration, else from openid-configuration ("" where neither
// names one).
func discoveredIssuerAndJWKS(t *T) (string, string) {
	d := t.Discovery()
	iss, _ := d.Doc["issuer"].(string)
	jwks, _ := d.Doc["jwks_uri"].(string)
	if iss == "" || jwks == "" {
		r := t.Do(Request{Label: "OpenID Connect discovery", Method: http.MethodGet, URL: oidcConfigURL(t, d), Header: http.Header{"Accept": {"application/json"}}, Endpoint: EndpointDiscovery})
		if r.Status == http.StatusOK && r.JSON != nil {
			if iss == "" {
				iss = r.Str("issuer")
			}
			if jwks == "" {
				jwks = r.Str("jwks_uri")
			}
		}
	}
	return iss, jwks
}

// jwtToken decodes an access token that is a JWT; an opaque token skips
// the case (it is recorded as opaque, not failed).
func jwtToken(t *T, tok string) (map[string]any, map[string]any) {
	h, c, err := fixtures.DecodeCompact(tok)
	if strings.Count(tok, ".") != 2 || err != nil {
		t.Skip("the access token is opaque (not a JWT): only the server can read it, so it is recorded as opaque and there is nothing to verify here")
	}
	return h, c
}

// numClaim reads a NumericDate claim.
func numClaim(c map[string]any, name string) (float64, bool) {
	f, ok := c[name].(float64)
	return f, ok
}

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Issued access tokens as a resource server sees them: the server's own key
// set and configuration documents, and the claims of a JWT access token
// (RFC 9068 is how resource servers validate one; SMART leaves the format
// open, so an opaque token is recorded, not failed). The claim cases
// (TOK-JWT-02..04) judge the token of the run's baseline answer; the
// signature case (TOK-JWT-01) a fresh token, since an old one's key may
// rightly be gone from jwks_uri once the token has expired.
var _ = Area(62, "issued-tokens", "Issued access tokens, as a resource server sees them", func() {

	refRFC9068Validate := RFC(9068, "4")
	refRFC9068Claims := RFC(9068, "2.2")
	refOIDCDiscovery := Ref{Label: "OpenID Connect Discovery 1.0 §4.3", URL: "https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation"}
	policyJWT := "SMART leaves the access token's format to the server. When it is a JWT, resource servers validate it as RFC 9068 §4 describes (signature by the issuer's jwks_uri, iss, exp); an opaque token is skipped with that reason."

	Case(Meta{
		ID:          "TOK-OIDC-01",
		Title:       "openid-configuration agrees with smart-configuration",
		Requirement: "When openid-configuration is advertised (sso-openid-connect) or present, its issuer, token_endpoint, authorization_endpoint, jwks_uri, introspection_endpoint and revocation_endpoint equal those of smart-configuration wherever both give them.",
		Level:       MUST,
		Refs:        []Ref{refConfMetadata, refOIDCDiscovery},
		Policy:      "Both documents describe one server: a client that follows either must reach the same endpoints and trust the same issuer. Members only one document gives are not compared; a trailing-slash difference in issuer is reported as such.",
		Hint:        "The two discovery documents are generated from different settings (often behind a proxy); derive both from one configuration of the public base URL.",
	}, func(t *T) {
		d := t.Discovery()
		u := oidcConfigURL(t, d)
		r := t.Do(Request{Label: "OpenID Connect discovery", Method: http.MethodGet, URL: u, Header: http.Header{"Accept": {"application/json"}}, Endpoint: EndpointDiscovery})
		advertised := slices.Contains(d.StringList("capabilities"), "sso-openid-connect")
		if r.Status == http.StatusNotFound && !advertised {
			t.Skip("the server neither advertises sso-openid-connect nor serves " + u)
		}
		if !t.Must("openid-configuration", "200 with a JSON object", DescribeAnswer(r)+" "+ErrText(r.JSONErr), Equal("200 ")) {
			return
		}
		for _, k := range []string{"issuer", "token_endpoint", "authorization_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"} {
			a, okA := d.Doc[k].(string)
			b, okB := r.JSON[k].(string)
			if !okA || !okB {
				continue
			}
			exp := "equal to smart-configuration's " + k + " (" + a + ")"
			if a != b && strings.TrimRight(a, "/") == strings.TrimRight(b, "/") {
				exp += "; they differ only by a trailing slash"
			}
			t.Must(k, exp, b, Equal(a))
		}
	})

	Case(Meta{
		ID:          "TOK-JWKS-01",
		Title:       "jwks_uri publishes public keys only",
		Requirement: "The key set at the server's jwks_uri is a JSON object whose keys carry no private or symmetric key material (d, p, q, dp, dq, qi, oth, k).",
		Level:       MUST,
		Refs:        []Ref{RFC(7517, "9.2"), refConfMetadata},
		Hint:        "The server publishes its private signing key. Publish only the public half (jose: key.Public()) and rotate the exposed key now.",
	}, func(t *T) {
		_, jwksURL := issuerAndJWKS(t)
		r := getJSON(t, "Server key set (jwks_uri)", jwksURL, EndpointJWKS)
		keys, ok := r.JSON["keys"].([]any)
		if !t.Must("keys", "an array of JWKs (RFC 7517 §5)", JSONType(r.JSON["keys"]), Equal("an array")) || !ok {
			return
		}
		for i, k := range keys {
			m, _ := k.(map[string]any)
			var found []string
			for _, p := range privateMembers {
				if _, has := m[p]; has {
					found = append(found, p)
				}
			}
			kid, _ := m["kid"].(string)
			t.Must(fmt.Sprintf("key %d (kid %q): private members", i+1, kid), "none of d, p, q, dp, dq, qi, oth, k (RFC 7517 §9.2)", found, BeEmpty())
		}
	})

	Case(Meta{
		ID:          "TOK-JWT-01",
		Title:       "A JWT access token verifies against the issuer's jwks_uri",
		Requirement: "When the access token is a JWT, its signature verifies with a key of the issuer's jwks_uri chosen by its kid, under an asymmetric alg.",
		Level:       MUST,
		Refs:        []Ref{refRFC9068Validate, RFC(7515, "5.2"), refBSEnforce},
		Policy:      policyJWT,
		Hint:        "Tokens are signed with a key that jwks_uri does not publish (not yet, or no longer). Publish a key before signing with it and keep it published while tokens signed with it live.",
	}, func(t *T) {
		_, jwksURL := issuerAndJWKS(t)
		_, r, _ := freshToken(t)
		tok := r.Str("access_token")
		h, _ := jwtToken(t, tok)
		kr := getJSON(t, "Server key set (jwks_uri)", jwksURL, EndpointJWKS)
		var set jose.JSONWebKeySet
		_ = json.Unmarshal(kr.Body, &set)
		alg, _ := h["alg"].(string)
		kid, _ := h["kid"].(string)
		if !t.Must("alg", "an asymmetric JWS algorithm (RS*, PS*, ES*), never none or HS*", alg, MatchRegexp(`^(RS|PS|ES)(256|384|512)$`)) {
			return
		}
		candidates := set.Keys
		if kid != "" {
			candidates = set.Key(kid)
		}
		if !t.Must("kid", "names a key of jwks_uri ("+jwksURL+")", kid, WithTransform(func(string) int { return len(candidates) }, BeNumerically(">", 0))) {
			return
		}
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		verified := false
		for _, k := range candidates {
			if err == nil {
				if _, verr := jws.Verify(k.Public().Key); verr == nil {
					verified = true
				}
			}
		}
		t.Must("signature", "verifies with the published key", verified, BeTrue())
	})

	Case(Meta{
		ID:          "TOK-JWT-02",
		Title:       "A JWT access token's iss is the issuer",
		Requirement: "When the access token is a JWT, its iss claim is exactly the server's issuer.",
		Level:       MUST,
		Refs:        []Ref{refRFC9068Validate, refRFC9068Claims},
		Policy:      policyJWT + " A trailing-slash difference is reported as such: it is still a mismatch, since resource servers compare exactly.",
		Hint:        "The token's iss and the advertised issuer come from different settings; make them one string, trailing slash included.",
	}, func(t *T) {
		iss, _ := issuerAndJWKS(t)
		_, r, _ := t.BaselineAnswer()
		_, c := jwtToken(t, r.Str("access_token"))
		got, _ := c["iss"].(string)
		exp := "exactly the issuer " + iss
		if got != iss && strings.TrimRight(got, "/") == strings.TrimRight(iss, "/") {
			exp += " (they differ only by a trailing slash)"
		}
		t.Must("iss", exp, got, Equal(iss))
	})

	Case(Meta{
		ID:          "TOK-JWT-03",
		Title:       "A JWT access token's exp agrees with expires_in",
		Requirement: "When the access token is a JWT, its exp claim is within 60 seconds of the time of the token response plus its expires_in.",
		Level:       MUST,
		Refs:        []Ref{refRFC9068Claims, refRFC6749Token},
		Policy:      policyJWT + " Skipped when the token response has no numeric expires_in.",
		Hint:        "The token's own lifetime differs from the expires_in the client is told; set both from one value.",
	}, func(t *T) {
		_, r, at := t.BaselineAnswer()
		_, c := jwtToken(t, r.Str("access_token"))
		ei, ok := expiresIn(r)
		if !ok {
			t.Skip("the token response has no numeric expires_in to compare with")
		}
		exp, has := numClaim(c, "exp")
		if !t.Must("exp", "a NumericDate (RFC 9068 §2.2: REQUIRED)", has, BeTrue()) {
			return
		}
		want := float64(at.Unix()) + ei
		t.Must("exp", fmt.Sprintf("within 60 s of %d (response time + expires_in %g)", int64(want), ei), math.Abs(exp-want), BeNumerically("<=", 60))
	})

	Case(Meta{
		ID:          "TOK-JWT-04",
		Title:       "A JWT access token's scope claim is the granted scope",
		Requirement: "When the access token is a JWT with a scope claim, the claim holds the same scopes as the token response granted.",
		Level:       MUST,
		Refs:        []Ref{RFC(9068, "2.2.3"), refRFC6749Scope, refBSIssue},
		Policy:      policyJWT + " A token without a scope claim is skipped (resource servers then ask introspection).",
		Hint:        "The token grants other scopes than the client was told: resource servers enforce the claim, so the client is over- or under-privileged without knowing.",
	}, func(t *T) {
		_, r, _ := t.BaselineAnswer()
		_, c := jwtToken(t, r.Str("access_token"))
		sc, ok := c["scope"].(string)
		if !ok {
			t.Skip("the JWT access token has no scope claim (RFC 9068 §2.2.3)")
		}
		granted := grantedScopes(r, t.Target().Scope)
		t.Must("scope claim", "the granted scope ["+strings.Join(granted, " ")+"]", strings.Fields(sc), WithTransform(func(s []string) bool { return sameScopes(s, granted) }, BeTrue()))
	})
})
