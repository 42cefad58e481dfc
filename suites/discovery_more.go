package suites

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/gomega"

	. "github.com/smartconform/smartconform/suites/engine"
)

// smartCapabilities are the capability names SMART App Launch defines (2.x,
// and the 1.x names still met in the field).
var smartCapabilities = []string{
	"launch-ehr", "launch-standalone", "authorize-post", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
	"sso-openid-connect", "context-banner", "context-style", "context-passthrough-banner", "context-passthrough-style",
	"context-ehr-patient", "context-ehr-encounter", "context-standalone-patient", "context-standalone-encounter",
	"permission-offline", "permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2", "smart-app-state",
}

// Discovery metadata the trust chain relies on (SMART App Launch
// Conformance; SMART 1.x CapabilityStatement discovery).
var _ = Area(12, "discovery-metadata", "Discovery: metadata completeness", func() {

	Case(Meta{
		ID:          "DISC-OIDC-01",
		Title:       "issuer and jwks_uri are given when sso-openid-connect is advertised",
		Requirement: "When capabilities include sso-openid-connect, smart-configuration gives issuer and jwks_uri as absolute URLs; otherwise issuer should be omitted.",
		Level:       MUST,
		Refs:        []Ref{refConfMetadata, refConfCaps},
		Policy:      "SMART Conformance: issuer and jwks_uri are CONDITIONAL, \"required if the server's capabilities include sso-openid-connect\"; issuer is \"otherwise, omitted\", which the harness judges at SHOULD (an issuer without OpenID Connect misleads clients, but breaks none).",
		Hint:        "Clients verifying id_tokens need the issuer and the key set: publish both with sso-openid-connect.",
	}, func(t *T) {
		d := t.Discovery()
		abs := func(v any) bool {
			s, _ := v.(string)
			u, err := url.Parse(s)
			return err == nil && u.IsAbs() && u.Host != ""
		}
		if !slices.Contains(d.StringList("capabilities"), "sso-openid-connect") {
			_, has := d.Doc["issuer"]
			t.Should("issuer", "omitted (sso-openid-connect is not advertised)", has, BeFalse())
			return
		}
		t.Must("issuer", "an absolute URL (sso-openid-connect is advertised)", d.Doc["issuer"], WithTransform(abs, BeTrue()))
		t.Must("jwks_uri", "an absolute URL (sso-openid-connect is advertised)", d.Doc["jwks_uri"], WithTransform(abs, BeTrue()))
	})

	Case(Meta{
		ID:          "DISC-CAP-01",
		Title:       "Every capability is a SMART capability or a full URI",
		Requirement: "Each entry of capabilities is a capability SMART App Launch defines, or an absolute URI (capabilities defined elsewhere SHALL use full URIs).",
		Level:       MUST,
		Refs:        []Ref{refConfCaps},
		Policy:      "The known names are SMART 2.2's, plus the 1.x context-passthrough-banner and context-passthrough-style.",
		Hint:        "A capability name is misspelt (clients ignore it, so the feature looks unsupported), or a vendor capability is not a URI.",
	}, func(t *T) {
		d := t.Discovery()
		for _, c := range d.StringList("capabilities") {
			u, err := url.Parse(c)
			ok := slices.Contains(smartCapabilities, c) || (err == nil && u.IsAbs())
			t.Must("capability "+c, "a SMART capability or an absolute URI", ok, BeTrue())
		}
	})

	Case(Meta{
		ID:          "DISC-SCOPE-01",
		Title:       "Every system scope in scopes_supported can be requested",
		Requirement: "Each system/ scope listed in scopes_supported (at most ten) is granted to a confidential client's client_credentials request for it.",
		Level:       MUST,
		Refs:        []Ref{refConfMetadata, refBSEvaluate},
		Policy:      "SMART Conformance: \"The server SHALL support all scopes listed here\". Only system/ scopes are tried (the others need a user or a launch); a server may still restrict a particular client, so the configured client is assumed to be allowed the advertised system scopes.",
		Hint:        "scopes_supported lists a scope the token endpoint refuses: list only what clients can get.",
	}, func(t *T) {
		d := t.Discovery()
		var system []string
		for _, s := range d.StringList("scopes_supported") {
			if strings.HasPrefix(s, "system/") {
				system = append(system, s)
			}
		}
		if len(system) == 0 {
			t.Skip("scopes_supported lists no system/ scope")
		}
		sort.Strings(system)
		if len(system) > 10 {
			system = system[:10]
		}
		for _, s := range system {
			_, req := t.AnyValidRequest()
			req = WithForm(req, "scope", s)
			req.Label += " (scope " + s + ")"
			r := t.Do(req)
			t.Must("scope "+s, "granted: 200 with a token", DescribeAnswer(r), Equal("200"))
		}
	})

	Case(Meta{
		ID:          "DISC-TLS-01",
		Title:       "Every advertised endpoint uses TLS",
		Requirement: "Every absolute endpoint URL of smart-configuration (each *_endpoint but the token endpoint, which TLS-01 judges; jwks_uri; issuer) is https.",
		Level:       MUST,
		Refs:        []Ref{refBSRequest, RFC(6749, "3.1"), refConfMetadata},
		Policy:      "Skipped for a plain-HTTP target on a loopback address (a local test server), as TLS-01 is.",
		Hint:        "An endpoint is advertised over plain HTTP (often a proxy that forgets X-Forwarded-Proto); clients would send tokens or credentials in clear.",
	}, func(t *T) {
		d := t.Discovery()
		if strings.HasPrefix(d.URL, "http://") && LoopbackURL(d.URL) {
			t.Skip("the target is plain HTTP on a loopback address (a local test server), so there is no TLS to judge")
		}
		var names []string
		for k, v := range d.Doc {
			s, ok := v.(string)
			u, err := url.Parse(s)
			// The token endpoint is TLS-01's; a relative URL is DISC-WK-03's.
			if ok && k != "token_endpoint" && err == nil && u.IsAbs() && (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri" || k == "issuer") {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			t.Must(k, "an https URL", d.Doc[k], WithTransform(func(v any) string { s, _ := v.(string); return strings.ToLower(s) }, HavePrefix("https://")))
		}
	})

	Case(Meta{
		ID:          "DISC-V1-01",
		Title:       "The CapabilityStatement's oauth-uris extension names the same endpoints (SMART 1.x)",
		Requirement: "Under SMART 1.x the CapabilityStatement at {base}/metadata carries the oauth-uris extension with token (and authorize when launch is supported); wherever it is present, its endpoints equal smart-configuration's.",
		Level:       MUST,
		Refs:        []Ref{SAL("conformance.html", "", "Conformance (CapabilityStatement discovery deprecated)"), Ref{Label: "SMART App Launch 1.0 Conformance", URL: "https://hl7.org/fhir/smart-app-launch/1.0.0/conformance/index.html"}},
		Policy:      "AMB-V1V2: SMART 1.x servers SHALL use both the extension and the well-known document; 2.x deprecates the extension, so under smart-v2 and oauth its absence is skipped and a disagreement warns.",
		Profiles:    map[string]Level{ProfileSMARTv2: SHOULD, ProfileOAuth: SHOULD},
		Hint:        "The CapabilityStatement and smart-configuration name different endpoints; clients using either must reach the same server.",
	}, func(t *T) {
		lvl := t.ProfileLevel()
		d := t.Discovery()
		r := t.Do(Request{Label: "CapabilityStatement", Method: http.MethodGet, URL: strings.TrimRight(t.Target().BaseURL, "/") + "/metadata", Header: http.Header{"Accept": {"application/fhir+json"}}, Endpoint: EndpointFHIR})
		uris := oauthURIs(r)
		v1 := lvl == MUST
		if uris == nil {
			if !v1 {
				t.Skip(fmt.Sprintf("the CapabilityStatement (%s) has no oauth-uris extension, which SMART 2.x deprecates", DescribeAnswer(r)))
			}
			t.Must("oauth-uris", "present in rest[].security.extension (SMART 1.x)", DescribeAnswer(r), Equal("an extension"))
			return
		}
		if v1 {
			t.Must("oauth-uris token", "present (SMART 1.x SHALL)", uris["token"], Not(BeEmpty()))
		}
		for k, member := range map[string]string{"token": "token_endpoint", "authorize": "authorization_endpoint", "introspect": "introspection_endpoint", "revoke": "revocation_endpoint", "manage": "management_endpoint"} {
			want, ok := d.Doc[member].(string)
			if got := uris[k]; got != "" && ok {
				t.Check(lvl, "oauth-uris "+k, "equal to smart-configuration's "+member+" ("+want+")", got, Equal(want))
			}
		}
	})
})

// oauthURIs reads the SMART oauth-uris extension of a CapabilityStatement
// (nil when there is none).
func oauthURIs(r *Response) map[string]string {
	if r.Status != http.StatusOK || r.JSON == nil {
		return nil
	}
	rest, _ := r.JSON["rest"].([]any)
	for _, re := range rest {
		m, _ := re.(map[string]any)
		sec, _ := m["security"].(map[string]any)
		exts, _ := sec["extension"].([]any)
		for _, e := range exts {
			em, _ := e.(map[string]any)
			if u, _ := em["url"].(string); u != "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris" {
				continue
			}
			out := map[string]string{}
			inner, _ := em["extension"].([]any)
			for _, ie := range inner {
				im, _ := ie.(map[string]any)
				k, _ := im["url"].(string)
				v, _ := im["valueUri"].(string)
				out[k] = v
			}
			return out
		}
	}
	return nil
}
