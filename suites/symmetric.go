package suites

import (
	"encoding/base64"
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"net/http"
	"net/url"
	"slices"

	"github.com/smartconform/smartconform/fixtures"
)

// Client secrets: client_secret_basic and client_secret_post (RFC 6749
// §2.3.1; SMART App Launch 2.2 client-confidential-symmetric).
var _ = Area(30, "client-secret", "Client authentication: client secrets", func() {

	Case(Meta{
		ID:          "SYM-BASIC-01",
		Baseline:    true,
		Title:       "Correct client_secret_basic credentials are accepted",
		Requirement: "A client_credentials request with Authorization: Basic carrying the correct client_id and secret gets an access token: sent raw (base64(client_id:secret), as SMART's example does) when form-urlencoding changes nothing, otherwise raw and then form-urlencoded, either form taken.",
		Level:       MUST, Method: ClientSecretBasic,
		Refs:   []Ref{refRFC6749Auth, refSym},
		Policy: "AMB-SYM-1: whether the server form-urldecodes Basic credentials is SYM-BASIC-03's question; this baseline accepts either form, so one encoding defect fails SYM-BASIC-03 alone instead of this case and every Basic negative. AMB-SYM-2: SMART does not intend secrets for Backend Services, but servers that register them must honour them.",
		Hint:   "The server must support HTTP Basic for clients issued a secret (RFC 6749 §2.3.1); check the registered client_id and secret.",
	}, func(t *T) {
		t.RequireClient(ClientSecretBasic)
		c := t.Target().Basic
		r, form := t.BasicValid(c)
		if len(BasicForms(c.ClientID, c.Secret)) > 1 && r.Status/100 == 2 {
			what := "the raw form (base64(id:secret))"
			if form == BasicAuth(c.ClientID, c.Secret) {
				what = "only the form-urlencoded form (RFC 6749 §2.3.1); the raw form was refused"
			}
			t.Evidence("Observed: for credentials that form-urlencoding changes, the server took "+what+"; later Basic requests use that form", t.TokenURL())
		}
		t.ExpectToken(r)
	})

	Case(Meta{
		ID:          "SYM-BASIC-02",
		Title:       "A wrong secret in Authorization: Basic gets 401",
		Requirement: "A client_secret_basic request with a wrong secret is refused with 401 invalid_client (its WWW-Authenticate challenge is judged by ERR-CHAL-01).",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs:  []Ref{refRFC6749Error, refRFC6749Auth},
		Hint:  "The server is not checking the secret in the Authorization: Basic header against the registered one.",
		Hints: map[string]string{BehaviourStatus: "The server refuses the wrong secret, but not with 401: when the client authenticated with the Authorization header, RFC 6749 §5.2 requires 401 (with a WWW-Authenticate challenge), which clients that retry with credentials rely on."},
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		c := t.Target().Basic
		t.ExpectRejected(t.Do(t.BasicRequest(c.ClientID, c.Secret+"-wrong")), Rejection{HeaderScheme: "Basic", Codes: []string{"invalid_client"}})
	})

	postAdvertised := func(t *T) {
		if d, err := t.DiscoveryIfAny(); err == nil {
			if m := d.StringList("token_endpoint_auth_methods_supported"); len(m) > 0 && !slices.Contains(m, ClientSecretPost) {
				t.Skip(fmt.Sprintf("the server does not advertise client_secret_post (it advertises %v)", m))
			}
		}
	}

	Case(Meta{
		ID:          "SYM-POST-01",
		Baseline:    true,
		Title:       "Correct client_secret_post credentials are accepted",
		Requirement: "When the server advertises client_secret_post, a client_credentials request with client_id and client_secret in the form body gets an access token.",
		Level:       MUST, Method: ClientSecretPost,
		Refs:   []Ref{refRFC6749Auth, refConfMetadata},
		Policy: "AMB-SYM-3: client_secret_post is optional (RFC 6749: MAY, NOT RECOMMENDED); judged only where advertised.",
		Hint:   "The server advertises client_secret_post but does not accept client_id and client_secret in the request body.",
	}, func(t *T) {
		t.RequireClient(ClientSecretPost)
		postAdvertised(t)
		c := t.Target().Post
		t.ExpectToken(t.Do(t.PostRequest(c.ClientID, c.Secret)))
	})

	Case(Meta{
		ID:          "SYM-POST-02",
		Title:       "A wrong client_secret in the body is rejected",
		Requirement: "A client_secret_post request with a wrong secret is refused with invalid_client (400 or 401).",
		Level:       MUST, Method: ClientSecretPost, Negative: true,
		Refs:   []Ref{refRFC6749Error, refRFC6749Auth},
		Policy: "AMB-ERR-1: form-based authentication failing may be answered 400 or 401.",
		Hint:   "The server is not checking client_secret against the registered secret.",
	}, func(t *T) {
		t.RequireBaseline(ClientSecretPost)
		postAdvertised(t)
		c := t.Target().Post
		t.ExpectRejected(t.Do(t.PostRequest(c.ClientID, c.Secret+"-wrong")), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client"}})
	})

	Case(Meta{
		ID:          "SYM-BASIC-03",
		Title:       "Basic credentials that need form-urlencoding are accepted",
		Requirement: "A client whose id and secret hold characters that form-urlencoding changes (space + / : % = ?) gets a token with Authorization: Basic base64(urlencode(id):urlencode(secret)).",
		Level:       MUST, Method: ClientSecretBasic,
		Refs:   []Ref{refRFC6749Auth, RFC(6749, "B")},
		Policy: "AMB-SYM-1: RFC 6749 §2.3.1 requires the id and secret to be form-urlencoded before Base64; many tools skip it, but a server must decode what a conforming client sends.",
		Hint:   "The server Base64-decodes the Basic credentials but does not form-urldecode the user name and password, so secrets with reserved characters never match. Decode each part with application/x-www-form-urlencoded rules (+ is a space, %XX an octet).",
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		c := t.Target().BasicEncoded
		if c == nil {
			t.Skip("no client_secret_basic_urlencoded client (an id or secret with reserved characters) is configured")
		}
		r := t.BasicRequestEncoded(c.ClientID, c.Secret)
		r.Label = "Token request (client_secret_basic, form-urlencoded id and secret)"
		t.ExpectToken(t.Do(r))
	})

	Case(Meta{
		ID:          "SYM-BASIC-04",
		Title:       "An unknown client in Authorization: Basic gets 401",
		Requirement: "A client_secret_basic request naming a client_id the server does not know is refused with 401 invalid_client (its WWW-Authenticate challenge is judged by ERR-CHAL-01).",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs:   []Ref{refRFC6749Error},
		Policy: "AMB-ERR-1, read literally under every profile: RFC 6749 §5.2 says that when the client attempted to authenticate via the Authorization header the server MUST respond with 401, and an unknown client_id in Basic is such an attempt. The ONC (g)(10) kit's acceptance of 400 or 401 is a peer's leniency, not a text, so a 400 fails.",
		Hint:   "The server issues a token to a client_id it does not know: it is not looking the Basic client up among its registered clients.",
		Hints:  map[string]string{BehaviourStatus: "The unknown-client path answers with another status than 401. Answer it as the wrong-secret path, 401 with WWW-Authenticate: Basic (RFC 6749 §5.2), which also avoids telling attackers which client ids exist. (The ONC (g)(10) kit accepts 400 here; RFC 6749 §5.2 does not.)"},
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		r := t.BasicRequest("smartconform-unknown-"+fixtures.NewJTI()[:8], t.Target().Basic.Secret)
		t.ExpectRejected(t.Do(r), Rejection{HeaderScheme: "Basic", Codes: []string{"invalid_client"}})
	})

	Case(Meta{
		ID:          "SYM-BASIC-05",
		Title:       "Malformed Basic credentials are rejected cleanly",
		Requirement: "An Authorization: Basic header whose credentials are not Base64, or decode without a colon, is refused with 401 invalid_client or 400 invalid_request, never a token or a server error.",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs:   []Ref{RFC(7617, "2"), refRFC6749Error},
		Policy: "400 invalid_request also fits a malformed header; the challenge a 401 carries is judged by ERR-CHAL-01.",
		Hint:   "The server issues a token for Basic credentials it cannot decode. Treat undecodable credentials as failed client authentication (401 with a Basic challenge).",
		Hints:  map[string]string{BehaviourServerError: "The Basic parser's errors escape as 500s. Treat undecodable credentials as failed client authentication (401 with a Basic challenge)."},
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		c := t.Target().Basic
		for _, m := range []struct{ name, value string }{
			{"not Base64", "Basic %%%not-base64%%%"},
			{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ClientID+c.Secret))},
		} {
			r := t.BasicRequest(c.ClientID, c.Secret)
			r.Header = http.Header{"Authorization": {m.value}}
			r.Label = "Token request (malformed Basic credentials: " + m.name + ")"
			t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client", "invalid_request"}})
		}
	})

	Case(Meta{
		ID:          "SYM-QUERY-01",
		Title:       "A client secret in the URL query string is rejected",
		Requirement: "A request whose client_id and client_secret are in the URL query string rather than the body should be refused.",
		Level:       SHOULD, Method: ClientSecretPost, Negative: true,
		Refs:   []Ref{refRFC6749Auth, RFC(6749, "3.2")},
		Policy: "TEP-HTTP-03: RFC 6749 §2.3.1 forbids the client to put credentials in the URI; refusing them is a derived server obligation, so acceptance warns.",
		Hint:   "The server reads parameters from the query string and the body alike. Secrets in a URL end up in access logs, proxies and browser history; read them from the body only.",
	}, func(t *T) {
		t.RequireBaseline(ClientSecretPost)
		postAdvertised(t)
		c := t.Target().Post
		r := t.PostRequest(c.ClientID, c.Secret)
		q := url.Values{"client_id": {c.ClientID}, "client_secret": {c.Secret}}
		r = WithForm(WithForm(r, "client_id"), "client_secret")
		r.URL += "?" + q.Encode()
		r.Label = "Token request (client secret in the URL query)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request", "invalid_client"}, Level: SHOULD})
	})

	Case(Meta{
		ID:          "SYM-MULTI-01",
		Title:       "Basic credentials together with a client_secret in the body are rejected",
		Requirement: "A request authenticated by Authorization: Basic for one client that also carries client_id and client_secret of another client in the body is refused: a client uses one authentication method per request.",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs:   []Ref{refRFC6749Multi, refRFC6749Error},
		Policy: "AMB-AUTH-1: invalid_request expected (RFC 6749 §5.2: more than one mechanism), 401 invalid_client accepted; the two credentials name different clients, so a token is a failure.",
		Hint:   "The server picks one credential (the header) and ignores the other, so it cannot tell which client is asking. Refuse requests that carry more than one client authentication method.",
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		t.RequireClient(ClientSecretPost)
		b, p := t.Target().Basic, t.Target().Post
		r := t.BasicRequest(b.ClientID, b.Secret)
		r = WithForm(WithForm(r, "client_id", p.ClientID), "client_secret", p.Secret)
		r.Label = "Token request (Basic and client_secret_post of another client)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request", "invalid_client"}})
	})

	Case(Meta{
		ID:          "SYM-MULTI-02",
		Title:       "Basic credentials together with a client assertion are rejected",
		Requirement: "A request authenticated by Authorization: Basic that also carries a valid client_assertion of the private_key_jwt client is refused: a client uses one authentication method per request.",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs:   []Ref{refRFC6749Multi, refRFC6749Error},
		Policy: "AMB-AUTH-1: invalid_request expected, 401 invalid_client accepted; the two credentials name different clients, so a token is a failure. Only the private_key_jwt baseline is needed (the assertion alone is accepted, so refusing it with the header proves the header was not ignored); a server that refuses Basic altogether is still judged.",
		Hint:   "The server uses the assertion and ignores the Authorization header (or the reverse). Refuse requests that carry more than one client authentication method.",
	}, func(t *T) {
		t.RequireClient(ClientSecretBasic)
		t.RequireBaseline(PrivateKeyJWT)
		b := t.Target().Basic
		r := t.AssertionRequest(t.Assertion())
		r.Header = http.Header{"Authorization": {BasicAuth(b.ClientID, b.Secret)}}
		r.Label = "Token request (Basic and a client assertion)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request", "invalid_client"}})
	})

	Case(Meta{
		ID:          "SYM-JWT-01",
		Title:       "An HS256 assertion keyed with a Basic client's secret is rejected",
		Requirement: "A client assertion for the client_secret_basic client, signed HS256 with its secret (client_secret_jwt), should be refused when the server does not advertise client_secret_jwt.",
		Level:       SHOULD, Method: ClientSecretBasic, Negative: true,
		Refs:   []Ref{refRFC8725Alg, refAsymAuth, RFC(7523, "3.2")},
		Policy: "SMART defines JWT client authentication with asymmetric keys only; skipped when client_secret_jwt is advertised. An acceptance is judged whatever the Basic baseline did; a refusal proves something only if the secret works, so it needs the Basic baseline (not run otherwise).",
		Hint:   "The server accepts symmetric (HMAC) assertions for secret clients although it does not advertise client_secret_jwt; a client registered for Basic should authenticate only with Basic.",
	}, func(t *T) {
		t.RequireClient(ClientSecretBasic)
		if d, err := t.DiscoveryIfAny(); err == nil && slices.Contains(d.StringList("token_endpoint_auth_methods_supported"), "client_secret_jwt") {
			t.Skip("the server advertises client_secret_jwt")
		}
		b := t.Target().Basic
		a, err := fixtures.AssertionSpec{ClientID: b.ClientID, TokenURL: t.TokenURL(), Now: t.AssertionNow()}.Build(fixtures.WithoutHeader("kid"), fixtures.HMACWith([]byte(b.Secret)))
		if err != nil {
			t.Errorf("could not build the assertion: %v", err)
		}
		r := t.AssertionRequest(a.Compact)
		r.Label = "Token request (HS256 assertion keyed with the client secret)"
		resp := t.Do(r)
		if resp.Status/100 != 2 || resp.Str("access_token") == "" {
			if ok, why := t.BaselineOK(ClientSecretBasic); !ok {
				t.NotRun(fmt.Sprintf("the HS256 assertion got no token (%s), but a valid client_secret_basic request is not accepted either (%s), so that proves nothing; see SYM-BASIC-01", DescribeAnswer(resp), why))
			}
		}
		t.ExpectRejected(resp, Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client", "invalid_request"}, Level: SHOULD})
	})
})
