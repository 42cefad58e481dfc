package suites

import (
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"slices"
	"strings"

	. "github.com/onsi/gomega"
)

// Scopes in client_credentials requests (SMART App Launch 2.2 Scopes and
// Launch Context; Backend Services; RFC 6749 §3.3).
var _ = Area(70, "scopes", "Scopes", func() {

	// granted is the granted scope of a token response: its scope member,
	// or (RFC 6749 §3.3: omitted means as requested) the requested one.
	granted := func(r *Response, requested string) []string {
		if r.Has("scope") {
			return strings.Fields(r.Str("scope"))
		}
		return strings.Fields(requested)
	}

	Case(Meta{
		ID:          "SCOPE-UNK-01",
		Title:       "A scope for an unknown resource type is refused or dropped, never granted",
		Requirement: "A valid request that adds a scope for a resource type that does not exist should be refused with invalid_scope, or answered with a token whose scope leaves it out.",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{refBSEvaluate, refBSEnforce, refRFC6749Error, refRFC6749Scope},
		Policy: "AMB-SCOPE-2: SMART Backend Services says a server SHOULD respond with a failure when the client asks for data the server does not support, and RFC 6749 §3.3 lets the server ignore part of the requested scope (BDT expects invalid_scope); both pass. Granting it only warns: the text is a SHOULD, a system/* pre-authorization covers the name, and a grant for a type that does not exist gives no access.",
		Hint:   "The server grants whatever resource type name it is given. Check the resource type against the ones it serves and the client's pre-authorization.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		unknown := FirstScopeContext(t.Target().Scope) + "/SmartconformUnknownResource.rs"
		scope := t.Target().Scope + " " + unknown
		r = WithForm(r, "scope", scope)
		r.Label = "Token request (an unknown resource type added to scope)"
		resp := t.Do(r)
		if resp.Status == 200 {
			t.Should("granted scope", "leaves "+unknown+" out", granted(resp, scope), Not(ContainElement(unknown)))
			return
		}
		t.ExpectRejected(resp, Rejection{Statuses: []int{400}, Codes: []string{"invalid_scope"}, Level: SHOULD})
	})

	Case(Meta{
		ID:          "SCOPE-SYN-01",
		Title:       "A comma-separated scope list is not read as several scopes",
		Requirement: "A request whose scope is system/Patient.rs,system/Observation.rs (commas, not spaces) is refused with invalid_scope or answered without granting either scope as if the list were space-separated.",
		Level:       MUST, Negative: true,
		Refs:   []Ref{refRFC6749Scope, refScopes},
		Policy: "AMB-SCOPE-2: a malformed scope may be refused, ignored or replaced by defaults; reading it as two scopes may not. The defaults are what the server grants for a request without scope and, when the configuration gives registeredScope, anything within the client's registration (a server that refuses a missing scope may still replace a malformed one with the registration).",
		Hint:   "The server splits scope on commas. RFC 6749 §3.3 makes scope a space-delimited list of case-sensitive tokens; lenient parsing lets clients believe they asked for something they did not.",
	}, func(t *T) {
		_, r := t.AnyValidRequest()
		// What the server grants when no scope is asked for: a server may
		// replace a malformed scope with these defaults (AMB-SCOPE-2), so a
		// default is never held against it.
		noScope := WithForm(r, "scope")
		noScope.Label = "Token request (no scope: the server's defaults)"
		var defaults []string
		if d := t.Do(noScope); d.Status == 200 {
			defaults = strings.Fields(d.Str("scope"))
		}
		registered := strings.Fields(t.Target().RegisteredScope)
		_, r = t.AnyValidRequest()
		parts := []string{"system/Patient.rs", "system/Observation.rs"}
		scope := strings.Join(parts, ",")
		r = WithForm(r, "scope", scope)
		r.Label = "Token request (comma-separated scope)"
		resp := t.Do(r)
		if resp.Status == 200 {
			g := granted(resp, scope)
			judged := false
			for _, p := range parts {
				if slices.Contains(defaults, p) || (len(registered) > 0 && ScopeCovered(p, registered)) {
					continue
				}
				judged = true
				t.Must("granted scope", "does not hold "+p+" (the comma-separated value is one malformed token; "+p+" is not among the server's default scopes)", g, Not(ContainElement(p)))
			}
			if !judged {
				t.Skip("the server's default scopes (or the client's registration) hold both scopes, so a comma split cannot be told from a default grant")
			}
			return
		}
		t.ExpectRejected(resp, Rejection{Statuses: []int{400}, Codes: []string{"invalid_scope"}})
	})

	syntax := func(t *T, capability string, v2 bool) (*Response, string) {
		d := t.Discovery()
		if !slices.Contains(d.StringList("capabilities"), capability) {
			t.Skip("the server does not advertise " + capability)
		}
		_, r := t.AnyValidRequest()
		scope, ok := ConvertScope(t.Target().Scope, v2)
		if !ok {
			t.Skip(fmt.Sprintf("the configured scope %q has no equivalent in the other syntax", t.Target().Scope))
		}
		r = WithForm(r, "scope", scope)
		r.Label = "Token request (scope " + scope + ")"
		resp := t.Do(r)
		t.ExpectToken(resp)
		return resp, scope
	}

	Case(Meta{
		ID:          "SCOPE-V1-01",
		Title:       "SMART v1 scope syntax is accepted where permission-v1 is advertised",
		Requirement: "When permission-v1 is advertised, the configured scope written in v1 syntax (.read, .write, .*) gets an access token.",
		Level:       MUST,
		Refs:        []Ref{refScopesV1, refConfCaps},
		Policy:      "DISC-CAP-02: an advertised capability must work; skipped when permission-v1 is not advertised.",
		Hint:        "The server advertises permission-v1 but refuses v1 scopes. Map .read to .rs, .write to .cud and .* to .cruds, or stop advertising permission-v1.",
	}, func(t *T) {
		syntax(t, "permission-v1", false)
	})

	Case(Meta{
		ID:          "SCOPE-V2-01",
		Title:       "SMART v2 scope syntax is accepted and granted as v2 where permission-v2 is advertised",
		Requirement: "When permission-v2 is advertised, the configured scope written in v2 syntax (.rs, .cud, .cruds) gets an access token, and the granted scopes should stay in v2 syntax.",
		Level:       MUST,
		Refs:        []Ref{refScopes, refConfCaps},
		Policy:      "DISC-CAP-02: an advertised capability must work; skipped when permission-v2 is not advertised. Granting v2 requests back in v1 syntax is lossy and only warns (SCOPE-MIX-01).",
		Hint:        "The server rewrites granted v2 scopes into v1 syntax; v1 cannot express every v2 permission set, so clients cannot tell what they were granted.",
	}, func(t *T) {
		r, scope := syntax(t, "permission-v2", true)
		if r.Status != 200 {
			return
		}
		var v1 []string
		for _, g := range granted(r, scope) {
			if IsV1Scope(g) {
				v1 = append(v1, g)
			}
		}
		t.Should("granted scope", "v2 syntax, as requested (no .read, .write or .* scopes)", v1, BeEmpty())
	})
})
