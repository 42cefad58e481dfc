package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-resty/resty/v2"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// env is one run's state: the target, the HTTP client, and what is learnt
// once and shared by the cases (discovery, the positive baselines).
type env struct {
	opts     Options
	client   *resty.Client
	redactor *reporter.Redactor
	limiter  *limiter

	mu      sync.Mutex // guards records
	records map[string]*caseRecord
	done    map[string]chan struct{} // closed when a case's record is in
	results map[string]reporter.Case // the judged cases, by ID

	discOnce sync.Once
	disc     *Discovery
	discErr  error

	baseMu      sync.Mutex
	baselines   map[string]*baseline
	baselineIDs map[string]string // method → its baseline case (Meta.Baseline)

	log runLog // every exchange of the run, for the sweeps (sweep.go)

	baseLocks map[string]*sync.Mutex // one per method: its baseline is sent once
	basicRaw  bool                   // the Basic baseline was taken in the raw form

	clock clock // the target's clock, from its Date header (clock.go)

	// slots holds a token per running case body (startPool); a case that
	// leaves the pool gives its token back (T.leavePool).
	slots chan struct{}
}

// baselineMu serializes the sending of one method's baseline.
func (e *env) baselineMu(method string) *sync.Mutex {
	e.baseMu.Lock()
	defer e.baseMu.Unlock()
	if e.baseLocks == nil {
		e.baseLocks = map[string]*sync.Mutex{}
	}
	m := e.baseLocks[method]
	if m == nil {
		m = &sync.Mutex{}
		e.baseLocks[method] = m
	}
	return m
}

// current is the env of the run in progress (runs are serialized).
var current *env

// Discovery is the target's smart-configuration document.
type Discovery struct {
	URL      string
	Doc      map[string]any
	TokenURL string
}

// StringList returns a member of the document that is an array of strings.
func (d *Discovery) StringList(name string) []string {
	arr, _ := d.Doc[name].([]any)
	var out []string
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// DiscoveryURL is where the smart-configuration document is.
func (e *env) discoveryURL() string {
	return strings.TrimRight(e.opts.Target.BaseURL, "/") + "/.well-known/smart-configuration"
}

// discovery fetches the smart-configuration once per run.
func (e *env) discovery(ctx context.Context) (*Discovery, error) {
	e.discOnce.Do(func() {
		if e.opts.Target.BaseURL == "" {
			e.discErr = fmt.Errorf("no fhirBaseUrl is configured")
			return
		}
		u := e.discoveryURL()
		resp, _, err := e.send(discoverySender(ctx), Request{Label: "Discovery", Method: http.MethodGet, URL: u, Header: http.Header{"Accept": {"application/json"}}})
		switch {
		case err != nil:
			e.discErr = fmt.Errorf("GET %s: %v", u, e.redactor.Text(err.Error()))
		case resp.Status/100 == 3:
			e.discErr = fmt.Errorf("GET %s answered %d, a redirect to %s (not followed)", u, resp.Status, e.redactor.URL(resp.Header.Get("Location")))
		case resp.Status != http.StatusOK:
			e.discErr = fmt.Errorf("GET %s answered %d", u, resp.Status)
		case resp.JSON == nil:
			e.discErr = fmt.Errorf("GET %s: the body (Content-Type %q) is not a JSON object (%v)", u, resp.Header.Get("Content-Type"), e.redactor.Text(ErrText(resp.JSONErr)))
		default:
			d := &Discovery{URL: u, Doc: resp.JSON}
			te, present := resp.JSON["token_endpoint"]
			d.TokenURL, _ = te.(string)
			switch {
			case !present:
				e.discErr = fmt.Errorf("GET %s: the document has no token_endpoint", u)
				return
			case d.TokenURL == "":
				e.discErr = fmt.Errorf("GET %s: token_endpoint is %s, not a URL string", u, JSONType(te))
				return
			}
			e.disc = d
		}
	})
	return e.disc, e.discErr
}

// tokenURL is the configured token endpoint, or the discovered one.
func (e *env) tokenURL(ctx context.Context) (string, error) {
	if e.opts.Target.TokenURL != "" {
		return e.opts.Target.TokenURL, nil
	}
	d, err := e.discovery(ctx)
	if err != nil {
		return "", fmt.Errorf("discovery failed: %w", err)
	}
	return d.TokenURL, nil
}

// Discovery returns the discovered document; the case is skipped when no
// FHIR base is configured and ends as an error when discovery failed.
func (t *T) Discovery() *Discovery {
	if t.Target().BaseURL == "" {
		t.Skip("no fhirBaseUrl is configured, so there is no discovery document to judge")
	}
	d, err := t.env.discovery(t.ctx)
	if err != nil {
		t.rec.noAnswer = true
		t.Errorf("not run: %v", err)
	}
	return d
}

// DiscoveryIfAny returns the discovered document, or the reason there is
// none, without ending the case: for cases that only consult discovery
// (which algorithms or methods the server advertises).
func (t *T) DiscoveryIfAny() (*Discovery, error) {
	return t.env.discovery(t.ctx)
}

// DiscoveryURL is where the target's smart-configuration document is.
func (t *T) DiscoveryURL() string { return t.env.discoveryURL() }

// TokenURL returns the token endpoint, or ends the case as an error.
func (t *T) TokenURL() string {
	u, err := t.env.tokenURL(t.ctx)
	if err != nil {
		t.rec.noAnswer = true
		t.Errorf("not run: %v", err)
	}
	return u
}

// clientFor says whether the target has a client for method.
func (t *T) clientFor(method string) bool {
	tg := t.Target()
	return map[string]bool{PrivateKeyJWT: tg.Asym != nil, ClientSecretBasic: tg.Basic != nil, ClientSecretPost: tg.Post != nil, AuthNone: tg.Public != nil}[method]
}

// RequireClient skips the case when the target has no client for method.
func (t *T) RequireClient(method string) {
	if !t.clientFor(method) {
		t.Skip(fmt.Sprintf("no %s client is configured for this target", method))
	}
}

// ---- valid requests, one per method: what every negative case mutates ----

// AsymSpec is the assertion spec of the configured private_key_jwt client,
// signing with its key number i (0: the primary key).
func (t *T) AsymSpec(i int) fixtures.AssertionSpec {
	t.RequireClient(PrivateKeyJWT)
	return t.AsymClientSpec(t.Target().Asym, i)
}

// AsymClientSpec is the assertion spec of private_key_jwt client c signing
// with its key number i, dated by the target's clock (see clock.go).
func (t *T) AsymClientSpec(c *config.AsymClient, i int) fixtures.AssertionSpec {
	if i >= len(c.Keys) {
		t.Skip(fmt.Sprintf("the private_key_jwt client %s has no key number %d configured", c.ClientID, i+1))
	}
	tu := t.TokenURL()
	return fixtures.AssertionSpec{ClientID: c.ClientID, TokenURL: tu, Key: c.Keys[i], Now: t.AssertionNow()}
}

// AsymClients are the configured private_key_jwt clients, the primary
// (Target().Asym) first.
func (t *T) AsymClients() []*config.AsymClient { return asymClients(t.Target()) }

func asymClients(tg *config.Target) []*config.AsymClient {
	if len(tg.AsymClients) == 0 && tg.Asym != nil {
		return []*config.AsymClient{tg.Asym}
	}
	return tg.AsymClients
}

// AsymClientFor returns the private_key_jwt client to use for alg and the
// index of its key of that algorithm: a client whose keys are all of alg
// (a client the server may pin to alg) if one is configured, else the
// first client holding a key of alg; nil when none does.
func (t *T) AsymClientFor(alg jose.SignatureAlgorithm) (*config.AsymClient, int) {
	var fallback *config.AsymClient
	fi := -1
	for _, c := range t.AsymClients() {
		i := slices.IndexFunc(c.Keys, func(k fixtures.SigningKey) bool { return k.Alg == alg })
		if i < 0 {
			continue
		}
		if !slices.ContainsFunc(c.Keys, func(k fixtures.SigningKey) bool { return k.Alg != alg }) {
			return c, i
		}
		if fallback == nil {
			fallback, fi = c, i
		}
	}
	return fallback, fi
}

// Assertion mints a fresh assertion (new jti) with the primary key.
func (t *T) Assertion(muts ...fixtures.Mutation) string {
	a, err := t.AsymSpec(0).Build(muts...)
	if err != nil {
		t.Errorf("could not build the assertion: %v", err)
	}
	return a.Compact
}

// AssertionRequest is the client_credentials request carrying assertion.
func (t *T) AssertionRequest(assertion string) Request {
	return assertionRequest(t.TokenURL(), t.Target().Scope, assertion)
}

func assertionRequest(tokenURL, scope, assertion string) Request {
	return Request{
		Label: "Token request (private_key_jwt)", URL: tokenURL, Assertion: assertion,
		Form: url.Values{
			"grant_type":            {"client_credentials"},
			"scope":                 {scope},
			"client_assertion_type": {fixtures.ClientAssertionType},
			"client_assertion":      {assertion},
		},
	}
}

// BasicAuth is an Authorization header value for client_secret_basic: id and
// secret each form-urlencoded, then Base64 (RFC 6749 §2.3.1).
func BasicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// BasicAuthRaw is the Authorization header value most clients send and
// SMART's own example shows: Base64 of id:secret, not form-urlencoded.
func BasicAuthRaw(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// BasicForms are the header values a valid Basic request may use, in the
// order they are tried: the raw form alone when form-urlencoding changes
// nothing; otherwise raw, then form-urlencoded (policy AMB-SYM-1: whether
// the server decodes the encoding is SYM-BASIC-03's question, not the
// baseline's); the encoded form alone for an id holding a colon, which the
// raw form cannot carry (RFC 7617 §2).
func BasicForms(id, secret string) []string {
	raw, enc := BasicAuthRaw(id, secret), BasicAuth(id, secret)
	switch {
	case raw == enc:
		return []string{raw}
	case strings.Contains(id, ":"):
		return []string{enc}
	}
	return []string{raw, enc}
}

func basicRequestWith(tokenURL, scope, header string) Request {
	return Request{
		Label: "Token request (client_secret_basic)", URL: tokenURL,
		Header: http.Header{"Authorization": {header}},
		Form:   url.Values{"grant_type": {"client_credentials"}, "scope": {scope}},
	}
}

// basicHeader is the Basic header for id and secret in the form the
// server took in the baseline (raw or encoded; encoded, as RFC 6749
// §2.3.1 says, until the baseline has shown which).
func (e *env) basicHeader(id, secret string) string {
	e.baseMu.Lock()
	raw := e.basicRaw
	e.baseMu.Unlock()
	if raw && !strings.Contains(id, ":") {
		return BasicAuthRaw(id, secret)
	}
	return BasicAuth(id, secret)
}

func postRequest(tokenURL, scope, id, secret string) Request {
	return Request{
		Label: "Token request (client_secret_post)", URL: tokenURL,
		Form: url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_id": {id}, "client_secret": {secret}},
	}
}

// BasicRequest is a client_credentials request with Basic credentials, in
// the form (raw or form-urlencoded) the server took for the baseline.
func (t *T) BasicRequest(id, secret string) Request {
	return basicRequestWith(t.TokenURL(), t.Target().Scope, t.env.basicHeader(id, secret))
}

// BasicRequestEncoded is a client_credentials request whose Basic
// credentials are form-urlencoded before Base64 (RFC 6749 §2.3.1).
func (t *T) BasicRequestEncoded(id, secret string) Request {
	return basicRequestWith(t.TokenURL(), t.Target().Scope, BasicAuth(id, secret))
}

// BasicValid sends client c's correct Basic credentials: raw first, then
// form-urlencoded if the raw form is refused and differs (BasicForms). It
// returns the last answer and the header form it used.
func (t *T) BasicValid(c *config.SecretClient) (*Response, string) {
	forms := BasicForms(c.ClientID, c.Secret)
	var r *Response
	for i, h := range forms {
		req := basicRequestWith(t.TokenURL(), t.Target().Scope, h)
		if len(forms) > 1 {
			req.Label = map[bool]string{true: "Token request (client_secret_basic, raw id:secret)", false: "Token request (client_secret_basic, form-urlencoded id and secret)"}[i == 0]
		}
		r = t.Do(req)
		if r.Status/100 == 2 && r.Str("access_token") != "" {
			return r, h
		}
	}
	return r, forms[len(forms)-1]
}

// PostRequest is a client_credentials request with client_secret_post.
func (t *T) PostRequest(id, secret string) Request {
	return postRequest(t.TokenURL(), t.Target().Scope, id, secret)
}

// ---- baselines: a negative case is judged only if the positive one passes ----

type baseline struct {
	ok    bool
	setup bool // the request could not even be built (e.g. discovery failed)
	why   string
	// The accepted answer and its exchange (ok only): a token response
	// that cases judging token responses share (T.BaselineAnswer).
	resp *Response
	ex   reporter.Exchange
}

// baselineIDs maps each method to the case marked Meta.Baseline for it.
func baselineIDs(cat []Meta) map[string]string {
	ids := map[string]string{}
	for _, m := range cat {
		if m.Baseline {
			ids[m.Method] = m.ID
		}
	}
	return ids
}

// baselineCase names the case that sends method's valid request, for the
// "not run" reason.
func (e *env) baselineCase(method string) string {
	if id, ok := e.baselineIDs[method]; ok {
		return id
	}
	return "the " + method + " positive case"
}

// validRequest builds the positive baseline request of a method.
func (e *env) validRequest(ctx context.Context, method string) (Request, error) {
	tu, err := e.tokenURL(ctx)
	if err != nil {
		return Request{}, err
	}
	tg := e.opts.Target
	switch method {
	case PrivateKeyJWT:
		a, err := fixtures.AssertionSpec{ClientID: tg.Asym.ClientID, TokenURL: tu, Key: tg.Asym.Keys[0], Now: e.assertionNow(ctx)}.Build()
		if err != nil {
			return Request{}, err
		}
		return assertionRequest(tu, tg.Scope, a.Compact), nil
	case ClientSecretBasic:
		return basicRequestWith(tu, tg.Scope, e.basicHeader(tg.Basic.ClientID, tg.Basic.Secret)), nil
	case ClientSecretPost:
		return postRequest(tu, tg.Scope, tg.Post.ClientID, tg.Post.Secret), nil
	}
	return Request{}, fmt.Errorf("no baseline for %s", method)
}

// RequireBaseline ends the case as not run unless a valid request of method
// is accepted: otherwise a server that refuses everything would pass every
// negative case. The baseline is sent once per run.
func (t *T) RequireBaseline(method string) {
	t.RequireClient(method)
	b := t.env.baseline(t.ctx, method)
	if !b.ok {
		if b.setup {
			t.Errorf("not run: %s", b.why)
		}
		t.NotRun(fmt.Sprintf("a valid %s request is not accepted (%s), so a rejection here proves nothing; see %s", method, b.why, t.env.baselineCase(method)))
	}
}

// BaselineOK sends method's baseline (once per run) and says whether it was
// accepted, and if not why, without ending the case: for cases in which an
// acceptance is a failure whatever the baseline, and only a refusal needs
// the baseline to mean something.
func (t *T) BaselineOK(method string) (bool, string) {
	t.RequireClient(method)
	b := t.env.baseline(t.ctx, method)
	if b.setup {
		t.Errorf("not run: %s", b.why)
	}
	return b.ok, b.why
}

func (e *env) baseline(ctx context.Context, method string) *baseline {
	e.baseMu.Lock()
	b := e.baselines[method]
	e.baseMu.Unlock()
	if b != nil {
		return b
	}
	e.baselineMu(method).Lock()
	defer e.baselineMu(method).Unlock()
	e.baseMu.Lock()
	b = e.baselines[method]
	e.baseMu.Unlock()
	if b != nil {
		return b
	}
	b = e.sendBaseline(ctx, method)
	e.baseMu.Lock()
	e.baselines[method] = b
	e.baseMu.Unlock()
	return b
}

// sendBaseline sends method's valid request. Basic credentials are sent raw,
// then form-urlencoded (BasicForms); the form the server took is used by
// every later Basic request. An assertion refused while the target's clock
// was not yet known is rebuilt once by the clock its answer showed.
func (e *env) sendBaseline(ctx context.Context, method string) *baseline {
	b := &baseline{}
	try := func(req Request) bool {
		resp, ex, err := e.send(e.baselineSender(ctx, method), req)
		switch {
		case err != nil:
			b.why = "no answer: " + e.redactor.Text(err.Error())
		case resp.Status/100 == 2 && resp.Str("access_token") != "":
			b.ok, b.resp, b.ex = true, resp, ex
		default:
			b.why = fmt.Sprintf("the server answered %d %s", resp.Status, resp.Str("error"))
		}
		return b.ok
	}
	if method == ClientSecretBasic {
		tu, err := e.tokenURL(ctx)
		if err != nil {
			b.setup, b.why = true, err.Error()
			return b
		}
		c := e.opts.Target.Basic
		for _, h := range BasicForms(c.ClientID, c.Secret) {
			if try(basicRequestWith(tu, e.opts.Target.Scope, h)) {
				e.baseMu.Lock()
				e.basicRaw = h == BasicAuthRaw(c.ClientID, c.Secret)
				e.baseMu.Unlock()
				break
			}
		}
		return b
	}
	req, err := e.validRequest(ctx, method)
	if err != nil {
		b.setup, b.why = true, err.Error()
		return b
	}
	known := e.clockKnown() // when the assertion was dated
	if !try(req) && method == PrivateKeyJWT && !known && e.clockShift() != 0 {
		if req, err = e.validRequest(ctx, method); err == nil {
			try(req)
		}
	}
	return b
}
