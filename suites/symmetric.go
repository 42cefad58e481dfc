package suites

import (
	"fmt"
	"slices"
)

// Client secrets: client_secret_basic and client_secret_post (RFC 6749
// §2.3.1; SMART App Launch 2.2 client-confidential-symmetric).
var _ = Area("client-secret", "Client authentication: client secrets", func() {

	Case(Meta{
		ID:          "SYM-BASIC-01",
		Title:       "Correct client_secret_basic credentials are accepted",
		Requirement: "A client_credentials request with Authorization: Basic base64(urlencode(client_id):urlencode(secret)) and the correct secret gets an access token.",
		Level:       MUST, Method: ClientSecretBasic,
		Refs:   []Ref{refRFC6749Auth, refSym},
		Policy: "AMB-SYM-1: routine secrets are made of unreserved characters, so form-urlencoding inside Basic makes no difference here. AMB-SYM-2: SMART does not intend secrets for Backend Services, but servers that register them must honour them.",
		Hint:   "The server must support HTTP Basic for clients issued a secret (RFC 6749 §2.3.1); check the registered secret and that the server form-urldecodes the id and secret after Base64.",
	}, func(t *T) {
		t.RequireClient(ClientSecretBasic)
		c := t.Target().Basic
		t.ExpectToken(t.Do(t.BasicRequest(c.ClientID, c.Secret)))
	})

	Case(Meta{
		ID:          "SYM-BASIC-02",
		Title:       "A wrong secret in Authorization: Basic gets 401 with a challenge",
		Requirement: "A client_secret_basic request with a wrong secret is refused with 401 invalid_client and a WWW-Authenticate header.",
		Level:       MUST, Method: ClientSecretBasic, Negative: true,
		Refs: []Ref{refRFC6749Error, refRFC7235Chall, refRFC6749Auth},
		Hint: "When the client authenticated with the Authorization header, RFC 6749 §5.2 requires 401 and a WWW-Authenticate header matching the scheme (Basic); a 400, or a 401 without the challenge, breaks clients that retry with credentials.",
	}, func(t *T) {
		t.RequireBaseline(ClientSecretBasic)
		c := t.Target().Basic
		t.ExpectRejected(t.Do(t.BasicRequest(c.ClientID, c.Secret+"-wrong")), Rejection{HeaderScheme: "Basic", Codes: []string{"invalid_client"}})
	})

	postAdvertised := func(t *T) {
		if d, err := t.env.discovery(t.ctx); err == nil {
			if m := d.StringList("token_endpoint_auth_methods_supported"); len(m) > 0 && !slices.Contains(m, ClientSecretPost) {
				t.Skip(fmt.Sprintf("the server does not advertise client_secret_post (it advertises %v)", m))
			}
		}
	}

	Case(Meta{
		ID:          "SYM-POST-01",
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
})
