package suites

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	. "github.com/onsi/gomega"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/suites/config"
)

// private_key_jwt: RFC 7523 client assertions as SMART App Launch 2.2
// profiles them (client-confidential-asymmetric).
var _ = Area(20, "private_key_jwt", "Client authentication: private_key_jwt (RFC 7523 assertions)", func() {

	accepted := func(r *Response) bool { return r.Status/100 == 2 && r.Str("access_token") != "" }

	// positive judges a valid assertion signed with alg, by the configured
	// client for alg (a client holding only keys of alg, when one is
	// configured: servers pin one algorithm per client).
	positive := func(alg, other jose.SignatureAlgorithm) func(t *T) {
		return func(t *T) {
			t.RequireClient(PrivateKeyJWT)
			c, i := t.AsymClientFor(alg)
			if c == nil {
				t.Skip(fmt.Sprintf("no %s key is configured for any private_key_jwt client", alg))
			}
			listed := false
			if d, err := t.DiscoveryIfAny(); err == nil {
				if algs := d.StringList("token_endpoint_auth_signing_alg_values_supported"); len(algs) > 0 {
					if !slices.Contains(algs, string(alg)) {
						t.Skip(fmt.Sprintf("the server does not advertise %s (it advertises %v)", alg, algs))
					}
					listed = true
				}
			}
			a, err := t.AsymClientSpec(c, i).Build()
			if err != nil {
				t.Errorf("could not build the assertion: %v", err)
			}
			req := t.AssertionRequest(a.Compact)
			req.Label = fmt.Sprintf("Token request (private_key_jwt, %s, client %s)", alg, c.ClientID)
			r := t.Do(req)
			if !listed && !accepted(r) {
				// SMART asks the server to validate at least one of RS384
				// and ES384; with no advertised list, a refusal of this one
				// fails only if the other is refused too.
				if oc, oi := t.AsymClientFor(other); oc != nil {
					oa, err := t.AsymClientSpec(oc, oi).Build()
					if err != nil {
						t.Errorf("could not build the assertion: %v", err)
					}
					oreq := t.AssertionRequest(oa.Compact)
					oreq.Label = fmt.Sprintf("Token request (private_key_jwt, %s, client %s: does the server take the other algorithm?)", other, oc.ClientID)
					if accepted(t.Do(oreq)) {
						t.Skip(fmt.Sprintf("the server refused %s (%s) and advertises no token_endpoint_auth_signing_alg_values_supported; it accepts %s, which meets SMART's \"at least one of RS384 or ES384\" (AMB-ASYM-6)", alg, DescribeAnswer(r), other))
					}
				}
			}
			t.ExpectToken(r)
		}
	}

	Case(Meta{
		ID:          "ASYM-POS-01",
		Baseline:    true,
		Title:       "A valid RS384 client assertion is accepted",
		Requirement: "A client_credentials request authenticated by a valid RS384-signed assertion (iss = sub = client_id, aud = token URL, exp within five minutes of the server's clock, fresh jti, registered kid) gets an access token, unless the server's token_endpoint_auth_signing_alg_values_supported leaves RS384 out, or the server advertises no list and accepts ES384 instead.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymAuth, refAsymVerify, refAsymRegister, refBSIssue},
		Policy:      "AMB-ASYM-6: each algorithm the server advertises must work, and one it does not advertise is skipped; with no advertised list SMART asks for at least one of RS384 and ES384, so a refused RS384 is skipped when ES384 works and fails when it does not. The assertion is signed by a configured client holding only RS384 keys if there is one (servers pin one algorithm per client), else by the first client holding an RS384 key.",
		Hint:        "Check that the client's JWKS is registered with this kid, that aud is compared with the exact token endpoint URL from discovery, and that RS384 is on the server's allowlist.",
	}, positive(jose.RS384, jose.ES384))

	Case(Meta{
		ID:          "ASYM-POS-02",
		Title:       "A valid ES384 client assertion is accepted",
		Requirement: "A client_credentials request authenticated by a valid ES384-signed assertion gets an access token, unless the server's token_endpoint_auth_signing_alg_values_supported leaves ES384 out, or the server advertises no list and accepts RS384 instead.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymAuth, refAsymRegister, refBSIssue},
		Policy:      "AMB-ASYM-6: each algorithm the server advertises must work, and one it does not advertise is skipped; with no advertised list SMART asks for at least one of RS384 and ES384, so a refused ES384 is skipped when RS384 works and fails when it does not. The assertion is signed by a configured client holding only ES384 keys if there is one, else by the first client holding an ES384 key.",
		Hint:        "ES384 signatures in a JWS are the 96-octet R||S concatenation (RFC 7518 §3.4), not DER; a verifier expecting DER refuses every valid ES384 assertion.",
	}, positive(jose.ES384, jose.RS384))

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-KID-01",
			Title:       "An assertion whose kid names no registered key is rejected",
			Requirement: "An assertion signed by the registered key but carrying a kid that matches none of the client's keys fails verification and is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refAsymVerify, refRFC6749Error},
			Hint:        "The server seems to try every key of the client when the kid matches none; SMART says verification fails when no key matches the kid.",
		},
			Sends:    Spoil(fixtures.WithKID("smartconform-unknown-" + fixtures.NewJTI()[:8])),
			ProvenBy: "accept-unknown-kid",
		},
	)

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
			k, err := ForeignKey(alg)
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

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-ALG-02",
			Title:       "An unsecured assertion (alg none) is rejected",
			Requirement: "An assertion with alg none and no signature (spelled none and None) is never accepted.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refRFC7518None, RFC(8725, "2.1"), refAsymVerify},
			Hint:        "The JWT library is accepting unsecured JWS. Pass the verifier an explicit allowlist of algorithms (RS384, ES384) taken from configuration, never from the token header.",
		},
			Sends: func() [][]fixtures.Mutation {
				return [][]fixtures.Mutation{{fixtures.AlgNone("none")}, {fixtures.AlgNone("None")}}
			},
			ProvenBy: "accept-alg-none",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-EXP-01",
			Title:       "An expired assertion is rejected",
			Requirement: "An assertion whose exp passed fifteen minutes ago (well beyond the few minutes of clock skew a server may allow) is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth, refRFC6749Error},
			Hint:        "The server is not comparing exp with its clock (allowing a clock skew of a few minutes at most).",
		},
			Sends:    Spoil(fixtures.Expired(SkewMargin)),
			ProvenBy: "accept-expired",
		},
	)

	Case(Meta{
		ID:          "ASYM-BEARER-01",
		Title:       "An assertion sent as Authorization: Bearer is rejected with 401",
		Requirement: "A client assertion sent as Authorization: Bearer <jwt>, with no client_assertion in the body, does not authenticate the client; the answer should be 401 invalid_client (its WWW-Authenticate challenge is judged by ERR-CHAL-01).",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refRFC6749Error, refRFC7521Auth, refAsymAuth},
		Policy: "AMB-ERR-1: the client tried the Authorization header, so 401 with WWW-Authenticate (any scheme) is the RFC reading; a 400 only warns (fails under --strict), since Bearer is arguably not a client-authentication scheme.",
		Hints:  map[string]string{BehaviourStatus: "The server refuses the misplaced assertion, but not with 401: the client tried the Authorization header, so RFC 6749 §5.2 asks for 401 with a WWW-Authenticate challenge."},
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
		Refs:     []Ref{refAsymVerify, refRFC7523Claims},
		Policy:   "AMB-ASYM-5: SMART requires the jti replay check (RFC 7523 leaves it optional): MUST under smart-v2 and smart-v1, SHOULD under oauth.",
		Profiles: map[string]Level{ProfileOAuth: SHOULD},
		Hint:     "The server is not recording jti values (per iss) until the assertion's exp, so a captured assertion can be replayed for a fresh token.",
	}, func(t *T) {
		lvl := t.ProfileLevel()
		t.RequireBaseline(PrivateKeyJWT)
		a := t.Assertion()
		first := t.Do(t.AssertionRequest(a))
		if first.Status != http.StatusOK || first.Str("access_token") == "" {
			t.NotRun(fmt.Sprintf("the first use of the assertion was refused (%s), so a replay cannot be shown", DescribeAnswer(first)))
		}
		second := t.AssertionRequest(a)
		second.Label = "Token request (the same assertion again)"
		t.ExpectRejected(t.Do(second), InvalidClient.At(lvl))
	})

	// ---- header: kid, key, alg ----

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-SIG-01",
			Title:       "An assertion with a corrupted signature is rejected",
			Requirement: "An assertion whose signature does not verify with the key its kid names is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymVerify},
			Hint:        "The server reads the claims without verifying the signature.",
		},
			Sends:    Spoil(fixtures.CorruptSignature()),
			ProvenBy: "accept-bad-signature",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-AUD-01",
			Title:       "An assertion for another audience is rejected",
			Requirement: "An assertion whose aud is not the token endpoint URL is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth},
			Hint:        "The server does not compare aud with its own token endpoint URL, so an assertion minted for another server can be used here.",
		},
			Sends:    Spoil(fixtures.WithClaim("aud", "https://smartconform.invalid/token")),
			ProvenBy: "accept-wrong-aud",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-KID-02",
			Title:       "An assertion without a kid is rejected",
			Requirement: "An assertion whose header has no kid is refused with invalid_client: SMART requires kid, and key selection fails when no key matches it.",
			Level:       MUST,
			Refs:        []Ref{refAsymAuth, refAsymVerify, refRFC6749Error},
			Policy:      "AMB-ASYM-2: SMART (v2 and Bulk Data v1) requires kid, so rejection is a MUST under smart-v2 and smart-v1; plain RFC 7523 does not, so accepting it only warns under oauth.",
			Profiles:    map[string]Level{ProfileOAuth: SHOULD},
			Hint:        "The server falls back to trying every registered key when kid is absent. SMART selects the key by kid and fails verification when none matches; trying all keys also hides client bugs that break on key rotation.",
		},
			Sends:    Spoil(fixtures.WithoutHeader("kid")),
			ProvenBy: "accept-missing-kid",
		},
	)

	Case(Meta{
		ID:          "ASYM-KID-03",
		Title:       "An assertion signed by an unregistered key under a registered kid is rejected",
		Requirement: "An assertion carrying the kid of a registered key but signed by another key is refused with invalid_client, also when the signing key's public part rides in a jwk header.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refAsymVerify, refRFC7523Claims, RFC(7515, "4.1.3"), RFC(8725, "3.10")},
		Hint: "The server verifies with a key the assertion itself supplies (a jwk header) instead of the client's registered key, so anyone can mint a key and sign as the client (the CVE-2018-0114 pattern). Only registered keys, selected by kid, may verify.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		spec := t.AsymSpec(0)
		foreign, err := ForeignKey(spec.Key.Alg)
		if err != nil {
			t.Errorf("could not generate a key: %v", err)
		}
		foreign.KID = spec.Key.KID
		plain := t.Assertion(fixtures.SignedBy(foreign))
		r := t.AssertionRequest(plain)
		r.Label = "Token request (registered kid, unregistered signing key)"
		t.ExpectRejected(t.Do(r), InvalidClient)
		embedded := t.Assertion(fixtures.SignedBy(foreign), fixtures.WithHeader("jwk", foreign.Public()))
		r = t.AssertionRequest(embedded)
		r.Label = "Token request (registered kid, unregistered signing key embedded as jwk)"
		t.ExpectRejected(t.Do(r), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-ALG-03",
		Title:       "An HS256 assertion keyed with the client's public key is rejected (algorithm confusion)",
		Requirement: "An assertion with alg HS256 whose HMAC key is the client's registered public key (as PEM bytes, and as JWK JSON bytes) is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC8725Alg, RFC(8725, "2.1"), refAsymVerify},
		Hint: "The JWT library takes the algorithm from the token header and passes the registered public key to it; under HS256 the public key becomes an HMAC secret anyone can read. Verify only with an allowlist of asymmetric algorithms fixed by configuration, and bind each key to one algorithm.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		spec := t.AsymSpec(0)
		pub := spec.Key.Public()
		jwkJSON, err := json.Marshal(pub)
		if err != nil {
			t.Errorf("could not encode the public key: %v", err)
		}
		for _, k := range []struct {
			name   string
			secret []byte
		}{{"PEM", fixtures.PublicKeyPEM(pub.Key)}, {"JWK JSON", jwkJSON}} {
			r := t.AssertionRequest(t.Assertion(fixtures.HMACWith(k.secret)))
			r.Label = "Token request (HS256 keyed with the public key as " + k.name + ")"
			t.ExpectRejected(t.Do(r), InvalidClient)
		}
	})

	Case(Meta{
		ID:          "ASYM-ALG-04",
		Title:       "An assertion signed with an algorithm the server does not advertise is rejected",
		Requirement: "An otherwise valid assertion signed with RS256, when RS256 is not in token_endpoint_auth_signing_alg_values_supported, should be refused with invalid_client.",
		Level:       SHOULD, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{RFC(8725, "3.2"), RFC(7515, "5.2"), refAsymRegister, refRFC8414Meta},
		Policy: "AMB-ASYM-6: servers MAY support more algorithms than they list, so acceptance only warns; skipped when RS256 is advertised.",
		Hint:   "The verifier accepts any algorithm its library knows instead of the advertised set. Keep the allowlist equal to what discovery advertises, so clients and server agree on what is accepted.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		if d, err := t.DiscoveryIfAny(); err == nil && slices.Contains(d.StringList("token_endpoint_auth_signing_alg_values_supported"), "RS256") {
			t.Skip("the server advertises RS256")
		}
		i := slices.IndexFunc(t.Target().Asym.Keys, func(k fixtures.SigningKey) bool { return fixtures.KeyTypeOf(k.JWK.Key) == "RSA" })
		if i < 0 {
			t.Skip("the private_key_jwt client has no RSA key configured")
		}
		spec := t.AsymSpec(i)
		k := spec.Key
		k.Alg = jose.RS256
		a, err := spec.Build(fixtures.SignedBy(k))
		if err != nil {
			t.Errorf("could not build the assertion: %v", err)
		}
		t.ExpectRejected(t.Do(t.AssertionRequest(a.Compact)), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client", "invalid_request"}, Level: SHOULD})
	})

	// ---- claims: exp, nbf, iat, aud, iss, sub, jti ----

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-EXP-02",
			Title:       "An assertion without exp is rejected",
			Requirement: "An assertion with no exp claim is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth},
			Hint:        "The server checks exp only when it is present, so an assertion without exp never expires and can be used forever once captured.",
		},
			Sends:    Spoil(fixtures.WithoutClaim("exp")),
			ProvenBy: "accept-missing-exp",
		},
	)

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-NBF-01",
			Title:       "An assertion not valid until fifteen minutes from now is rejected",
			Requirement: "An assertion whose nbf is fifteen minutes in the future (well beyond any clock skew) is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, RFC(7519, "4.1.5")},
			Policy:      "RFC 7519 §4.1.5 lets a server allow \"some small leeway, usually no more than a few minutes\" (.NET defaults to 5 minutes), so the nbf is 15 minutes ahead: no conformant leeway covers it.",
			Hint:        "The server ignores nbf. RFC 7523 requires a JWT not to be accepted before its nbf (allowing a small skew).",
		},
			Sends: func() [][]fixtures.Mutation {
				return [][]fixtures.Mutation{{fixtures.NotBeforeIn(SkewMargin)}}
			},
			ProvenBy: "accept-future-nbf",
		},
	)

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-AUD-02",
			Title:       "An assertion without aud is rejected",
			Requirement: "An assertion with no aud claim is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth},
			Hint:        "The server checks aud only when present, so an assertion minted for no audience in particular is accepted by every server that trusts the key.",
		},
			Sends:    Spoil(fixtures.WithoutClaim("aud")),
			ProvenBy: "accept-missing-aud",
		},
	)

	Case(Meta{
		ID:          "ASYM-AUD-03",
		Title:       "An aud array holding the token endpoint URL is accepted",
		Requirement: "An otherwise valid assertion whose aud is a one-element array holding the token endpoint URL should be accepted.",
		Level:       SHOULD, Method: PrivateKeyJWT,
		Refs:   []Ref{RFC(7519, "4.1.3"), refRFC7523Claims},
		Policy: "AMB-ASYM-4: RFC 7519 lets aud be an array and RFC 7523 asks only that it contain the server; SMART's token-URL rule is met, so rejection warns.",
		Hint:   "The server compares aud as a string only. Per RFC 7519 aud may be an array of strings; accept it when it contains the token endpoint URL.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		r := t.Do(t.AssertionRequest(t.Assertion(fixtures.WithClaim("aud", []any{t.TokenURL()}))))
		t.Should("answer", "200 with an access token", DescribeAnswer(r), Equal("200"))
	})

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-ISS-01",
			Title:       "An assertion whose iss is not the client_id is rejected",
			Requirement: "An assertion whose iss differs from the client_id (sub correct) is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth, refAsymVerify},
			Hint:        "The server identifies the client by sub and never looks at iss. SMART requires iss = sub = client_id.",
		},
			Sends:    Spoil(fixtures.WithClaim("iss", "smartconform-not-the-client")),
			ProvenBy: "accept-iss-mismatch",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-SUB-01",
			Title:       "An assertion whose sub is not the client_id is rejected",
			Requirement: "An assertion whose sub differs from the client_id (iss correct) is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, RFC(7523, "3.2"), refAsymAuth},
			Hint:        "The server checks that sub is present but does not compare it with the client_id; RFC 7523 §3 requires sub to be the client_id for client authentication.",
		},
			Sends:    Spoil(fixtures.WithClaim("sub", "smartconform-not-the-client")),
			ProvenBy: "accept-sub-mismatch",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-SUB-02",
			Title:       "An assertion without sub is rejected",
			Requirement: "An assertion with no sub claim is refused with invalid_client.",
			Level:       MUST,
			Refs:        []Ref{refRFC7523Claims, refAsymAuth},
			Hint:        "The server compares sub with the client_id only when sub is present; RFC 7523 §3 makes sub mandatory.",
		},
			Sends:    Spoil(fixtures.WithoutClaim("sub")),
			ProvenBy: "accept-missing-sub",
		},
	)

	Case(Meta{
		ID:          "ASYM-CID-01",
		Title:       "An assertion naming an unregistered client is rejected",
		Requirement: "An assertion whose iss and sub name a client_id the server never registered, signed with a registered key and kid, is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{RFC(7523, "3.2"), refAsymVerify},
		Hint: "The server looks the verification key up by kid across all clients and takes iss on trust, so a key holder can act as any client_id. Look the client up by iss first and use only that client's keys.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		spec := t.AsymSpec(0)
		spec.ClientID = "smartconform-unregistered-" + fixtures.NewJTI()[:8]
		a, err := spec.Build()
		if err != nil {
			t.Errorf("could not build the assertion: %v", err)
		}
		t.ExpectRejected(t.Do(t.AssertionRequest(a.Compact)), InvalidClient)
	})

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-JTI-02",
			Title:       "An assertion without jti is rejected",
			Requirement: "An assertion with no jti claim is refused with invalid_client, since the required replay check cannot be made.",
			Level:       MUST,
			Refs:        []Ref{refAsymAuth, refAsymVerify, refRFC7523Claims},
			Policy:      "AMB-ASYM-5: SMART requires jti (MUST under smart-v2 and smart-v1); RFC 7523 makes it optional, so acceptance only warns under oauth.",
			Profiles:    map[string]Level{ProfileOAuth: SHOULD},
			Hint:        "The server treats jti as optional, so an assertion without one can be replayed until it expires.",
		},
			Sends:    Spoil(fixtures.WithoutClaim("jti")),
			ProvenBy: "accept-missing-jti",
		},
	)

	// ---- the request: client_assertion_type, client_assertion, client_id ----

	Case(Meta{
		ID:          "ASYM-REQ-01",
		Title:       "A wrong client_assertion_type is rejected",
		Requirement: "A request whose client_assertion_type is not urn:ietf:params:oauth:client-assertion-type:jwt-bearer (here the SAML one) is refused.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refRFC7521Auth, RFC(7523, "2.2"), refAsymAuth},
		Policy: "AMB-ERR-1 and AMB-ERR-2: 400 or 401; invalid_client preferred, invalid_request accepted.",
		Hint:   "The server ignores client_assertion_type and parses whatever is in client_assertion as a JWT; check it equals the jwt-bearer URN exactly.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		r := WithForm(t.AssertionRequest(t.Assertion()), "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		t.ExpectRejected(t.Do(r), InvalidClient)
	})

	AssertionCases(
		AssertionCase{Meta: Meta{
			ID:          "ASYM-REQ-02",
			Title:       "A client_assertion without client_assertion_type is rejected",
			Requirement: "A request carrying a valid client_assertion but no client_assertion_type is refused, with invalid_request (a required parameter is missing).",
			Level:       MUST,
			Refs:        []Ref{refRFC7521Auth, RFC(7523, "2.2")},
			Policy:      "AMB-ERR-1: 400 or 401. RFC 7521 §4.2 makes client_assertion_type REQUIRED, and RFC 6749 §5.2 names a request missing a required parameter invalid_request; invalid_client (SMART: an error during authentication) is a fit the code check warns about, not a failure.",
			Hint:        "The server treats client_assertion_type as optional. RFC 7521 §4.2 makes both parameters required.",
		},
			Request:   func(r Request) Request { return WithForm(r, "client_assertion_type") },
			Rejection: &Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request"}},
			ProvenBy:  "accept-missing-assertion-type",
		},
		AssertionCase{Meta: Meta{
			ID:          "ASYM-REQ-03",
			Title:       "A client_assertion_type without client_assertion is rejected",
			Requirement: "A request carrying client_assertion_type but no client_assertion is refused with a §5.2 error, invalid_request (a required parameter is missing), not a server error.",
			Level:       MUST,
			Refs:        []Ref{refRFC7521Auth, refRFC6749Error},
			Policy:      "AMB-ERR-1: 400 or 401. RFC 7521 §4.2 makes client_assertion REQUIRED, and RFC 6749 §5.2 names a request missing a required parameter invalid_request; invalid_client is a fit the code check warns about, not a failure.",
			Hint:        "The server issues a token without a client_assertion: client_assertion_type alone is taken as client authentication.",
			Hints:       map[string]string{BehaviourServerError: "The handler assumes client_assertion is present once client_assertion_type is; a missing parameter must produce invalid_request (RFC 6749 §5.2), never a 500."},
		},
			Request:   func(r Request) Request { return WithForm(r, "client_assertion") },
			Rejection: &Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request"}},
			ProvenBy:  "server-error-on-missing-assertion",
		},
	)

	Case(Meta{
		ID:          "ASYM-REQ-04",
		Title:       "Malformed assertions are rejected cleanly",
		Requirement: "A client_assertion that is not a compact JWS (random text, two segments, invalid base64url, a header that is not JSON) is refused with a §5.2 error, never a token or a server error.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{RFC(7523, "3"), RFC(7515, "7.1"), refAsymVerify},
		Policy: "AMB-ERR-2: invalid_client preferred (SMART), invalid_request accepted (a malformed parameter); 400 or 401 (AMB-ERR-1).",
		Hint:   "The server issues a token for a client_assertion that is not a valid compact JWS: parse failures are not treated as failed client authentication.",
		Hints:  map[string]string{BehaviourServerError: "The JWT parser's errors escape as 500s. Treat any parse failure of client_assertion as failed client authentication (invalid_client)."},
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		valid := t.Assertion()
		parts := strings.Split(valid, ".")
		b64 := base64.RawURLEncoding.EncodeToString
		for _, m := range []struct{ name, value string }{
			{"random text", "smartconform-this-is-not-a-jwt"},
			{"two segments", parts[0] + "." + parts[1]},
			{"invalid base64url", "!!!." + parts[1] + "." + parts[2]},
			{"header not JSON", b64([]byte(`{"alg":"RS384",`)) + "." + parts[1] + "." + parts[2]},
		} {
			r := t.AssertionRequest(m.value)
			r.Label = "Token request (malformed assertion: " + m.name + ")"
			t.ExpectRejected(t.Do(r), InvalidClient)
		}
	})

	Case(Meta{
		ID:          "ASYM-REQ-05",
		Title:       "A client_id parameter naming another client is rejected",
		Requirement: "A valid assertion sent with a client_id form parameter naming a different client than its iss and sub is refused with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs: []Ref{refRFC7521Auth, refAsymVerify},
		Hint: "The server ignores the client_id parameter or trusts it over the assertion. RFC 7521 §4.2: when present, client_id MUST identify the same client as the assertion.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		other := "smartconform-other-client"
		for _, c := range []*config.SecretClient{t.Target().Basic, t.Target().Post} {
			if c != nil {
				other = c.ClientID
				break
			}
		}
		t.ExpectRejected(t.Do(WithForm(t.AssertionRequest(t.Assertion()), "client_id", other)), InvalidClient)
	})

	Case(Meta{
		ID:          "ASYM-JKU-01",
		Title:       "A jku header naming an unregistered URL is neither trusted nor fetched",
		Requirement: "An assertion signed by a new key whose jku header names a JWKS URL the client never registered (served by the harness) is refused with invalid_client, and the URL should not be fetched.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refAsymVerify, RFC(7515, "4.1.2"), RFC(8725, "3.10")},
		Policy: "AMB-JWKS-2: rejection is a MUST; a fetch of the URL only warns. For a loopback target the harness serves the jku URL itself and records the connections it sees; a remote target is given a URL under .invalid instead (never its own loopback), so only the rejection is judged there.",
		Hint:   "The server follows the jku header. SMART uses jku only to pick among URLs registered for the client; fetching any URL a client names lets attackers supply their own keys and makes the server an SSRF proxy.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		rogue, err := fixtures.NewSigningKey(jose.ES384, "smartconform-jku-"+fixtures.NewJTI()[:8])
		if err != nil {
			t.Errorf("could not generate a key: %v", err)
		}
		spec := t.AsymSpec(0)
		spec.Key = rogue
		if !LoopbackURL(spec.TokenURL) {
			// A remote server could only reach a harness listener through
			// its own loopback: never point it there. A name under .invalid
			// (RFC 2606) resolves nowhere, so a fetch cannot succeed; the
			// rejection is still judged, the fetch itself is not observable.
			jku := "https://jku.smartconform.invalid/jwks.json"
			a, err := spec.Build(fixtures.WithHeader("jku", jku))
			if err != nil {
				t.Errorf("could not build the assertion: %v", err)
			}
			t.ExpectRejected(t.Do(t.AssertionRequest(a.Compact)), InvalidClient)
			t.Evidence("The jku URL names a host under .invalid, which never resolves: whether the server tried to fetch it cannot be observed from here (only a loopback target lets the harness serve the URL and watch)", jku)
			return
		}
		var conns, gets atomic.Int32
		ls := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gets.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(fixtures.PublicJWKS(rogue))
		}))
		ls.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}
		ls.StartTLS()
		defer ls.Close()
		jku := ls.URL + "/jwks.json"
		a, err := spec.Build(fixtures.WithHeader("jku", jku))
		if err != nil {
			t.Errorf("could not build the assertion: %v", err)
		}
		t.ExpectRejected(t.Do(t.AssertionRequest(a.Compact)), InvalidClient)
		ls.CloseClientConnections()
		t.Evidence(fmt.Sprintf("Harness listener at the jku URL: %d connection(s), %d request(s) received", conns.Load(), gets.Load()), jku)
		t.Should("the jku URL is not fetched", "no connection to the unregistered jku URL (RFC 8725 §3.10)", int(conns.Load()), Equal(0))
	})

	Case(Meta{
		ID:          "ASYM-QUERY-01",
		Title:       "An assertion in the URL query string is rejected",
		Requirement: "A request whose client_assertion and client_assertion_type are in the URL query string rather than the body should be refused.",
		Level:       SHOULD, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refBSRequest, refRFC6749Auth, RFC(6749, "3.2")},
		Policy: "TEP-HTTP-03: SMART Backend Services has the client send client_assertion in the application/x-www-form-urlencoded POST body, and RFC 6749 §2.3.1 forbids client passwords in the request URI (assertions by analogy); both bind the client, so refusing a query-string assertion is a derived server obligation and acceptance warns.",
		Hint:   "The server reads parameters from the query string and the body alike. Credentials in a URL end up in access logs, proxies and browser history; read them from the body only.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		r := t.AssertionRequest(t.Assertion())
		q := url.Values{"client_assertion_type": r.Form["client_assertion_type"], "client_assertion": r.Form["client_assertion"]}
		r = WithForm(WithForm(r, "client_assertion"), "client_assertion_type")
		r.URL += "?" + q.Encode()
		r.Label = "Token request (assertion in the URL query)"
		t.ExpectRejected(t.Do(r), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_request", "invalid_client"}, Level: SHOULD})
	})

	Case(Meta{
		ID:          "ASYM-GRANT-01",
		Title:       "A client assertion sent as a jwt-bearer grant is refused",
		Requirement: "The client assertion sent as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with an assertion parameter should be refused with unsupported_grant_type when the server does not advertise that grant.",
		Level:       SHOULD, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{RFC(7523, "2.1"), refRFC6749Error, refConfMetadata},
		Policy: "TEP-GT-05: the jwt-bearer grant is another flow, not client authentication; skipped when grant_types_supported lists it. invalid_client is accepted too (the request carries no client authentication; AMB-ERR-4).",
		Hint:   "The server treats the RFC 7523 §2.1 authorization grant as if it were client authentication. A backend client must send grant_type=client_credentials with client_assertion_type and client_assertion.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		if d, err := t.DiscoveryIfAny(); err == nil && slices.Contains(d.StringList("grant_types_supported"), fixtures.JWTBearerGrant) {
			t.Skip("the server advertises the jwt-bearer grant")
		}
		a := t.Assertion()
		t.ExpectRejected(t.Do(Request{
			Label: "Token request (jwt-bearer grant)", URL: t.TokenURL(), Assertion: a,
			Form: url.Values{"grant_type": {fixtures.JWTBearerGrant}, "assertion": {a}, "scope": {t.Target().Scope}},
		}), Rejection{Statuses: []int{400, 401}, Codes: []string{"unsupported_grant_type", "invalid_client"}, Level: SHOULD})
	})

	// observed judges the answer to an assertion whose acceptance no text
	// settles: a token or a clean §5.2 refusal both pass, and which one is
	// recorded; anything else (a 5xx, a body that is not an error) fails.
	observed := func(t *T, r *Response, what string) {
		if accepted(r) {
			t.Evidence("Observed (informational, not judged): the server accepted "+what, t.TokenURL())
			t.ExpectToken(r)
			return
		}
		t.Evidence("Observed (informational, not judged): the server refused "+what+" ("+DescribeAnswer(r)+")", t.TokenURL())
		t.ExpectRejected(r, Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_client", "invalid_request"}})
	}

	Case(Meta{
		ID:          "ASYM-TYP-01",
		Title:       "An assertion without typ gets a token or a clean error",
		Requirement: "An otherwise valid assertion whose header has no typ is answered with an access token or with an RFC 6749 §5.2 error (400 or 401, a JSON error object), never a server error; which of the two is recorded, not judged.",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs:   []Ref{refAsymAuth, RFC(7519, "5.1"), refRFC7523Claims, refRFC6749Error},
		Policy: "AMB-ASYM-3: SMART lists typ \"JWT\" among what the client puts in the header, RFC 7519 §5.1 makes typ OPTIONAL and RFC 7523 §3 sets no rule on it, so no text makes the server accept or refuse a missing typ: both pass, and the answer is recorded as an observation. Only an answer that is neither a token nor a §5.2 error fails.",
		Hint:   "The handler assumes a typ header. A missing typ must lead to a token or an ordinary invalid_client error, never a crash.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		r := t.AssertionRequest(t.Assertion(fixtures.WithoutHeader("typ")))
		r.Label = "Token request (assertion without typ)"
		observed(t, t.Do(r), "an assertion without typ")
	})

	Case(Meta{
		ID:          "ASYM-AUD-04",
		Title:       "An assertion whose aud is the issuer gets a token or a clean error",
		Requirement: "An otherwise valid assertion whose aud is the authorization server's issuer identifier (issuer in smart-configuration, or in RFC 8414 metadata) is answered with an access token or with an RFC 6749 §5.2 error, never a server error; which of the two is recorded, not judged.",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs: []Ref{refRFC7523Claims, refAsymAuth, RFC(8414, "3"),
			{Label: "draft-ietf-oauth-rfc7523bis (work in progress): audience of client assertions", URL: "https://datatracker.ietf.org/doc/draft-ietf-oauth-rfc7523bis/"}, refRFC6749Error},
		Policy: "AMB-ASYM-4: SMART has the client set aud to the token endpoint URL; RFC 7523 §3 lets the audience be any value that identifies the authorization server, and draft-ietf-oauth-rfc7523bis (not an RFC) moves client assertions toward the issuer identifier. No published text makes the server accept or refuse it, so both pass and the answer is recorded; only an answer that is neither a token nor a §5.2 error fails. Skipped when the server publishes no issuer.",
		Hint:   "The audience check crashes on a value it does not expect. An aud the server does not take must lead to an ordinary invalid_client error.",
	}, func(t *T) {
		t.RequireBaseline(PrivateKeyJWT)
		iss := issuerOf(t)
		if iss == t.TokenURL() {
			t.Skip("the issuer identifier is the token endpoint URL, which the valid assertion already uses as aud")
		}
		r := t.AssertionRequest(t.Assertion(fixtures.WithClaim("aud", iss)))
		r.Label = "Token request (aud = the issuer identifier)"
		observed(t, t.Do(r), "an assertion whose aud is the issuer identifier "+iss)
	})
})

// issuerOf is the authorization server's issuer identifier: issuer in
// smart-configuration (given with sso-openid-connect), else the issuer of
// RFC 8414 metadata at the origin of the token endpoint or of the FHIR base,
// taken only if it names that origin (RFC 8414 §3.3) and this token
// endpoint. The case is skipped when there is neither.
func issuerOf(t *T) string {
	if d, err := t.DiscoveryIfAny(); err == nil {
		if iss, _ := d.Doc["issuer"].(string); iss != "" {
			return iss
		}
	}
	var tried []string
	for _, raw := range []string{t.TokenURL(), t.Target().BaseURL} {
		u, err := url.Parse(raw)
		if raw == "" || err != nil || u.Host == "" {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		meta := origin + "/.well-known/oauth-authorization-server"
		if slices.Contains(tried, meta) {
			continue
		}
		tried = append(tried, meta)
		r := t.Do(Request{Label: "Authorization server metadata (RFC 8414), for the issuer", Method: http.MethodGet, URL: meta, Header: http.Header{"Accept": {"application/json"}}, Endpoint: EndpointDiscovery})
		if r.Status == http.StatusOK && r.Str("issuer") == origin && r.Str("token_endpoint") == t.TokenURL() {
			return origin
		}
	}
	t.Skip("the server publishes no issuer identifier (no issuer in smart-configuration, and no RFC 8414 metadata naming this token endpoint at " + strings.Join(tried, " or ") + ")")
	return ""
}
