package suites

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/fixtures"
	. "github.com/smartconform/smartconform/suites/engine"
)

// Clients registered by JWKS URL (SMART client-confidential-asymmetric,
// "Registering a client" and "Signature Verification"; RFC 7515 §4.1.2;
// RFC 8725 §3.10). The harness serves the client's key set itself (config
// trust.jwksClient) and sees every fetch; each case holds the listener
// alone and starts once the set last served is stale by its own
// Cache-Control (a few seconds), so a server honouring it fetches anew.
var _ = Area(25, "jwks-url", "Client authentication: keys registered by JWKS URL", func() {

	refRFC7515JKU := RFC(7515, "4.1.2")
	refRFC8725URL := RFC(8725, "3.10")
	// noCache (max-age=0) is served by the cases that need no cached set:
	// the server fetches anew each time and the next case need not wait.
	// shortAge is the max-age of the set whose key is then removed.
	const noCache, shortAge = 0, 1
	// lateFetch is how long a probe URL is watched after the answer: a
	// fetch the server started, then gave up on, may reach it late.
	const lateFetch = 300 * time.Millisecond

	// fetchedOrNotRun ends the case as not run when the server made no
	// fetch of the registered URL since since: its handling of what the
	// listener served could not be observed.
	fetchedOrNotRun := func(t *T, h *JWKSSession, since time.Time, what string) {
		if len(h.Fetches(since, "")) == 0 {
			t.NotRun(fmt.Sprintf("not fetched: the server did not fetch the key set after %.2f s into the case, although every set served before had expired by its own Cache-Control (%s); %s could not be observed (see JWKS-CACHE-01)", since.Sub(h.Start).Seconds(), h.Timeline(), what))
		}
	}

	Case(Meta{
		ID:          "JWKS-REG-01",
		Title:       "A client registered by JWKS URL gets a token",
		Requirement: "A private_key_jwt client registered by the URL of its JWK Set (served by the harness) gets a token for an assertion signed with a key in that set.",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs:   []Ref{refAsymRegister, refAsymVerify},
		Policy: "AMB-JWKS-1: the harness always serves an explicit Cache-Control (max-age of a second or a few), so the cache lifetime is never left to the server's default.",
		Hint:   "SMART servers SHALL support clients that register a JWKS URL (not only an inline key set): fetch the set from the registered URL, find the key by kid, verify.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		h.Serve(noCache, h.Keys()[0])
		t.ExpectToken(t.Do(h.Request(0)))
	})

	Case(Meta{
		ID:          "JWKS-JKU-01",
		Title:       "A jku header equal to the registered JWKS URL is accepted",
		Requirement: "An assertion whose jku header is exactly the client's registered JWKS URL, signed with a key of that set, gets a token.",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs: []Ref{refAsymVerify, refRFC7515JKU},
		Hint: "SMART signature verification step 1b: a jku that matches a URL registered for the client names the set to use; refusing every jku breaks clients that send it.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		h.RequireToken(noCache)
		t.ExpectToken(t.Do(h.Request(0, fixtures.WithHeader("jku", h.URL()))))
	})

	Case(Meta{
		ID:          "JWKS-FETCH-01",
		Title:       "The key set is fetched with GET and Accept: application/json",
		Requirement: "When it needs the client's key set, the server fetches the registered URL with GET, and should send Accept: application/json.",
		Level:       MUST, Method: PrivateKeyJWT,
		Refs:   []Ref{refAsymVerify},
		Policy: "GET is a MUST; a missing or different Accept header warns (SMART's \"including a header of Accept: application/json\" describes the request, and any server answers a plain GET).",
		Hint:   "Fetch the registered JWKS URL with an HTTP GET carrying Accept: application/json.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		h.RequireToken(noCache)
		fetchedOrNotRun(t, h, h.Start, "how it fetches")
		for i, f := range h.Fetches(h.Start, "") {
			n := fmt.Sprintf(" (fetch %d)", i+1)
			t.Must("method"+n, "GET (SMART: \"issues a HTTP GET request for that URL\")", f.Method, Equal(http.MethodGet))
			t.Should("Accept"+n, "application/json", strings.ToLower(f.Header.Get("Accept")), ContainSubstring("application/json"))
		}
	})

	Case(Meta{
		ID:          "JWKS-ROT-01",
		Title:       "A key added to the set under a new kid is used without re-registration",
		Requirement: "After the client adds a key under a new kid to its set, an assertion signed with the new key should get a token even while the set fetched before is still fresh.",
		Level:       SHOULD, Method: PrivateKeyJWT,
		Refs:   []Ref{refAsymRegister, refAsymVerify},
		Policy: "Registering a URL lets a client rotate its keys; the caching rules let a server keep a fresh set, so refusing the new kid until the set expires warns rather than fails. The case serves max-age=4 and sends the new kid about 1.1 s after the fetch (the reference server fetches anew for an unknown kid at most once a second).",
		Hint:   "When an assertion names a kid the cached set lacks, fetch the set anew (bounded, e.g. once per few seconds) before refusing.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		k := h.Keys()
		h.RequireToken(4)
		t.Sleep(1100 * time.Millisecond)
		h.Serve(noCache, k[0], k[1])
		r := t.Do(h.Request(1))
		if r.Status != http.StatusOK {
			t.Evidence("Key set timeline: "+h.Timeline(), h.URL())
		}
		t.Level("token for the new key", "200 with a token (the new kid is in the set the client publishes)", DescribeAnswer(r), Equal("200"))
	})

	Case(Meta{
		ID:          "JWKS-CACHE-01",
		Title:       "A key removed from the set stops working once the set's Cache-Control has expired",
		Requirement: "After the client removes a key from its set, an assertion signed with it is refused with invalid_client once the max-age of the set that held it has passed: the server SHALL NOT cache the set longer.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refAsymVerify},
		Policy: "The set holding the key is served with max-age=1; the removed key is tried 1 s after that set's max-age ran out (JWKSColdMargin), so only a server caching longer than Cache-Control allows accepts it.",
		Hint:   "The server keeps the key set longer than its Cache-Control allows (a fixed cache lifetime, e.g. a configurable JWKS cache timeout): honour max-age and no-store.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		k := h.Keys()
		h.RequireToken(shortAge)
		held := h.Fetches(h.Start, "")
		h.Serve(noCache, k[1])
		last := h.Start
		if len(held) > 0 {
			last = held[len(held)-1].At
		}
		t.Sleep(time.Until(last.Add(shortAge*time.Second + JWKSColdMargin)))
		since := time.Now()
		r := t.Do(h.Request(0))
		if len(h.Fetches(since, "")) == 0 {
			t.Evidence(fmt.Sprintf("The removed key was tried %.2f s after the last fetch of the set that held it (max-age=%d); the server did not fetch the set again (%s)", since.Sub(last).Seconds(), shortAge, h.Timeline()), h.URL())
		}
		t.ExpectRejected(r, InvalidClient)
	})

	Case(Meta{
		ID:          "JWKS-KID-01",
		Title:       "Two keys of the set with one kid fail verification",
		Requirement: "When more than one key of the client's set matches the assertion's kid, verification fails with invalid_client.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refAsymVerify},
		Policy: "The signing key is the first of the two; a server that takes the first match accepts it, as SMART's \"if more than one key matches, verification fails\" forbids.",
		Hint:   "The server picks one of several keys sharing a kid. Fail verification when the kid is ambiguous.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		k := h.Keys()
		twin := k[1]
		twin.KID = k[0].KID
		twin.JWK.KeyID = k[0].KID
		h.RequireToken(noCache)
		h.Serve(noCache, k[0], twin)
		since := time.Now()
		r := t.Do(h.Request(0))
		fetchedOrNotRun(t, h, since, "how it handles two keys with one kid")
		t.ExpectRejected(r, InvalidClient)
	})

	fetchFailure := func(id, title, what, hint string, serve func(h *JWKSSession)) {
		Case(Meta{
			ID:          id,
			Title:       title,
			Requirement: "When the client's key set cannot be used because " + what + ", the token request is refused with invalid_client, never a 5xx.",
			Level:       MUST, Method: PrivateKeyJWT, Negative: true,
			Refs:   []Ref{refAsymVerify, refRFC6749Error},
			Policy: "SMART: \"If an error is encountered during the authentication process, the server SHALL respond with an invalid_client error\"; 400 or 401 (AMB-ERR-1). A server that answers without fetching the set is reported not run (\"not fetched\"), with the timings.",
			Hint:   hint,
		}, func(t *T) {
			h := t.JWKSHost()
			defer h.Release()
			h.RequireToken(noCache)
			serve(h)
			since := time.Now()
			r := t.Do(h.Request(0))
			fetchedOrNotRun(t, h, since, "its handling of a failing fetch")
			t.ExpectRejected(r, InvalidClient)
		})
	}
	fetchFailure("JWKS-ERR-01", "A key set URL answering 404 gives invalid_client", "the URL answers 404",
		"The server fails (5xx) or succeeds when the key set URL answers 404; refuse the client with invalid_client.",
		func(h *JWKSSession) { h.ServeRaw(http.StatusNotFound, "text/plain", "not found\n", -1) })
	fetchFailure("JWKS-ERR-02", "A key set URL answering 500 gives invalid_client", "the URL answers 500",
		"A failing key set host makes the token endpoint fail too; answer invalid_client.",
		func(h *JWKSSession) { h.ServeRaw(http.StatusInternalServerError, "text/plain", "internal error\n", -1) })
	fetchFailure("JWKS-ERR-03", "A key set URL that never answers gives invalid_client", "the URL never answers (the harness holds the request)",
		"Bound the key set fetch with a timeout and answer invalid_client, within the client's own timeout.",
		func(h *JWKSSession) { h.Stall() })
	fetchFailure("JWKS-ERR-04", "A key set URL answering HTML gives invalid_client", "the URL answers 200 with an HTML page",
		"An HTML page (a login or error page) where the key set should be is not JSON: answer invalid_client.",
		func(h *JWKSSession) {
			h.ServeRaw(http.StatusOK, "text/html; charset=utf-8", "<!doctype html><title>Sign in</title><p>Please sign in</p>", noCache)
		})
	fetchFailure("JWKS-ERR-05", "A key set without keys gives invalid_client", "the URL answers the JSON object {} (no keys member)",
		"RFC 7517 §5 makes keys REQUIRED; a set without it holds no usable key: answer invalid_client.",
		func(h *JWKSSession) { h.ServeRaw(http.StatusOK, "application/json", "{}", noCache) })

	Case(Meta{
		ID:          "JWKS-JKU-02",
		Title:       "An http: jku is refused and not fetched",
		Requirement: "An assertion whose jku is the registered JWKS URL with http: instead of https: is refused with invalid_client, and that URL is not fetched.",
		Level:       MUST, Method: PrivateKeyJWT, Negative: true,
		Refs:   []Ref{refRFC7515JKU, refAsymVerify, refRFC8725URL},
		Policy: "RFC 7515 §4.1.2: fetching a jku MUST use TLS; and the http: URL is not the one registered (SMART step 1a). The harness's listener answers plain HTTP too and marks the URL with a probe parameter, so a fetch is seen (locally, or through a tunnel that forwards plain HTTP).",
		Hint:   "The server compares the jku with the registered URL loosely (without the scheme) and fetches it in clear. Compare exactly and never fetch a key set without TLS.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		h.RequireToken(noCache)
		jku := h.ProbeURL("httpjku", "http")
		since := time.Now()
		t.ExpectRejected(t.Do(h.Request(0, fixtures.WithHeader("jku", jku))), InvalidClient)
		t.Sleep(lateFetch) // a fetch the server gave up on may reach the listener late
		t.Must("the http: jku is not fetched", "no request for the http: jku (RFC 7515 §4.1.2: TLS only)", len(h.Fetches(since, "httpjku")), Equal(0))
	})

	Case(Meta{
		ID:          "JWKS-X5U-01",
		Title:       "An x5u header is not fetched",
		Requirement: "An assertion carrying an x5u header (a URL served by the harness) should not make the server fetch that URL.",
		Level:       SHOULD, Method: PrivateKeyJWT,
		Refs:   []Ref{refRFC8725URL, refAsymVerify},
		Policy: "SMART verifies with the registered key set only, so the x5u is never needed; RFC 8725 §3.10 warns that following such URLs is a request forgery risk. The token answer itself is not judged (ignoring the header and accepting is fine).",
		Hint:   "The server dereferences x5u. Verify with the client's registered keys only and never fetch URLs named in a token header.",
	}, func(t *T) {
		h := t.JWKSHost()
		defer h.Release()
		h.RequireToken(noCache)
		since := time.Now()
		t.Do(h.Request(0, fixtures.WithHeader("x5u", h.ProbeURL("x5u", ""))))
		t.Sleep(lateFetch)
		t.Level("the x5u URL is not fetched", "no request for the x5u URL (RFC 8725 §3.10)", len(h.Fetches(since, "x5u")), Equal(0))
	})
})
