package suites

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
)

// private_key_jwt: RFC 7523 client assertions as SMART App Launch 2.2
// profiles them (client-confidential-asymmetric).
var _ = Area("private_key_jwt", "Client authentication: private_key_jwt (RFC 7523 assertions)", func() {

	positive := func(alg jose.SignatureAlgorithm) func(t *T) {
		return func(t *T) {
			t.RequireClient(PrivateKeyJWT)
			i := slices.IndexFunc(t.Target().Asym.Keys, func(k fixtures.SigningKey) bool { return k.Alg == alg })
			if i < 0 {
				t.Skip(fmt.Sprintf("no %s key is configured for the private_key_jwt client", alg))
			}
			if d, err := t.env.discovery(t.ctx); err == nil {
				if algs := d.StringList("token_endpoint_auth_signing_alg_values_supported"); len(algs) > 0 && !slices.Contains(algs, string(alg)) {
					t.Skip(fmt.Sprintf("the server does not advertise %s (it advertises %v)", alg, algs))
				}
			}
			a, err := t.AsymSpec(i).Build()
			if err != nil {
				t.Errorf("could not build the assertion: %v", err)
			}
			t.ExpectToken(t.Do(t.AssertionRequest(a.Compact)))
		}
	}

	Case(Meta{
		ID:          "ASYM-POS-01",
		Title:       "A valid RS384 client assertion is accepted",
		Requirement: "A client_credentials request authenticated by a valid RS384-signed assertion (iss = sub = client_id, aud = token URL, exp within five minutes, fresh jti, registered kid) gets an access token.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymAuth, refAsymVerify, refBSIssue},
		Policy:      "AMB-ASYM-6: each algorithm the server advertises must work; one it does not advertise is skipped.",
		Hint:        "Check that the client's JWKS is registered with this kid, that aud is compared with the exact token endpoint URL from discovery, and that RS384 is on the server's allowlist.",
	}, positive(jose.RS384))

	Case(Meta{
		ID:          "ASYM-POS-02",
		Title:       "A valid ES384 client assertion is accepted",
		Requirement: "A client_credentials request authenticated by a valid ES384-signed assertion gets an access token when the server advertises ES384.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymAuth, refAsymRegister, refBSIssue},
		Policy:      "AMB-ASYM-6: each algorithm the server advertises must work; one it does not advertise is skipped.",
		Hint:        "ES384 signatures in a JWS are the 96-octet R||S concatenation (RFC 7518 §3.4), not DER; a verifier expecting DER refuses every valid ES384 assertion.",
	}, positive(jose.ES384))

	Case(Meta{
		ID:          "ASYM-KID-01",
		Title:       "An assertion whose kid names no registered key is rejected",
		Requirement: "An assertion signed by the registered key but carrying a kid that matches none of the client's keys fails verification and is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refAsymVerify, refRFC6749Error},
		Hint: "The server seems to try every key of the client when the kid matches none; SMART says verification fails when no key matches the kid.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		a := t.Assertion(fixtures.WithKID("smartconform-unknown-" + fixtures.NewJTI()[:8]))
		t.ExpectRejected(t.Do(t.AssertionRequest(a)), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-ALG-01",
		Title:       "An assertion whose alg does not fit the key its kid names is rejected",
		Requirement: "An assertion whose header alg needs a different key type than the key named by its kid (ES384 with the kid of an RSA key, or the reverse) is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refAsymVerify, refRFC8725Alg, refRFC6749Error},
		Hint: "The server seems to choose the verification key by alg rather than by kid; SMART requires the key named by kid, with a kty consistent with alg.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		spec := t.AsymSpec(0)
		// Sign with a key of the other type: the client's own, if it has
		// one registered (so only the kid/alg pairing is wrong), else a
		// fresh one.
		want := "EC"
		alg := jose.ES384
		if fixtures.KeyTypeOf(spec.Key.JWK.Key) == "EC" {
			want, alg = "RSA", jose.RS384
		}
		i := slices.IndexFunc(t.Target().Asym.Keys, func(k fixtures.SigningKey) bool { return fixtures.KeyTypeOf(k.JWK.Key) == want })
		var other fixtures.SigningKey
		if i >= 0 {
			other = t.Target().Asym.Keys[i]
		} else {
			k, err := fixtures.NewSigningKey(alg, "unused")
			if err != nil {
				t.Errorf("could not generate a key: %v", err)
			}
			other = k
		}
		a, err := spec.Build(fixtures.SignedBy(other))
		if err != nil {
			t.Errorf("could not build the assertion: %v", err)
		}
		t.ExpectRejected(t.Do(t.AssertionRequest(a.Compact)), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-ALG-02",
		Title:       "An unsecured assertion (alg none) is rejected",
		Requirement: "An assertion with alg none and no signature (spelled none and None) is never accepted.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC7523Claims, refRFC7518None, RFC(8725, "2.1"), refAsymVerify},
		Hint: "The JWT library is accepting unsecured JWS. Pass the verifier an explicit allowlist of algorithms (RS384, ES384) taken from configuration, never from the token header.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		for _, spelling := range []string{"none", "None"} {
			t.ExpectRejected(t.Do(t.AssertionRequest(t.Assertion(fixtures.AlgNone(spelling)))), InvalidClient)
		}
	})

	Case(Meta{
		ID:          "ASYM-EXP-01",
		Title:       "An expired assertion is rejected",
		Requirement: "An assertion whose exp passed five minutes ago (well beyond any clock skew) is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC7523Claims, refAsymAuth, refRFC6749Error},
		Hint: "The server is not comparing exp with its clock (allowing a small skew of a minute or so at most).",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		t.ExpectRejected(t.Do(t.AssertionRequest(t.Assertion(fixtures.Expired(5*time.Minute)))), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-BEARER-01",
		Title:       "An assertion sent as Authorization: Bearer is rejected with 401 and a challenge",
		Requirement: "A client assertion sent as Authorization: Bearer <jwt>, with no client_assertion in the body, does not authenticate the client; the answer is 401 invalid_client with a WWW-Authenticate header.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refRFC6749Error, refRFC7235Chall, refRFC7521Auth, refAsymAuth},
		Policy: "AMB-ERR-1: the client tried the Authorization header, so 401 with WWW-Authenticate (any scheme) is the RFC reading; a 400 only warns (fails under --strict), since Bearer is arguably not a client-authentication scheme.",
		Hint:   "This is the classic integrator mistake. A correct request sends the JWT in the form body: grant_type=client_credentials&scope=…&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=<jwt>, with no Authorization header. A server that accepts the header form teaches clients a non-standard request.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		a := t.Assertion()
		t.ExpectRejected(t.Do(Request{
			Label: "Token request (assertion misplaced in Authorization: Bearer)", URL: t.TokenURL(), Assertion: a,
			Header: http.Header{"Authorization": {"Bearer " + a}},
			Form:   url.Values{"grant_type": {"client_credentials"}, "scope": {t.Target().Scope}},
		}), Rejection{HeaderScheme: "Bearer", Lenient400: true, Codes: []string{"invalid_client", "invalid_request"}})
	})

	Case(Meta{
		ID:          "ASYM-JTI-01",
		Title:       "A replayed assertion is rejected",
		Requirement: "The same assertion sent a second time, before it expires, is refused: the server remembers jti values for the assertion's lifetime.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refAsymVerify, refRFC7523Claims},
		Policy: "AMB-ASYM-5: SMART requires the jti replay check (RFC 7523 leaves it optional).",
		Hint:   "The server is not recording jti values (per iss) until the assertion's exp, so a captured assertion can be replayed for a fresh token.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		a := t.Assertion()
		first := t.Do(t.AssertionRequest(a))
		if first.Status != http.StatusOK || first.Str("access_token") == "" {
			t.NotRun(fmt.Sprintf("the first use of the assertion was refused (%s), so a replay cannot be shown", describeRejection(first)))
		}
		second := t.AssertionRequest(a)
		second.Label = "Token request (the same assertion again)"
		t.ExpectRejected(t.Do(second), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-SIG-01",
		Title:       "An assertion with a corrupted signature is rejected",
		Requirement: "An assertion whose signature does not verify with the key its kid names is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC7523Claims, refAsymVerify},
		Hint: "The server reads the claims without verifying the signature.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		t.ExpectRejected(t.Do(t.AssertionRequest(t.Assertion(fixtures.CorruptSignature()))), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-AUD-01",
		Title:       "An assertion for another audience is rejected",
		Requirement: "An assertion whose aud is not the token endpoint URL is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC7523Claims, refAsymAuth},
		Hint: "The server does not compare aud with its own token endpoint URL, so an assertion minted for another server can be used here.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		t.ExpectRejected(t.Do(t.AssertionRequest(t.Assertion(fixtures.WithClaim("aud", "https://smartconform.invalid/token")))), InvalidClient)
	})
})
