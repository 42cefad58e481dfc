package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/go-resty/resty/v2"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
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
	a := t.Target().Asym
	if i >= len(a.Keys) {
		t.Skip(fmt.Sprintf("the private_key_jwt client has no key number %d configured", i+1))
	}
	return fixtures.AssertionSpec{ClientID: a.ClientID, TokenURL: t.TokenURL(), Key: a.Keys[i]}
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

func basicRequest(tokenURL, scope, id, secret string) Request {
	return Request{
		Label: "Token request (client_secret_basic)", URL: tokenURL,
		Header: http.Header{"Authorization": {BasicAuth(id, secret)}},
		Form:   url.Values{"grant_type": {"client_credentials"}, "scope": {scope}},
	}
}

func postRequest(tokenURL, scope, id, secret string) Request {
	return Request{
		Label: "Token request (client_secret_post)", URL: tokenURL,
		Form: url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_id": {id}, "client_secret": {secret}},
	}
}

// BasicRequest is a client_credentials request with Basic credentials.
func (t *T) BasicRequest(id, secret string) Request {
	return basicRequest(t.TokenURL(), t.Target().Scope, id, secret)
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
		a, err := fixtures.AssertionSpec{ClientID: tg.Asym.ClientID, TokenURL: tu, Key: tg.Asym.Keys[0]}.Build()
		if err != nil {
			return Request{}, err
		}
		return assertionRequest(tu, tg.Scope, a.Compact), nil
	case ClientSecretBasic:
		return basicRequest(tu, tg.Scope, tg.Basic.ClientID, tg.Basic.Secret), nil
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
	e := t.env
	e.baseMu.Lock()
	b := e.baselines[method]
	if b == nil {
		b = &baseline{}
		req, err := e.validRequest(t.ctx, method)
		if err != nil {
			b.setup, b.why = true, err.Error()
		} else {
			resp, _, err := e.send(e.baselineSender(t.ctx, method), req)
			switch {
			case err != nil:
				b.why = "no answer: " + e.redactor.Text(err.Error())
			case resp.Status/100 == 2 && resp.Str("access_token") != "":
				b.ok = true
			default:
				b.why = fmt.Sprintf("the server answered %d %s", resp.Status, resp.Str("error"))
			}
		}
		e.baselines[method] = b
	}
	e.baseMu.Unlock()
	if !b.ok {
		if b.setup {
			t.Errorf("not run: %s", b.why)
		}
		t.NotRun(fmt.Sprintf("a valid %s request is not accepted (%s), so a rejection here proves nothing; see %s", method, b.why, t.env.baselineCase(method)))
	}
}
