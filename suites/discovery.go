package suites

import (
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/gomega"
)

// Discovery: the smart-configuration document (SMART App Launch 2.2
// Conformance; Asymmetric client auth, Discovery Requirements).
var _ = Area(10, "discovery", "Discovery: .well-known/smart-configuration", func() {

	Case(Meta{
		ID:          "DISC-WK-01",
		Title:       "smart-configuration is served as JSON and names the token endpoint",
		Requirement: "GET {base}/.well-known/smart-configuration answers 200 with an application/json object whose token_endpoint is an absolute URL and whose grant_types_supported is an array that, when SMART Backend Services is in scope (a private_key_jwt client is configured, or client-confidential-asymmetric is advertised), includes client_credentials.",
		Level:       MUST,
		Refs:        []Ref{refConfWellKnown, refConfMetadata},
		Policy:      "SMART Conformance lists client_credentials in grant_types_supported \"when SMART Backend Services is supported\": a server that offers only App Launch is not asked for it.",
		Hint:        "Serve the document as application/json (not text/html or application/fhir+json) at {FHIR base}/.well-known/smart-configuration, with absolute endpoint URLs, and list client_credentials in grant_types_supported when Backend Services is supported.",
	}, func(t *T) {
		if t.Target().BaseURL == "" {
			t.Skip("no fhirBaseUrl is configured (the token endpoint is configured directly)")
		}
		r := t.Do(Request{Label: "Discovery", Method: http.MethodGet, URL: t.DiscoveryURL(), Header: http.Header{"Accept": {"application/json"}}})
		if !t.Must("status", "200", r.Status, Equal(200)) {
			return
		}
		t.Must("media type", "application/json (a charset parameter is allowed)", r.MediaType(), Equal("application/json"))
		if !t.Must("body", "a JSON object", ErrText(r.JSONErr), BeEmpty()) {
			return
		}
		te := r.Str("token_endpoint")
		u, err := url.Parse(te)
		t.Must("token_endpoint", "an absolute URL", te, WithTransform(func(string) bool { return err == nil && u.IsAbs() && u.Host != "" }, BeTrue()))
		t.Must("capabilities", "an array of strings", r.JSON["capabilities"], BeAssignableToTypeOf([]any{}))
		gts, isArr := r.JSON["grant_types_supported"].([]any)
		if !t.Must("grant_types_supported", "an array of grant types (REQUIRED)", isArr, BeTrue()) {
			return
		}
		var caps []string
		if c, ok := r.JSON["capabilities"].([]any); ok {
			for _, v := range c {
				if s, ok := v.(string); ok {
					caps = append(caps, s)
				}
			}
		}
		if t.Target().Asym != nil || slices.Contains(caps, "client-confidential-asymmetric") {
			t.Must("grant_types_supported", "includes client_credentials (Backend Services is in scope: a private_key_jwt client is configured or client-confidential-asymmetric is advertised)", gts, ContainElement("client_credentials"))
		}
	})

	Case(Meta{
		ID:          "DISC-ASYM-01",
		Title:       "private_key_jwt support is advertised in discovery",
		Requirement: "A server supporting asymmetric client authentication advertises the client-confidential-asymmetric capability, private_key_jwt in token_endpoint_auth_methods_supported and RS384 or ES384 in token_endpoint_auth_signing_alg_values_supported; it should also give scopes_supported.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymDiscovery, refRFC8414Meta},
		Policy:      "AMB-DISC-3: a MUST under SMART v2 (the server advertises these properties); Bulk Data v1 said SHOULD, so smart-v1 and oauth warn. scopes_supported is RECOMMENDED in SMART Conformance, so its absence only warns under every profile.",
		Profiles:    map[string]Level{ProfileSMARTv1: SHOULD, ProfileOAuth: SHOULD},
		Hint:        "Clients find out that private_key_jwt works from these four properties; a server that omits them is skipped by clients that follow the spec.",
	}, func(t *T) {
		lvl := t.ProfileLevel()
		t.RequireClient(PrivateKeyJWT)
		d := t.Discovery()
		t.Check(lvl, "capabilities", "includes client-confidential-asymmetric", d.StringList("capabilities"), ContainElement("client-confidential-asymmetric"))
		t.Check(lvl, "token_endpoint_auth_methods_supported", "includes private_key_jwt", d.StringList("token_endpoint_auth_methods_supported"), ContainElement("private_key_jwt"))
		t.Check(lvl, "token_endpoint_auth_signing_alg_values_supported", "includes RS384 or ES384", d.StringList("token_endpoint_auth_signing_alg_values_supported"), Or(ContainElement("RS384"), ContainElement("ES384")))
		t.Should("scopes_supported", "present, an array (RECOMMENDED by SMART Conformance)", d.Doc["scopes_supported"], BeAssignableToTypeOf([]any{}))
	})

	Case(Meta{
		ID:          "DISC-WK-02",
		Title:       "smart-configuration is JSON whatever the Accept header",
		Requirement: "GET {base}/.well-known/smart-configuration answers 200 with an application/json object with no Accept header and with Accept application/fhir+json, text/html or application/xml.",
		Level:       MUST,
		Refs:        []Ref{refConfWellKnown},
		Hint:        "The server negotiates the content type of the discovery document (HTML for browsers, XML or 406 for others). SMART requires JSON regardless of Accept; servers may ignore Accept.",
	}, func(t *T) {
		if t.Target().BaseURL == "" {
			t.Skip("no fhirBaseUrl is configured (the token endpoint is configured directly)")
		}
		for _, accept := range []string{"", "application/fhir+json", "text/html", "application/xml"} {
			h := http.Header{}
			label := "Discovery (no Accept header)"
			if accept != "" {
				h.Set("Accept", accept)
				label = "Discovery (Accept: " + accept + ")"
			}
			r := t.Do(Request{Label: label, Method: http.MethodGet, URL: t.DiscoveryURL(), Header: h})
			what := " (Accept: " + accept + ")"
			if !t.Must("status"+what, "200", r.Status, Equal(200)) {
				continue
			}
			t.Must("media type"+what, "application/json (a charset parameter is allowed)", r.MediaType(), Equal("application/json"))
			t.Must("body"+what, "a JSON object", ErrText(r.JSONErr), BeEmpty())
		}
	})

	Case(Meta{
		ID:          "DISC-WK-03",
		Title:       "Endpoint URLs in smart-configuration are absolute",
		Requirement: "Every endpoint URL the document gives (each *_endpoint member, jwks_uri, user_access_brand_bundle, associated_endpoints[].url) is an absolute URL with a scheme and a host.",
		Level:       MUST,
		Refs:        []Ref{refConfWellKnown, refConfMetadata},
		Hint:        "A member holds a path relative to the server; clients do not resolve it. Emit absolute URLs (behind a proxy, from the external base URL).",
	}, func(t *T) {
		d := t.Discovery()
		urls := map[string]string{}
		for k, v := range d.Doc {
			if s, ok := v.(string); ok && (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri" || k == "user_access_brand_bundle") {
				urls[k] = s
			}
		}
		if ae, ok := d.Doc["associated_endpoints"].([]any); ok {
			for i, e := range ae {
				if m, ok := e.(map[string]any); ok {
					s, _ := m["url"].(string)
					urls[fmt.Sprintf("associated_endpoints[%d].url", i)] = s
				}
			}
		}
		names := make([]string, 0, len(urls))
		for k := range urls {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			u, err := url.Parse(urls[k])
			t.Must(k, "an absolute URL with a scheme and a host", urls[k], WithTransform(func(string) bool { return err == nil && u.IsAbs() && u.Host != "" }, BeTrue()))
		}
	})

	Case(Meta{
		ID:          "DISC-ASYM-02",
		Title:       "none is never an advertised signing algorithm",
		Requirement: "token_endpoint_auth_signing_alg_values_supported, when present, does not list none (in any letter case).",
		Level:       MUST,
		Refs:        []Ref{refRFC8414Meta, refRFC7518None},
		Hint:        "Advertising none invites unsecured client assertions; remove it from the list (and from what the verifier accepts).",
	}, func(t *T) {
		d := t.Discovery()
		var lower []string
		for _, a := range d.StringList("token_endpoint_auth_signing_alg_values_supported") {
			lower = append(lower, strings.ToLower(a))
		}
		t.Must("token_endpoint_auth_signing_alg_values_supported", "never includes none (RFC 8414 §2)", lower, Not(ContainElement("none")))
	})

	Case(Meta{
		ID:          "DISC-LAUNCH-01",
		Title:       "Launch metadata is present when app launch is advertised, and PKCE plain never is",
		Requirement: "When launch-ehr or launch-standalone is advertised, authorization_endpoint is present, grant_types_supported includes authorization_code and code_challenge_methods_supported includes S256; plain is never listed.",
		Level:       MUST,
		Refs:        []Ref{refConfMetadata, refPKCE, refConfCaps},
		Policy:      "AMB-DISC-1: SMART's own backend-services examples omit code_challenge_methods_supported, so on a server that advertises no launch capability its absence only warns, and authorization_endpoint is not required.",
		Hint:        "Advertise authorization_endpoint, the authorization_code grant and code_challenge_methods_supported [\"S256\"] with any launch capability; never list plain (SMART forbids it).",
	}, func(t *T) {
		d := t.Discovery()
		caps := d.StringList("capabilities")
		launch := slices.Contains(caps, "launch-ehr") || slices.Contains(caps, "launch-standalone")
		methods, has := d.Doc["code_challenge_methods_supported"]
		t.Must("code_challenge_methods_supported", "never includes plain", d.StringList("code_challenge_methods_supported"), Not(ContainElement("plain")))
		level := SHOULD
		if launch {
			level = MUST
			t.Must("authorization_endpoint", "present (launch-ehr or launch-standalone is advertised)", d.Doc["authorization_endpoint"], BeAssignableToTypeOf(""))
			t.Must("grant_types_supported", "includes authorization_code (launch is advertised)", d.StringList("grant_types_supported"), ContainElement("authorization_code"))
		}
		if t.Check(level, "code_challenge_methods_supported", "present (REQUIRED by SMART Conformance)", has, BeTrue()) {
			t.Check(level, "code_challenge_methods_supported", "includes S256", methods, ContainElement("S256"))
		}
	})

	Case(Meta{
		ID:          "DISC-CORS-01",
		Title:       "smart-configuration allows CORS when browser apps are supported",
		Requirement: "When client-public is advertised, a discovery GET with an Origin header should be answered with Access-Control-Allow-Origin * or that origin.",
		Level:       SHOULD,
		Refs:        []Ref{refCORS},
		Policy:      "SMART's SHALL binds servers that support purely browser-based apps, which discovery cannot show: client-public may mean native apps only. So the harness judges an advertised client-public at SHOULD (a warning, a failure under --strict) rather than fail a conformant native-only server.",
		Hint:        "Browser apps read the discovery document from another origin; add Access-Control-Allow-Origin (any origin) to the well-known response.",
	}, func(t *T) {
		d := t.Discovery()
		if !slices.Contains(d.StringList("capabilities"), "client-public") {
			t.Skip("the server does not advertise client-public (browser apps)")
		}
		origin := "https://smartconform.invalid"
		r := t.Do(Request{Label: "Discovery (cross-origin)", Method: http.MethodGet, URL: t.DiscoveryURL(), Header: http.Header{"Accept": {"application/json"}, "Origin": {origin}}})
		t.Level("Access-Control-Allow-Origin", "* or "+origin+" (SMART: browser apps read discovery cross-origin)", r.Header.Get("Access-Control-Allow-Origin"), BeElementOf("*", origin))
	})
})
