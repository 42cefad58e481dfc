package suites

import (
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	. "github.com/smartconform/smartconform/suites/engine"
)

// Refresh tokens of the authorization code flow (SMART App Launch 2.2
// app-launch "Refresh access token"; RFC 6749 §6; RFC 9700 §4.14).

// refreshable runs a flow for a confidential client and returns the client,
// the scope originally granted (within the request) and the refresh token;
// the case is skipped when the server issues none.
func refreshable(t *T) (LaunchClient, []string, string) {
	t.RequireLaunchBaseline()
	c := t.LaunchClient(ClientSecretBasic, ClientSecretPost, PrivateKeyJWT)
	res, resp := t.TokensFor(c, func(r *AuthRequest) {
		if !strings.Contains(r.Scope, "offline_access") && !strings.Contains(r.Scope, "online_access") {
			r.Scope = withScope(r.Scope, "offline_access")
		}
	})
	rt := resp.Str("refresh_token")
	if rt == "" {
		t.Skip("the code exchange issued no refresh token (scope " + res.Request.Scope + ")")
	}
	requested := scopeSet(res.Request.Scope)
	var original []string
	for _, s := range grantedScopes(resp, res.Request.Scope) {
		if slices.Contains(requested, s) {
			original = append(original, s)
		}
	}
	return c, original, rt
}

// requireRefresh ends the case as not run unless a valid refresh succeeds
// (once per run): a server that refuses every refresh must not pass the
// refresh negatives.
func requireRefresh(t *T) {
	t.RequireOnce("a valid refresh", "REFRESH-01", func(p *T) string {
		c, _, rt := refreshable(p)
		r := p.Do(p.RefreshRequest(c, rt, ""))
		if r.Status != 200 || r.Str("access_token") == "" {
			return "the refresh answered " + DescribeAnswer(r)
		}
		return ""
	})
}

var _ = Area(110, "refresh", "SMART App Launch: refresh tokens", func() {

	Case(Meta{
		ID:          "REFRESH-01",
		Title:       "A refresh token is redeemed with the client's authentication",
		Requirement: "A confidential client's refresh token, presented with the client's authentication, gets a new access token.",
		Level:       MUST,
		Refs:        []Ref{refALRefresh, refRFC6749Refr},
		Hint:        "The server refused a valid refresh request: check the refresh_token grant and the client authentication it expects.",
	}, func(t *T) {
		c, _, rt := refreshable(t)
		t.ExpectToken(t.Do(t.RefreshRequest(c, rt, "")))
	})

	Case(Meta{
		ID:          "REFRESH-AUTH-01",
		Title:       "A confidential client's refresh without client authentication is refused",
		Requirement: "A refresh token issued to a confidential client is not redeemed by a request that carries only the client_id.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refRFC6749Refr, refRFC6749Conf},
		Hint: "The server redeemed a confidential client's refresh token without authenticating the client (RFC 6749 §6).",
	}, func(t *T) {
		requireRefresh(t)
		c, _, rt := refreshable(t)
		bare := c
		bare.Method = AuthNone
		t.ExpectRejected(t.Do(t.RefreshRequest(bare, rt, "")), InvalidClient)
	})

	Case(Meta{
		ID:          "REFRESH-CLIENT-01",
		Title:       "Another client's refresh token is refused",
		Requirement: "A refresh token is not redeemed by a client other than the one it was issued to, even one that authenticates correctly.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refALRefresh, refRFC6749Refr},
		Hint: "The server does not bind refresh tokens to their client: SMART App Launch says a refresh token SHALL be bound to the same client_id.",
	}, func(t *T) {
		requireRefresh(t)
		c, _, rt := refreshable(t)
		other := t.OtherLaunchClient(c)
		t.ExpectRejected(t.Do(t.RefreshRequest(other, rt, "")), Rejection{Statuses: []int{400, 401}, Codes: []string{"invalid_grant"}})
	})

	Case(Meta{
		ID:          "REFRESH-SCOPE-01",
		Title:       "A refresh asking for more scope than granted is refused",
		Requirement: "A refresh request whose scope adds a scope not originally granted is refused (invalid_scope); it never gets that scope.",
		Level:       MUST, Negative: true,
		Refs: []Ref{refALRefresh, refRFC6749Refr},
		Hint: "The server widened the grant at refresh time: RFC 6749 §6 forbids any scope not originally granted.",
	}, func(t *T) {
		requireRefresh(t)
		c, original, rt := refreshable(t)
		extra := ""
		for _, s := range []string{"user/*.cruds", "patient/*.cruds", "system/*.cruds"} {
			if !slices.Contains(original, s) {
				extra = s
				break
			}
		}
		asked := strings.Join(append(append([]string(nil), original...), extra), " ")
		r := t.Do(t.RefreshRequest(c, rt, asked))
		if r.Status/100 == 2 {
			got := grantedScopes(r, asked)
			t.Must("scope granted at refresh", "without "+extra+", which was never granted", got, Not(ContainElement(extra)))
			t.Should("answer", "a refusal (400 invalid_scope) of a scope never granted", DescribeAnswer(r), HavePrefix("400"))
			return
		}
		t.ExpectRejected(r, Rejection{Statuses: []int{400}, Codes: []string{"invalid_scope"}})
	})

	Case(Meta{
		ID:          "REFRESH-SCOPE-02",
		Title:       "A refresh without scope keeps the original scopes",
		Requirement: "A refresh request without scope is granted the scopes originally granted: none of them is dropped.",
		Level:       MUST,
		Refs:        []Ref{refALRefresh, refRFC6749Refr},
		Hint:        "The server changed the scopes at a refresh that asked for none: an omitted scope means the original grant.",
	}, func(t *T) {
		requireRefresh(t)
		c, original, rt := refreshable(t)
		r := t.Do(t.RefreshRequest(c, rt, ""))
		if r.Status != 200 {
			t.NotRun("the refresh answered " + DescribeAnswer(r) + " (see REFRESH-01)")
		}
		if !r.Has("scope") {
			return // omitted: the same as originally granted (RFC 6749 §5.1)
		}
		got := scopeSet(r.Str("scope"))
		t.Must("scope granted at refresh", "every originally granted scope ("+strings.Join(original, " ")+")", got, ContainElements(original))
	})
})
