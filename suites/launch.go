package suites

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/suites/config"
	. "github.com/smartconform/smartconform/suites/engine"
)

// SMART App Launch: the authorization code flow, standalone and EHR launch,
// PKCE, the authorization endpoint's refusals, and the code exchange with
// every client-authentication method (SMART App Launch 2.2 app-launch;
// RFC 6749 §4.1, §10; RFC 7636; RFC 9700). Every case obtains its own
// authorization through the configured login driver (engine/authflow.go).

// invalidGrant is how the token endpoint refuses a bad code or refresh
// token, or a bad verifier (RFC 6749 §5.2, RFC 7636 §4.6).
var invalidGrant = Rejection{Statuses: []int{400}, Codes: []string{"invalid_grant"}}

// noCode judges an authorization request the server must refuse: the flow
// may end on an error page or with an error redirect, never with a code.
func noCode(t *T, res *AuthResult, check string) {
	t.Level(check, "no authorization code: an error redirect, or an error page without a redirect", res.Outcome(), Not(HavePrefix("redirected to the redirect URI with a code")))
}

// noRedirect judges a request the server must not redirect at all (its
// client or redirect URI cannot be trusted, RFC 6749 §4.1.2.1).
func noRedirect(t *T, res *AuthResult, check string) {
	t.Level(check, "no redirect to the redirect URI (an error page for the user)", res.Outcome(), HavePrefix("no redirect"))
}

// scopeSet splits a scope string.
func scopeSet(s string) []string { return strings.Fields(s) }

// grantedScopes are the scopes a token response grants: its scope member,
// or the requested scope when it has none (RFC 6749 §5.1: scope may be left
// out when it is what was asked for). A scope member that is not a string
// counts as absent here: its type is judged by the token response cases.
func grantedScopes(resp *Response, requested string) []string {
	if s, ok := resp.JSON["scope"].(string); ok {
		return scopeSet(s)
	}
	return scopeSet(requested)
}

// withScope adds scope tokens the request lacks.
func withScope(base string, add ...string) string {
	s := scopeSet(base)
	for _, a := range add {
		if !slices.Contains(s, a) {
			s = append(s, a)
		}
	}
	return strings.Join(s, " ")
}

var _ = Area(100, "launch", "SMART App Launch: authorization code flow", func() {

	Case(Meta{
		ID:          "LAUNCH-STANDALONE-01",
		Title:       "A standalone launch obtains a code and exchanges it for an access token",
		Requirement: "A valid standalone authorization request (response_type=code, client_id, registered redirect_uri, scope, state, aud, PKCE S256) ends with a redirect to the redirect URI carrying a code, which the token endpoint exchanges for an access token.",
		Level:       MUST,
		Refs:        []Ref{refALStandalone, refALAuthorize, refALToken, refRFC6749Code},
		Hint:        "The server did not complete a valid standalone launch: check the client's registered redirect URI and scopes, the login script (launch.login), and the token endpoint's authorization_code grant.",
	}, func(t *T) {
		c := t.LaunchClient()
		res := t.Authorize(t.NewAuthRequest(c))
		if !t.Must("authorization response", "a redirect to the redirect URI with a code", res.Outcome(), HavePrefix("redirected to the redirect URI with a code")) {
			return
		}
		t.ExpectToken(t.Do(t.CodeRequest(c, res)))
	})

	Case(Meta{
		ID:          "LAUNCH-EHR-01",
		Title:       "An EHR launch with its launch parameter obtains a code and an access token",
		Requirement: "After the EHR launches the app (iss and launch on the app's launch URL), an authorization request with the launch scope and that launch value ends with a code that is exchanged for an access token.",
		Level:       MUST,
		Refs:        []Ref{refALEHR, refScopesContext, refALAuthorize},
		Hint:        "The server refused an EHR launch: the launch value must be accepted with the launch scope for the client it was issued to.",
	}, func(t *T) {
		c := t.LaunchClient()
		launch, iss := ehrLaunch(t, c)
		t.Should("iss of the EHR launch", "the FHIR base URL (the app checks iss before it trusts the launch)", strings.TrimRight(iss, "/"), Equal(strings.TrimRight(t.Target().BaseURL, "/")))
		r := t.NewAuthRequest(c)
		r.Scope, r.Launch = ehrScope(r.Scope), launch
		res := t.Authorize(r)
		if !t.Must("authorization response", "a redirect to the redirect URI with a code", res.Outcome(), HavePrefix("redirected to the redirect URI with a code")) {
			return
		}
		t.ExpectToken(t.Do(t.CodeRequest(c, res)))
	})

	Case(Meta{
		ID:          "LAUNCH-STATE-01",
		Title:       "The authorization response returns state unchanged",
		Requirement: "The redirect carrying the code carries the exact state value of the request, characters that need URL-encoding included.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Code, refALAuthorize},
		Hint:        "The state came back altered (decoded, re-encoded, truncated or extended); apps compare it byte for byte to defeat CSRF, so they will refuse the response.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.State = RandomValue(12) + "-._~ +/=:"
		res := t.Authorize(r)
		if !res.HasCode() {
			t.NotRun("the authorization request ended " + res.Outcome())
		}
		t.Must("state", "exactly the state sent ("+r.State+")", res.State, Equal(r.State))
	})

	Case(Meta{
		ID:          "PKCE-NONE-01",
		Title:       "An authorization without PKCE is refused",
		Requirement: "An authorization request without code_challenge is refused, or its code is not exchanged without a code_verifier.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refPKCE, refRFC9700PKCE, refRFC7636Verify},
		Hint: "The server issued and exchanged a code without PKCE: SMART App Launch requires PKCE for every client, and the token endpoint must insist on the code_verifier.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.PKCE = PKCENone
		res := t.Authorize(r)
		if !res.HasCode() {
			noCode(t, res, "authorization without code_challenge")
			return
		}
		res.Verifier = ""
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), Rejection{Statuses: []int{400}, Codes: []string{"invalid_grant", "invalid_request"}})
	})

	Case(Meta{
		ID:          "PKCE-PLAIN-01",
		Title:       "PKCE with the plain method is refused",
		Requirement: "An authorization request with code_challenge_method=plain is refused, or its code is not exchanged for the plain verifier.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refPKCE, refRFC7636Chall},
		Hint: "The server accepted plain PKCE: SMART App Launch says servers SHALL NOT support the plain method, which a code interceptor defeats.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.PKCE = PKCEPlain
		res := t.Authorize(r)
		if !res.HasCode() {
			noCode(t, res, "authorization with code_challenge_method=plain")
			return
		}
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), Rejection{Statuses: []int{400}, Codes: []string{"invalid_grant", "invalid_request"}})
	})

	Case(Meta{
		ID:          "PKCE-VERIFIER-01",
		Title:       "A wrong code_verifier is refused",
		Requirement: "A code issued with an S256 code_challenge is not exchanged with a code_verifier that does not match it.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC7636Verify, refPKCE},
		Hint: "The server exchanged the code for a verifier that does not hash to the challenge: PKCE then protects nothing.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res := t.CodeFor(c)
		res.Verifier = RandomValue(32)
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), invalidGrant)
	})

	Case(Meta{
		ID:          "PKCE-VERIFIER-02",
		Title:       "A code exchange without code_verifier is refused",
		Requirement: "A code issued with a code_challenge is not exchanged without a code_verifier.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC7636Verify, refPKCE},
		Hint: "The server exchanged a PKCE-bound code without any code_verifier: SMART requires the server to ensure the verifier is present and valid.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res := t.CodeFor(c)
		res.Verifier = ""
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), Rejection{Statuses: []int{400}, Codes: []string{"invalid_grant", "invalid_request"}})
	})

	Case(Meta{
		ID:          "AUTHZ-REDIR-01",
		Title:       "An unregistered redirect_uri is never redirected to",
		Requirement: "An authorization request whose redirect_uri is not registered for the client is not redirected to that URI, neither with a code nor with an error.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeEr, refRFC6749Redir, refRFC9700Redir},
		Hint: "The server redirected to a redirect URI the client never registered: an open redirector, and with a code a token theft. It must show the user an error instead.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.RedirectURI = unregisteredRedirect(t)
		noRedirect(t, t.Authorize(r), "authorization with an unregistered redirect_uri")
	})

	Case(Meta{
		ID:          "AUTHZ-CLIENT-01",
		Title:       "An unknown client_id is never redirected",
		Requirement: "An authorization request whose client_id is not registered is not redirected to its redirect_uri.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeEr, refRFC6749Sec},
		Hint: "The server redirected for a client it does not know: it cannot trust the redirect URI, so it must show the user an error instead (RFC 6749 §4.1.2.1).",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.ClientID = "smartconform-unknown-" + RandomValue(6)
		noRedirect(t, t.Authorize(r), "authorization with an unknown client_id")
	})

	Case(Meta{
		ID:          "AUTHZ-AUD-01",
		Title:       "A wrong aud is refused",
		Requirement: "An authorization request whose aud is not the FHIR base URL of the server does not get a code.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refALAuthorize},
		Hint: "The server issued a code for an aud that is not its FHIR base URL: aud is how SMART keeps a token from being sent to a counterfeit resource server.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.Aud = "https://counterfeit-fhir.smartconform.invalid/fhir"
		noCode(t, t.Authorize(r), "authorization with a foreign aud")
	})

	Case(Meta{
		ID:          "AUTHZ-AUD-02",
		Title:       "A missing aud is refused",
		Requirement: "An authorization request without aud does not get a code.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refALAuthorize},
		Hint: "The server issued a code without aud: SMART App Launch makes aud REQUIRED and the server must validate it.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.Aud = "-"
		noCode(t, t.Authorize(r), "authorization without aud")
	})

	Case(Meta{
		ID:          "AUTHZ-ERR-01",
		Title:       "Authorization errors are redirected with error and state",
		Requirement: "An authorization request with an unsupported response_type (and one with an invalid scope, when the server refuses it) is answered by a redirect to the redirect URI carrying error and the request's state.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeEr},
		Hint: "The error redirect lacks error or state: the app cannot tell its own request's failure from a forged response.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		r := t.NewAuthRequest(c)
		r.ResponseType = "smartconform_unsupported"
		res := t.Authorize(r)
		if t.Must("unsupported response_type", "a redirect to the redirect URI with error (RFC 6749 §4.1.2.1)", res.Outcome(), HavePrefix("redirected to the redirect URI with error=")) {
			t.Should("error code", "unsupported_response_type", res.Error, Equal("unsupported_response_type"))
			t.Must("state of the error redirect", "the request's state", res.State, Equal(r.State))
		}
		r = t.NewAuthRequest(c)
		r.Scope = "smartconform/unknown:scope"
		res = t.Authorize(r)
		if res.Redirected && res.Error != "" {
			t.Must("state of the invalid-scope error redirect", "the request's state", res.State, Equal(r.State))
		}
	})

	Case(Meta{
		ID:          "CODE-REDIR-01",
		Title:       "A code exchange with another redirect_uri is refused",
		Requirement: "A code is not exchanged when the token request's redirect_uri differs from the authorization request's.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeTk},
		Hint: "The server does not compare the redirect_uri of the code exchange with the one the code was issued for (RFC 6749 §4.1.3).",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res := t.CodeFor(c)
		other := t.Launch().RedirectURI2
		if other == "" || other == res.Request.RedirectURI {
			other = res.Request.RedirectURI + "-other"
		}
		res.Request.RedirectURI = other
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), invalidGrant)
	})

	Case(Meta{
		ID:          "CODE-REUSE-01",
		Title:       "A code is exchanged only once",
		Requirement: "A second exchange of an authorization code that was already exchanged is refused.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749Code, refRFC6749CodeTk},
		Hint: "The server exchanged one code twice: an intercepted code stays usable after the app has used it.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res, _ := t.TokensFor(c)
		t.ExpectRejected(t.Do(t.CodeRequest(c, res)), invalidGrant)
	})

	Case(Meta{
		ID:          "CODE-REUSE-02",
		Title:       "Reusing a code revokes the tokens of its first use",
		Requirement: "After an authorization code is presented a second time, the tokens issued on its first use are revoked (observed by introspection or by their refresh token).",
		Level:       SHOULD, Negative: true,
		Refs: []Ref{refRFC6749Code},
		Hint: "The tokens of a reused code keep working: RFC 6749 §4.1.2 says the server SHOULD revoke them, since the reuse means the code leaked.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient(ClientSecretBasic, ClientSecretPost, PrivateKeyJWT, AuthNone)
		res, first := t.TokensFor(c)
		second := t.Do(t.CodeRequest(c, res))
		if second.Status/100 == 2 {
			t.NotRun("the code was exchanged twice, so there is nothing to revoke on reuse (see CODE-REUSE-01)")
		}
		d, _ := t.DiscoveryIfAny()
		var introspect string
		if d != nil {
			introspect, _ = d.Doc["introspection_endpoint"].(string)
		}
		// The refresh token of the first use is the direct observation;
		// introspection, where advertised, is the fallback.
		switch {
		case first.Str("refresh_token") != "":
			requireRefresh(t)
			t.ExpectRejected(t.Do(t.RefreshRequest(c, first.Str("refresh_token"), "")), invalidGrant.At(SHOULD))
		case introspect != "" && c.Method != AuthNone:
			req := t.WithClientAuth(c, Request{Label: "Introspection of the first access token", URL: introspect, Endpoint: EndpointIntrospect,
				Form: url.Values{"token": {first.Str("access_token")}, "token_type_hint": {"access_token"}}})
			r := t.Do(req)
			if r.Status != 200 || r.JSON == nil {
				t.Skip("the introspection endpoint answered " + DescribeAnswer(r) + ", so revocation is not observable")
			}
			t.Should("the first access token after the code's reuse", "inactive (active: false)", r.JSON["active"], Equal(false))
		default:
			t.Skip("no introspection endpoint is advertised and no refresh token was issued, so the revocation is not observable")
		}
	})

	Case(Meta{
		ID:          "CODE-CLIENT-01",
		Title:       "A code presented by another client is refused",
		Requirement: "A code issued to one client is not exchanged by another client, even one that authenticates correctly.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeTk},
		Hint: "The server does not bind the code to the client it was issued to (RFC 6749 §4.1.3).",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		other, ok := t.LaunchClientFor(AuthNone)
		if !ok || other.ClientID == c.ClientID {
			other = t.OtherLaunchClient(c)
		}
		res := t.CodeFor(c)
		t.ExpectRejected(t.Do(t.CodeRequest(other, res)), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_grant"}})
	})

	Case(Meta{
		ID:          "LAUNCH-CTX-01",
		Title:       "The token response carries the launch context asked for",
		Requirement: "When launch/patient is granted, the code-exchange response carries patient (a string); need_patient_banner, smart_style_url and encounter, when present, have their types.",
		Level:       MUST,
		Refs:        []Ref{refScopesLaunchC, refScopesContext, refALToken},
		Hint:        "The server granted launch/patient but its token response carries no patient: the app has no patient to open.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res, resp := t.TokensFor(c, func(r *AuthRequest) { r.Scope = withScope(r.Scope, "launch/patient") })
		granted := grantedScopes(resp, res.Request.Scope)
		if !slices.Contains(granted, "launch/patient") {
			t.Skip("launch/patient was not granted (granted: " + strings.Join(granted, " ") + ")")
		}
		t.Must("patient", "a non-empty string (launch/patient was granted)", resp.Str("patient"), Not(BeEmpty()))
		if resp.Has("need_patient_banner") {
			t.Must("need_patient_banner", "a boolean", JSONType(resp.JSON["need_patient_banner"]), Equal("a boolean"))
		}
		for _, k := range []string{"smart_style_url", "encounter"} {
			if resp.Has(k) {
				t.Must(k, "a non-empty string", resp.Str(k), Not(BeEmpty()))
			}
		}
	})

	Case(Meta{
		ID:          "SCOPE-GRANT-01",
		Title:       "The scopes granted stay within those requested",
		Requirement: "The scope of the code-exchange response holds no scope beyond those requested and approved.",
		Level:       MUST,
		Refs:        []Ref{refRFC6749Scope, refScopes, refALToken},
		Hint:        "The server granted a scope the app never asked for: access beyond what the user approved.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient()
		res, resp := t.TokensFor(c)
		requested := scopeSet(res.Request.Scope)
		var beyond []string
		for _, g := range grantedScopes(resp, res.Request.Scope) {
			if !ScopeCovered(g, requested) {
				beyond = append(beyond, g)
			}
		}
		t.Must("scopes granted beyond the request", "none (requested: "+res.Request.Scope+")", beyond, BeEmpty())
	})
})

// ---- the code exchange, per client-authentication method ----

var _ = Area(105, "launch-client-auth", "SMART App Launch: code exchange by client type", func() {

	// exchange judges c's code exchange. A refusal when the same client's
	// valid request is refused at the token endpoint too (its baseline) is
	// the method's own defect, judged by its positive case: the exchange is
	// then not run.
	exchange := func(t *T, methods ...string) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient(methods...)
		res := t.CodeFor(c)
		r := t.Do(t.CodeRequest(c, res))
		if r.Status/100 != 2 && c.Method != AuthNone {
			if ok, why := t.BaselineOK(c.Method); !ok {
				t.NotRun(fmt.Sprintf("the code exchange was refused (%s), and so is a valid %s client_credentials request of the same client (%s): the client's authentication itself is refused, which the %s cases judge", DescribeAnswer(r), c.Method, why, c.Method))
			}
		}
		t.ExpectToken(r)
	}

	Case(Meta{
		ID:          "CODE-PUB-01",
		Title:       "A public client exchanges its code with PKCE only",
		Requirement: "A public client's code is exchanged for a token with client_id and code_verifier, without any client secret.",
		Level:       MUST, Method: AuthNone,
		Refs: []Ref{refALToken, refPKCE},
		Hint: "The server refused a public client's code exchange: public (browser and native) apps authenticate by PKCE only.",
	}, func(t *T) { exchange(t, AuthNone) })

	Case(Meta{
		ID:          "CODE-SYM-01",
		Title:       "A client-secret client exchanges its code",
		Requirement: "A client registered with a secret exchanges its code with client_secret_post (or client_secret_basic).",
		Level:       MUST, Method: ClientSecretPost,
		Refs:   []Ref{refSym, refALToken, refRFC6749Auth},
		Policy: "A refusal while the same client's valid client_credentials request is refused too is reported not run: the client's authentication itself is then judged by the method's own cases (SYM-*, ASYM-POS-*).",
		Hint:   "The server refused a code exchange authenticated with the client's secret.",
	}, func(t *T) { exchange(t, ClientSecretPost, ClientSecretBasic) })

	Case(Meta{
		ID:          "CODE-ASYM-01",
		Title:       "A private_key_jwt client exchanges its code",
		Requirement: "A client registered with a public key exchanges its code with a client assertion (private_key_jwt).",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs:   []Ref{refAsymCode, refALToken},
		Policy: "A refusal while the same client's valid client_credentials request is refused too is reported not run: the client's authentication itself is then judged by the method's own cases (SYM-*, ASYM-POS-*).",
		Hint:   "The server refused a code exchange authenticated with a client assertion: SMART's asymmetric client authentication applies to the authorization_code grant too.",
	}, func(t *T) { exchange(t, PrivateKeyJWT) })

	Case(Meta{
		ID:          "CODE-AUTH-01",
		Title:       "A confidential client's code is not exchanged without client authentication",
		Requirement: "A code issued to a confidential client is not exchanged by a request that carries only its client_id.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeTk, refRFC6749Conf},
		Hint: "The server exchanged a confidential client's code without authenticating the client (RFC 6749 §4.1.3: it MUST require client authentication for confidential clients).",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient(ClientSecretBasic, ClientSecretPost, PrivateKeyJWT)
		res := t.CodeFor(c)
		bare := c
		bare.Method = AuthNone
		t.ExpectRejected(t.Do(t.CodeRequest(bare, res)), InvalidClient)
	})

	Case(Meta{
		ID:          "CODE-AUTH-02",
		Title:       "A code exchange with a wrong client secret is refused",
		Requirement: "A secret client's code is not exchanged when the client secret is wrong.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749CodeTk, refRFC6749Auth},
		Hint: "The server exchanged a code although the client secret was wrong.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient(ClientSecretPost, ClientSecretBasic)
		res := t.CodeFor(c)
		bad := c
		bad.Secret += "-wrong"
		x := InvalidClient
		x.ChallengeOn401 = c.Method == ClientSecretBasic
		t.ExpectRejected(t.Do(t.CodeRequest(bad, res)), x)
	})

	Case(Meta{
		ID:          "CODE-AUTH-03",
		Title:       "A code exchange with a badly signed client assertion is refused",
		Requirement: "A private_key_jwt client's code is not exchanged when its client assertion is signed by a key the client never registered.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refAsymCode, refRFC6749CodeTk},
		Hint: "The server exchanged a code although the client assertion's signature does not verify with the client's registered keys.",
	}, func(t *T) {
		t.RequireLaunchBaseline()
		c := t.LaunchClient(PrivateKeyJWT)
		res := t.CodeFor(c)
		k, err := ForeignKey(c.Keys[0].Alg) // registered nowhere, under the client's kid
		if err != nil {
			t.Errorf("could not make a rogue key: %v", err)
		}
		k.KID, k.JWK.KeyID = c.Keys[0].KID, c.Keys[0].KID
		rogue := c
		rogue.Keys = []fixtures.SigningKey{k}
		t.ExpectRejected(t.Do(t.CodeRequest(rogue, res)), InvalidClient)
	})
})

// ehrLaunch starts an EHR launch for c at the configured launch starter and
// returns the launch and iss the EHR sends to the app's launch URL.
func ehrLaunch(t *T, c LaunchClient) (launch, iss string) {
	l := t.Launch()
	if l.LaunchStartURL == "" || l.LaunchURL == "" {
		t.Skip("no EHR launch is configured (launch.launchStartUrl and launch.launchUrl)")
	}
	u := l.LaunchStartURL
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	// The launch starter is the test setup's way to play the EHR, not an
	// endpoint SMART defines: when it cannot start a launch, the EHR launch
	// is not run (never an error or a failure of the server). A target that
	// does not answer at all makes the case an error first (AuthorizeURL
	// reads discovery).
	t.AuthorizeURL()
	r, err := t.TryDo(Request{Label: "EHR launch", Method: "GET", URL: u + sep + url.Values{"client_id": {c.ClientID}}.Encode()})
	if err != nil {
		t.NotRun(fmt.Sprintf("the EHR launch starter (launch.launchStartUrl) gave no answer, so no EHR launch could be started: %v", err))
	}
	loc := r.Header.Get("Location")
	lu, err := url.Parse(loc)
	if r.Status/100 != 3 || err != nil || !strings.HasPrefix(loc, l.LaunchURL) {
		t.NotRun(fmt.Sprintf("the EHR launch starter (launch.launchStartUrl) answered %d, not a redirect to the app's launch URL %s, so no EHR launch could be started", r.Status, l.LaunchURL))
	}
	launch, iss = lu.Query().Get("launch"), lu.Query().Get("iss")
	if launch == "" {
		t.Errorf("the EHR launch carries no launch parameter")
	}
	return launch, iss
}

// ehrScope is the scope of an EHR launch: launch instead of launch/patient.
func ehrScope(s string) string {
	var out []string
	for _, x := range scopeSet(s) {
		if x != "launch/patient" && x != "launch/encounter" {
			out = append(out, x)
		}
	}
	return strings.Join(append([]string{"launch"}, out...), " ")
}

// unregisteredRedirect is a redirect URI no client registered: another
// host, or (the interactive driver only sees its loopback listener)
// another path.
func unregisteredRedirect(t *T) string {
	l := t.Launch()
	if l.Driver == config.DriverInteractive {
		return strings.TrimRight(l.RedirectURI, "/") + "/unregistered-by-smartconform"
	}
	return "https://unregistered.smartconform.invalid/callback"
}
