package suites

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/gomega"

	. "github.com/smartconform/smartconform/suites/engine"
)

// fhirResourceURL is the resource the enforcement cases request; the case
// is skipped unless the configuration names a FHIR server (opt-in).
func fhirResourceURL(t *T) string {
	t.TokenURL() // an unreachable target is an error, never skipped
	tr := t.Target().Trust
	if tr == nil || tr.FHIRBase == "" {
		t.Skip("no FHIR resource server is named (trust.resourceServer.fhirBase): the harness sends nothing to a FHIR server unless told to")
	}
	return tr.FHIRBase + "/" + tr.ResourcePath
}

// resourceType is the FHIR type the configured path searches.
func resourceType(t *T) string {
	p := t.Target().Trust.ResourcePath
	p, _, _ = strings.Cut(p, "?")
	p, _, _ = strings.Cut(p, "/")
	return p
}

// fhirGET requests u with "scheme token" as Authorization (none when
// scheme is "").
func fhirGET(t *T, label, u, scheme, token string) *Response {
	h := http.Header{"Accept": {"application/fhir+json"}}
	if scheme != "" {
		h.Set("Authorization", scheme+" "+token)
	}
	return t.Do(Request{Label: label, Method: http.MethodGet, URL: u, Header: h, Endpoint: EndpointFHIR})
}

// rsBaseline gets a token and ends the case as not run unless the FHIR
// server accepts it: a server refusing everything would pass every
// negative case.
func rsBaseline(t *T, u string) string {
	_, r, _ := freshToken(t)
	tok := r.Str("access_token")
	ok := fhirGET(t, "FHIR search (valid token)", u, "Bearer", tok)
	if ok.Status/100 != 2 {
		t.NotRun(fmt.Sprintf("a valid token is not accepted at the FHIR server (%d), so a refusal here proves nothing; see RS-VALID-01", ok.Status))
	}
	return tok
}

// challenge judges a WWW-Authenticate header: present, with the Bearer
// scheme (RFC 6750 §3).
func challenge(t *T, r *Response) {
	ch := r.Header.Get("WWW-Authenticate")
	t.Must("WWW-Authenticate", "a Bearer challenge (RFC 6750 §3: MUST)", strings.ToLower(ch), HavePrefix("bearer"))
}

// Enforcement at the FHIR server (SMART Backend Services "Enforce
// authorization"; RFC 6750). Opt-in: nothing is sent to a FHIR server
// unless the configuration names one.
var _ = Area(68, "resource-server", "Enforcement at the FHIR server", func() {

	refRFC6750Chall := RFC(6750, "3")
	refRFC6750Codes := RFC(6750, "3.1")

	Case(Meta{
		ID:          "RS-VALID-01",
		Title:       "A valid token is accepted at the FHIR server",
		Requirement: "A request for the configured resource with a fresh access token as Authorization: Bearer is answered 2xx.",
		Level:       MUST,
		Refs:        []Ref{refBSEnforce, RFC(6750, "2.1")},
		Hint:        "The resource server refuses the server's own fresh tokens: check that it validates them with the issuer's current keys (or introspection) and the right audience.",
	}, func(t *T) {
		u := fhirResourceURL(t)
		_, r, _ := freshToken(t)
		res := fhirGET(t, "FHIR search (valid token)", u, "Bearer", r.Str("access_token"))
		t.Must("status", "2xx", res.Status, And(BeNumerically(">=", 200), BeNumerically("<", 300)))
	})

	Case(Meta{
		ID:          "RS-NOTOKEN-01",
		Title:       "A request without a token gets 401 with a Bearer challenge",
		Requirement: "A request for the configured resource without Authorization is answered 401 with WWW-Authenticate: Bearer.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6750Chall, refBSEnforce},
		Hint: "The resource is served without authorization, or refused without telling the client how to authenticate.",
	}, func(t *T) {
		u := fhirResourceURL(t)
		rsBaseline(t, u)
		r := fhirGET(t, "FHIR search (no token)", u, "", "")
		if t.Must("status", "401 (RFC 6750 §3)", r.Status, Equal(http.StatusUnauthorized)) {
			challenge(t, r)
		}
	})

	Case(Meta{
		ID:          "RS-BADTOKEN-01",
		Title:       "A garbage token gets 401",
		Requirement: "A request with a bearer value that is no token of the server is answered 401 with WWW-Authenticate: Bearer (error=invalid_token should be given).",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6750Codes, refBSEnforce},
		Hint: "The resource server accepts values it never issued (e.g. any opaque string). Validate every token.",
	}, func(t *T) {
		u := fhirResourceURL(t)
		rsBaseline(t, u)
		r := fhirGET(t, "FHIR search (garbage token)", u, "Bearer", "smartconform-not-a-token-0123456789abcdef")
		if t.Must("status", "401 (RFC 6750 §3.1 invalid_token)", r.Status, Equal(http.StatusUnauthorized)) {
			challenge(t, r)
			t.Should("error", "invalid_token in the challenge", r.Header.Get("WWW-Authenticate"), ContainSubstring("invalid_token"))
		}
	})

	Case(Meta{
		ID:          "RS-TAMPER-01",
		Title:       "A tampered token gets 401",
		Requirement: "A request with a valid token whose last signature (or value) character was changed is answered 401.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRFC6750Codes, refBSEnforce},
		Policy: "A JWT is tampered in its signature, so the header and claims still read as a valid token; an opaque token in its middle character.",
		Hint:   "The resource server reads the token's claims without checking its signature.",
	}, func(t *T) {
		u := fhirResourceURL(t)
		tok := rsBaseline(t, u)
		i := len(tok) / 2
		if strings.Count(tok, ".") == 2 {
			i = strings.LastIndexByte(tok, '.') + (len(tok)-strings.LastIndexByte(tok, '.'))/2
		}
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		tampered := tok[:i] + string(c) + tok[i+1:]
		r := fhirGET(t, "FHIR search (tampered token)", u, "Bearer", tampered)
		if t.Must("status", "401 (RFC 6750 §3.1 invalid_token)", r.Status, Equal(http.StatusUnauthorized)) {
			challenge(t, r)
		}
	})

	Case(Meta{
		ID:          "RS-SCOPE-01",
		Title:       "A token whose scope does not cover the resource is refused",
		Requirement: "A valid token granted only a scope for another resource type is refused for the configured resource with 403 (or 401 with error=insufficient_scope).",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refBSEnforce, refRFC6750Codes},
		Policy: "RFC 6750 §3.1 names 403 for insufficient_scope; a 401 whose challenge says insufficient_scope passes too. The narrow scope is trust.resourceServer.outOfScope, or a search scope for another type (Observation, or Patient when the resource is Observation); skipped when the server will not grant it.",
		Hint:   "The resource server checks that the token is valid but not that its scope covers the resource type.",
	}, func(t *T) {
		u := fhirResourceURL(t)
		rsBaseline(t, u)
		typ := resourceType(t)
		narrow := t.Target().Trust.OutOfScope
		if narrow == "" {
			other := "Observation"
			if typ == "Observation" {
				other = "Patient"
			}
			perms := "rs"
			if IsV1Scope(strings.Fields(t.Target().Scope + " x.rs")[0]) {
				perms = "read"
			}
			narrow = FirstScopeContext(t.Target().Scope) + "/" + other + "." + perms
		}
		_, req := t.AnyValidRequest()
		req = WithForm(req, "scope", narrow)
		req.Label += " (narrow scope " + narrow + ")"
		tr := t.Do(req)
		if tr.Status != http.StatusOK || tr.Str("access_token") == "" {
			t.Skip(fmt.Sprintf("the server does not grant %s (%s), so there is no narrow token to try", narrow, DescribeAnswer(tr)))
		}
		for _, g := range grantedScopes(tr, narrow) {
			if _, gt, _, ok := ScopeParts(g); ok && (gt == typ || gt == "*") {
				t.NotRun("the server granted " + g + " for a request of " + narrow + " alone, which covers " + typ + " (more than asked: see TRESP-06), so there is no narrow token to try")
			}
		}
		r := fhirGET(t, "FHIR search (token without "+typ+" scope)", u, "Bearer", tr.Str("access_token"))
		if r.Status == http.StatusUnauthorized {
			t.Must("401 challenge", "error=insufficient_scope (RFC 6750 §3.1), else 403", r.Header.Get("WWW-Authenticate"), ContainSubstring("insufficient_scope"))
			return
		}
		t.Must("status", "403 (RFC 6750 §3.1 insufficient_scope)", r.Status, Equal(http.StatusForbidden))
	})

	Case(Meta{
		ID:          "RS-SCHEME-01",
		Title:       "The Bearer scheme name is case-insensitive",
		Requirement: "A valid token sent as Authorization: bearer (lower case) should be accepted like Bearer.",
		Level:       SHOULD,
		Refs:        []Ref{RFC(7235, "2.1"), RFC(6750, "2.1")},
		Policy:      "RFC 7235 §2.1 (and RFC 9110 §11.1): the scheme is a case-insensitive token; RFC 6750's ABNF spells it Bearer, so a refusal warns.",
		Hint:        "The resource server compares the scheme case-sensitively; some clients and proxies send \"bearer\".",
	}, func(t *T) {
		u := fhirResourceURL(t)
		tok := rsBaseline(t, u)
		r := fhirGET(t, "FHIR search (scheme spelt bearer)", u, "bearer", tok)
		t.Level("status", "2xx, as with Bearer", r.Status, And(BeNumerically(">=", 200), BeNumerically("<", 300)))
	})
})
