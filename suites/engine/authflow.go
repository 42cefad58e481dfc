package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// The authorization code flow (SMART App Launch, RFC 6749 §4.1): a case
// builds an AuthRequest, Authorize drives the authorization step through
// the configured driver (browser.go, interactive.go, follow.go) and returns
// what came back to the redirect URI; CodeRequest and RefreshRequest build
// token requests for a LaunchClient in its authentication method.

// PKCE is the code_challenge_method an authorization request uses.
type PKCE string

// PKCE methods (RFC 7636 §4.2); PKCENone sends no code_challenge.
const (
	PKCES256  PKCE = "S256"
	PKCEPlain PKCE = "plain"
	PKCENone  PKCE = "none"
)

// LaunchClient is a client registered for the authorization code grant.
type LaunchClient struct {
	Method   string // private_key_jwt, client_secret_basic, client_secret_post, none
	ClientID string
	Secret   string
	Keys     []fixtures.SigningKey
}

// AuthRequest is one authorization request. Zero fields are left out;
// NewAuthRequest fills the usual ones.
type AuthRequest struct {
	Client       LaunchClient
	ResponseType string // "code" unless set
	ClientID     string // defaults to Client.ClientID; "-" sends none
	RedirectURI  string
	Scope        string
	State        string
	Aud          string // "-" sends none
	Nonce        string
	PKCE         PKCE
	Verifier     string // generated for S256 and plain when empty
	Launch       string
	Extra        url.Values
}

// AuthResult is what the authorization step ended with.
type AuthResult struct {
	// Redirected is true when the user agent was sent to the redirect URI
	// (with a code or an error); Params are that URI's query parameters.
	Redirected bool
	Params     url.Values
	Code       string
	State      string
	Error      string
	// StoppedAt is the page the flow ended on without a redirect (an error
	// page, typically), redacted.
	StoppedAt string
	Verifier  string
	Request   AuthRequest
}

// HasCode says whether the flow ended at the redirect URI with a code.
func (r *AuthResult) HasCode() bool { return r.Redirected && r.Code != "" }

// Outcome describes the end of the flow in words, for findings.
func (r *AuthResult) Outcome() string {
	switch {
	case r.HasCode():
		return "redirected to the redirect URI with a code"
	case r.Redirected && r.Error != "":
		return "redirected to the redirect URI with error=" + r.Error
	case r.Redirected:
		return "redirected to the redirect URI with neither code nor error"
	}
	return "no redirect to the redirect URI (the flow stopped at " + r.StoppedAt + ")"
}

// Launch returns the launch configuration, or skips the case.
func (t *T) Launch() *config.Launch {
	l := t.Target().Launch
	if l == nil {
		t.Skip("the authorization code flow is not configured (the target has no launch: section)")
	}
	return l
}

// LaunchClientFor returns the launch client of method, and whether there is one.
func (t *T) LaunchClientFor(method string) (LaunchClient, bool) {
	l, tg := t.Launch(), t.Target()
	switch method {
	case PrivateKeyJWT:
		if tg.Asym != nil {
			return LaunchClient{Method: method, ClientID: tg.Asym.ClientID, Keys: tg.Asym.Keys}, true
		}
	case ClientSecretBasic:
		if tg.Basic != nil {
			return LaunchClient{Method: method, ClientID: tg.Basic.ClientID, Secret: tg.Basic.Secret}, true
		}
	case ClientSecretPost:
		if tg.Post != nil {
			return LaunchClient{Method: method, ClientID: tg.Post.ClientID, Secret: tg.Post.Secret}, true
		}
	case AuthNone:
		if l.PublicClientID != "" {
			return LaunchClient{Method: method, ClientID: l.PublicClientID}, true
		}
	}
	return LaunchClient{}, false
}

// LaunchClient returns a configured launch client among methods (all
// methods when none are given: confidential ones first, so that the cases
// not about one client type use the same client), or skips the case. The
// first one whose authentication works at the token endpoint (its
// baseline is accepted; a public client has none) is preferred: a server
// that refuses one method is judged for that once, by the method's own
// cases, and the flows go on with a client that works.
func (t *T) LaunchClient(methods ...string) LaunchClient {
	if len(methods) == 0 {
		methods = []string{ClientSecretBasic, ClientSecretPost, PrivateKeyJWT, AuthNone}
	}
	if c, ok := t.firstLaunchClient(methods, func(LaunchClient) bool { return true }); ok {
		return c
	}
	t.Skip("no launch client is configured for " + strings.Join(methods, " or "))
	return LaunchClient{}
}

// OtherLaunchClient returns a configured launch client other than c (one
// that authenticates, preferably), or skips the case.
func (t *T) OtherLaunchClient(c LaunchClient) LaunchClient {
	methods := []string{ClientSecretBasic, ClientSecretPost, PrivateKeyJWT, AuthNone}
	if o, ok := t.firstLaunchClient(methods, func(o LaunchClient) bool { return o.ClientID != c.ClientID }); ok {
		return o
	}
	t.Skip("a second launch client (another client_id) is needed and none is configured")
	return LaunchClient{}
}

// firstLaunchClient is the first configured client of methods that keep
// accepts and whose method's baseline is accepted, else the first that
// keep accepts.
func (t *T) firstLaunchClient(methods []string, keep func(LaunchClient) bool) (LaunchClient, bool) {
	var fallback *LaunchClient
	for _, m := range methods {
		c, ok := t.LaunchClientFor(m)
		if !ok || !keep(c) {
			continue
		}
		if m == AuthNone || t.env.baseline(t.ctx, m).ok {
			return c, true
		}
		if fallback == nil {
			fallback = &c
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return LaunchClient{}, false
}

// AuthorizeURL is the configured or discovered authorization endpoint.
func (t *T) AuthorizeURL() string {
	if u := t.Launch().AuthorizeURL; u != "" {
		return u
	}
	d := t.Discovery()
	u, _ := d.Doc["authorization_endpoint"].(string)
	if u == "" {
		t.Skip("discovery gives no authorization_endpoint and launch.authorizeEndpoint is not set")
	}
	return u
}

// Aud is the aud the launch sends: configured, or the FHIR base URL.
func (t *T) Aud() string {
	if a := t.Launch().Aud; a != "" {
		return a
	}
	return t.Target().BaseURL
}

// RandomValue is a fresh URL-safe random string of n bytes of entropy.
func RandomValue(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewAuthRequest is a valid standalone request for c: the configured
// redirect URI and scope, a fresh state and nonce, aud, PKCE S256.
func (t *T) NewAuthRequest(c LaunchClient) AuthRequest {
	l := t.Launch()
	return AuthRequest{Client: c, RedirectURI: l.RedirectURI, Scope: l.Scope, State: RandomValue(16), Aud: t.Aud(),
		Nonce: RandomValue(16), PKCE: PKCES256}
}

// S256 is the code_challenge of verifier (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// query builds the authorization request's query parameters.
func (r *AuthRequest) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" && v != "-" {
			q.Set(k, v)
		}
	}
	rt := r.ResponseType
	if rt == "" {
		rt = "code"
	}
	set("response_type", rt)
	id := r.ClientID
	if id == "" {
		id = r.Client.ClientID
	}
	set("client_id", id)
	set("redirect_uri", r.RedirectURI)
	set("scope", r.Scope)
	set("state", r.State)
	set("aud", r.Aud)
	set("nonce", r.Nonce)
	set("launch", r.Launch)
	switch r.PKCE {
	case PKCES256, "":
		if r.Verifier == "" {
			r.Verifier = RandomValue(32)
		}
		q.Set("code_challenge", S256(r.Verifier))
		q.Set("code_challenge_method", "S256")
	case PKCEPlain:
		if r.Verifier == "" {
			r.Verifier = RandomValue(32)
		}
		q.Set("code_challenge", r.Verifier)
		q.Set("code_challenge_method", "plain")
	}
	for k, vs := range r.Extra {
		q[k] = vs
	}
	return q
}

// flow is one authorization step handed to a driver.
type flow struct {
	caseID      string
	authURL     string
	redirectURI string // what the user agent is caught going to
	launch      *config.Launch
	redactor    *reporter.Redactor
	evidence    []reporter.Exchange
	tlsClient   *http.Client // the run's HTTP client (follow)
	loopback    *loopback    // interactive
	trust       trust        // the target's CA, for the browser
}

// note records one step of the flow as evidence (redacted).
func (f *flow) note(label, method, u, detail string) {
	f.evidence = append(f.evidence, reporter.Exchange{Label: label, Method: method, URL: f.redactor.URL(u), Error: f.redactor.Text(detail)})
}

// flowEnd is where a driver's flow ended: at the redirect URI (redirect
// holds the full URL) or on a page (stoppedAt).
type flowEnd struct {
	redirect  string
	stoppedAt string
}

// scriptError is a login script that could not be followed: the case is an
// error, never a verdict.
type scriptError struct {
	msg        string
	screenshot string
}

func (e *scriptError) Error() string {
	if e.screenshot != "" {
		return e.msg + " (screenshot: " + e.screenshot + ")"
	}
	return e.msg
}

// driver runs the authorization step of one flow.
type driver interface {
	// prepare may rewrite the redirect URI (interactive: the port the
	// listener got) before the authorization URL is built.
	prepare(ctx context.Context, f *flow) (redirectURI string, release func(), err error)
	run(ctx context.Context, f *flow) (*flowEnd, error)
}

// driverUnavailable is a driver that cannot run here (no browser): the case
// is skipped with the reason.
type driverUnavailable struct{ reason string }

func (e *driverUnavailable) Error() string { return e.reason }

func driverFor(l *config.Launch) driver {
	switch l.Driver {
	case config.DriverBrowser:
		return browserDriver{}
	case config.DriverInteractive:
		return interactiveDriver{}
	}
	return followDriver{}
}

// Authorize runs one authorization request through the configured driver
// and returns what came back. Every step is evidence, redacted (the code
// never appears). A login script that fails ends the case as an error; a
// driver that cannot run here (no browser) skips it.
func (t *T) Authorize(r AuthRequest) *AuthResult {
	l := t.Launch()
	if l.Driver == "" {
		t.Skip("no login driver is configured (launch.login.driver: browser, interactive or follow), so no authorization can be obtained")
	}
	authz := t.AuthorizeURL()
	f := &flow{caseID: t.Meta.ID, launch: l, redactor: t.env.redactor, redirectURI: r.RedirectURI, tlsClient: t.env.client.GetClient(),
		trust: trustFor(t.Target().CACertPEM, t.Target().Insecure)}
	d := driverFor(l)
	ctx, cancel := context.WithTimeout(t.ctx, l.Timeout)
	defer cancel()
	ru, release, err := d.prepare(ctx, f)
	if err != nil {
		t.flowFailed(f, err)
	}
	defer release()
	if ru != "" {
		r.RedirectURI, f.redirectURI = ru, ru
	}
	q := r.query()
	sep := "?"
	if strings.Contains(authz, "?") {
		sep = "&"
	}
	f.authURL = authz + sep + q.Encode()
	f.note("Authorization request ("+l.Driver+")", http.MethodGet, f.authURL, "")
	end, err := d.run(ctx, f)
	t.rec.exchanges = append(t.rec.exchanges, f.evidence...)
	if err != nil {
		t.flowFailed(f, err)
	}
	res := &AuthResult{Request: r, Verifier: r.Verifier}
	if end.redirect != "" {
		u, perr := url.Parse(end.redirect)
		if perr != nil {
			t.Errorf("the redirect to %s could not be parsed: %v", t.env.redactor.URL(end.redirect), perr)
		}
		res.Redirected, res.Params = true, u.Query()
		res.Code, res.State, res.Error = res.Params.Get("code"), res.Params.Get("state"), res.Params.Get("error")
		if res.Code != "" {
			t.env.redactor.Add(res.Code)
		}
		t.Evidence("Redirect to the redirect URI (caught, never sent)", end.redirect)
	} else {
		res.StoppedAt = t.env.redactor.URL(end.stoppedAt)
		t.Evidence("The flow stopped on a page without a redirect to the redirect URI", end.stoppedAt)
	}
	return res
}

func (t *T) flowFailed(f *flow, err error) {
	t.rec.exchanges = append(t.rec.exchanges, f.evidence...)
	var du *driverUnavailable
	if errors.As(err, &du) {
		t.Skip(du.reason)
	}
	if t.ctx.Err() != nil {
		t.Errorf("not finished: %s (during the authorization step)", endReason(t.ctx))
	}
	t.Errorf("the authorization step could not be driven (%s driver): %v", f.launch.Driver, err)
}

// ---- token requests of the authorization code grant ----

// WithClientAuth returns req authenticated as c in c's method: Basic
// header, client_secret_post, a fresh client assertion, or client_id only.
func (t *T) WithClientAuth(c LaunchClient, req Request) Request {
	req = WithForm(req, "client_id")
	switch c.Method {
	case ClientSecretBasic:
		req.Header = http.Header{"Authorization": {BasicAuth(c.ClientID, c.Secret)}}
	case ClientSecretPost:
		req = WithForm(WithForm(req, "client_id", c.ClientID), "client_secret", c.Secret)
	case PrivateKeyJWT:
		a, err := fixtures.AssertionSpec{ClientID: c.ClientID, TokenURL: t.TokenURL(), Key: c.Keys[0], Now: t.AssertionNow()}.Build()
		if err != nil {
			t.Errorf("could not build the client assertion: %v", err)
		}
		req = WithForm(WithForm(req, "client_assertion_type", fixtures.ClientAssertionType), "client_assertion", a.Compact)
		req.Assertion = a.Compact
	default:
		req = WithForm(req, "client_id", c.ClientID)
	}
	req.Label += " (" + c.Method + ")"
	return req
}

// CodeRequest is the token request that exchanges res's code, as c, with
// the redirect URI and code_verifier of the authorization request.
func (t *T) CodeRequest(c LaunchClient, res *AuthResult) Request {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {res.Code}, "redirect_uri": {res.Request.RedirectURI}}
	if res.Verifier != "" {
		f.Set("code_verifier", res.Verifier)
	}
	return t.WithClientAuth(c, Request{Label: "Code exchange", URL: t.TokenURL(), Form: f, Endpoint: EndpointToken})
}

// RefreshRequest is a refresh_token grant request as c; scope "" omits it.
func (t *T) RefreshRequest(c LaunchClient, refreshToken, scope string) Request {
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return t.WithClientAuth(c, Request{Label: "Refresh", URL: t.TokenURL(), Form: f, Endpoint: EndpointToken})
}

// ---- the positive flows negative cases need first ----

type onceResult struct {
	done    chan struct{}
	ok      bool
	skip    bool // the flow cannot run here (no browser): skip, do not call it not run
	errored bool // the probe got no answer: the case is an error too (any other error of the probe makes it not run)
	why     string
}

// prerequisites are kept per run by weak pointer: a finished run's env is
// not kept alive by its entries.
var (
	prereqMu sync.Mutex
	prereqs  = map[weak.Pointer[env]]map[string]*onceResult{}
)

// RequireOnce ends the case as not run unless probe, run once per run under
// name, succeeds: probe returns "" on success, or what went wrong. caseID
// names the positive case that judges the same flow. Negative cases call it
// so that a server that refuses everything never passes them.
func (t *T) RequireOnce(name, caseID string, probe func(p *T) string) {
	prereqMu.Lock()
	key := weak.Make(t.env)
	m := prereqs[key]
	if m == nil {
		m = map[string]*onceResult{}
		prereqs[key] = m
	}
	b := m[name]
	first := b == nil
	if first {
		b = &onceResult{done: make(chan struct{})}
		m[name] = b
	}
	prereqMu.Unlock()
	if first {
		func() {
			defer close(b.done)
			p := &T{ctx: t.ctx, Meta: t.Meta, env: t.env, rec: &caseRecord{meta: t.Meta}}
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(abortCase); !ok {
						b.why = fmt.Sprintf("harness error: %v", r)
						return
					}
					b.why, b.skip, b.errored = p.rec.reason, p.rec.outcome == skipped, p.rec.outcome == errored && p.rec.noAnswer
				}
			}()
			b.why = probe(p)
			b.ok = b.why == ""
		}()
	}
	select {
	case <-b.done:
	case <-t.ctx.Done():
		t.Errorf("not finished: %s (waiting for %s)", endReason(t.ctx), name)
	}
	if b.skip {
		t.Skip(b.why)
	}
	if b.errored {
		// The prerequisite got no answer (unreachable target, failed
		// discovery): this case cannot be judged either, an error (and so
		// are the cases that need this one).
		t.rec.noAnswer = true
		t.Errorf("%s", b.why)
	}
	if !b.ok {
		t.NotRun(fmt.Sprintf("%s does not succeed (%s), so a refusal here proves nothing; see %s", name, b.why, caseID))
	}
}

// LaunchBaselineCase is the positive case whose flow negative launch cases need.
const LaunchBaselineCase = "LAUNCH-STANDALONE-01"

// RequireLaunchBaseline ends the case as not run unless a valid
// standalone authorization, with the default launch client, ends with a
// code that the token endpoint exchanges for an access token. It runs once
// per run.
func (t *T) RequireLaunchBaseline() {
	c := t.LaunchClient()
	t.RequireOnce("a valid authorization code flow", LaunchBaselineCase, func(p *T) string {
		res := p.Authorize(p.NewAuthRequest(c))
		if !res.HasCode() {
			return "the valid authorization request ended " + res.Outcome()
		}
		resp := p.Do(p.CodeRequest(c, res))
		if resp.Status/100 != 2 || resp.Str("access_token") == "" {
			return "the code exchange answered " + DescribeAnswer(resp)
		}
		return ""
	})
}

// CodeFor runs a valid authorization for c (after the baseline) and
// returns its result with a code, or ends the case as not run.
func (t *T) CodeFor(c LaunchClient, mods ...func(*AuthRequest)) *AuthResult {
	r := t.NewAuthRequest(c)
	for _, m := range mods {
		m(&r)
	}
	res := t.Authorize(r)
	if !res.HasCode() {
		t.NotRun("the valid authorization request this case starts from ended " + res.Outcome())
	}
	return res
}

// TokensFor runs a valid authorization for c and exchanges the code,
// returning the token response, or ends the case as not run.
func (t *T) TokensFor(c LaunchClient, mods ...func(*AuthRequest)) (*AuthResult, *Response) {
	res := t.CodeFor(c, mods...)
	resp := t.Do(t.CodeRequest(c, res))
	if resp.Status != http.StatusOK || resp.Str("access_token") == "" {
		t.NotRun("the code exchange this case starts from answered " + DescribeAnswer(resp))
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v := resp.Str(k); v != "" {
			t.env.redactor.Add(v)
		}
	}
	return res, resp
}

// LaunchAreas are the areas whose cases drive the authorization code flow.
var LaunchAreas = []string{"launch", "launch-client-auth", "refresh", "openid"}

// LaunchGroup is the label filter that selects them.
const LaunchGroup = "area:launch || area:launch-client-auth || area:refresh || area:openid"

// InLaunchGroup says whether a case drives the authorization code flow.
func InLaunchGroup(m Meta) bool { return slices.Contains(LaunchAreas, m.Area()) }

// ExchangeCode sends the code exchange of res as c and returns the answer.
func (t *T) ExchangeCode(c LaunchClient, res *AuthResult) *Response {
	return t.Do(t.CodeRequest(c, res))
}

// Refresh sends a refresh_token grant as c ("" scope: none) and returns
// the answer.
func (t *T) Refresh(c LaunchClient, refreshToken, scope string) *Response {
	return t.Do(t.RefreshRequest(c, refreshToken, scope))
}
