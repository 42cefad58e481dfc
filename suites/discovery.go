package suites

import (
	"net/http"
	"net/url"

	. "github.com/onsi/gomega"
)

// Discovery: the smart-configuration document (SMART App Launch 2.2
// Conformance; Asymmetric client auth, Discovery Requirements).
var _ = Area("discovery", "Discovery: .well-known/smart-configuration", func() {

	Case(Meta{
		ID:          "DISC-WK-01",
		Title:       "smart-configuration is served as JSON and names the token endpoint",
		Requirement: "GET {base}/.well-known/smart-configuration answers 200 with an application/json object whose token_endpoint is an absolute URL and whose grant_types_supported includes client_credentials.",
		Level:       MUST,
		Refs:        []Ref{refConfWellKnown, refConfMetadata},
		Hint:        "Serve the document as application/json (not text/html or application/fhir+json) at {FHIR base}/.well-known/smart-configuration, with absolute endpoint URLs.",
	}, func(t *T) {
		if t.Target().BaseURL == "" {
			t.Skip("no fhirBaseUrl is configured (the token endpoint is configured directly)")
		}
		r := t.Do(Request{Label: "Discovery", Method: http.MethodGet, URL: t.env.discoveryURL(), Header: http.Header{"Accept": {"application/json"}}})
		if !t.Must("status", "200", r.Status, Equal(200)) {
			return
		}
		t.Must("media type", "application/json (a charset parameter is allowed)", r.MediaType(), Equal("application/json"))
		if !t.Must("body", "a JSON object", errString(r.JSONErr), BeEmpty()) {
			return
		}
		te := r.Str("token_endpoint")
		u, err := url.Parse(te)
		t.Must("token_endpoint", "an absolute URL", te, WithTransform(func(string) bool { return err == nil && u.IsAbs() && u.Host != "" }, BeTrue()))
		t.Must("capabilities", "an array of strings", r.JSON["capabilities"], BeAssignableToTypeOf([]any{}))
		gts, _ := r.JSON["grant_types_supported"].([]any)
		t.Must("grant_types_supported", "an array that includes client_credentials (Backend Services)", gts, ContainElement("client_credentials"))
	})

	Case(Meta{
		ID:          "DISC-ASYM-01",
		Title:       "private_key_jwt support is advertised in discovery",
		Requirement: "A server supporting asymmetric client authentication advertises the client-confidential-asymmetric capability, private_key_jwt in token_endpoint_auth_methods_supported, RS384 or ES384 in token_endpoint_auth_signing_alg_values_supported, and scopes_supported.",
		Level:       MUST,
		Method:      PrivateKeyJWT,
		Refs:        []Ref{refAsymDiscovery, refRFC8414Meta},
		Policy:      "AMB-DISC-3: a MUST under SMART v2 (the server advertises these properties); Bulk Data v1 said SHOULD.",
		Hint:        "Clients find out that private_key_jwt works from these four properties; a server that omits them is skipped by clients that follow the spec.",
	}, func(t *T) {
		t.RequireClient(PrivateKeyJWT)
		d := t.Discovery()
		t.Must("capabilities", "includes client-confidential-asymmetric", d.StringList("capabilities"), ContainElement("client-confidential-asymmetric"))
		t.Must("token_endpoint_auth_methods_supported", "includes private_key_jwt", d.StringList("token_endpoint_auth_methods_supported"), ContainElement("private_key_jwt"))
		t.Must("token_endpoint_auth_signing_alg_values_supported", "includes RS384 or ES384", d.StringList("token_endpoint_auth_signing_alg_values_supported"), Or(ContainElement("RS384"), ContainElement("ES384")))
		t.Must("token_endpoint_auth_signing_alg_values_supported", "never includes none (RFC 8414 §2)", d.StringList("token_endpoint_auth_signing_alg_values_supported"), Not(ContainElement(BeElementOf("none", "None", "NONE"))))
		t.Must("scopes_supported", "present, an array", d.Doc["scopes_supported"], BeAssignableToTypeOf([]any{}))
	})
})
