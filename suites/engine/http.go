package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
)

// MaxBodyBytes caps what is read of any response body.
const MaxBodyBytes = 4 << 20

// MaxHeaderBytes caps the response header (Go's default is 10 MB): a server
// sending more is answered with an error that says so.
const MaxHeaderBytes = 256 << 10

// Request is one HTTP request a case sends. Form is encoded as
// application/x-www-form-urlencoded unless RawBody is set.
type Request struct {
	Label       string
	Method      string // default POST
	URL         string
	Form        url.Values
	RawBody     string
	ContentType string
	Header      http.Header
	Assertion   string // the client assertion in it, decoded into the evidence
	// Endpoint names the endpoint the request goes to: one of the Endpoint*
	// constants. Rules that apply to every answer of an endpoint (the error
	// format, cache headers, challenges) are judged over the exchanges of
	// the run by endpoint; "" counts as EndpointToken for a POST.
	Endpoint string
}

// Endpoints a request can go to (Request.Endpoint).
const (
	EndpointToken      = "token"
	EndpointDiscovery  = "discovery"
	EndpointAuthorize  = "authorize"
	EndpointIntrospect = "introspect"
	EndpointRevoke     = "revoke"
	EndpointFHIR       = "fhir"
	EndpointJWKS       = "jwks"
)

// Response is the answer, read through MaxBodyBytes.
type Response struct {
	Status  int
	Header  http.Header
	Body    []byte
	JSON    map[string]any // the body as a JSON object, if it is one
	JSONErr error
	Elapsed time.Duration
	// judged5xx: a judge helper recorded this 5xx (see T.unjudged5xx).
	judged5xx bool
}

// Str returns a string member of the JSON body ("" if absent or not a string).
func (r *Response) Str(name string) string {
	s, _ := r.JSON[name].(string)
	return s
}

// Has says whether the JSON body has the member.
func (r *Response) Has(name string) bool {
	_, ok := r.JSON[name]
	return ok
}

// MediaType is the response's media type, lower-cased, without parameters.
func (r *Response) MediaType() string {
	return strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
}

func newHTTPClient(o Options) (*resty.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if pemBytes := o.Target.CACertPEM; len(pemBytes) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, errNoCACert
		}
		tc.RootCAs = pool
	}
	tc.InsecureSkipVerify = o.Target.Insecure
	c := resty.New().
		SetTimeout(o.Target.RequestTimeout).
		SetTLSClientConfig(tc).
		SetResponseBodyLimit(MaxBodyBytes).
		SetDisableWarn(true).
		SetHeader("User-Agent", "smartconform/"+o.Version).
		// A token request is never followed to another place with its
		// credentials: redirects are answers, and are judged as such.
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }))
	// Token requests are never retried: a retry would replay an assertion.
	c.SetRetryCount(0)
	if tr, err := c.Transport(); err == nil {
		tr.MaxResponseHeaderBytes = MaxHeaderBytes
	}
	return c, nil
}

var errNoCACert = errors.New("the CA file holds no usable certificate")

// checkCACert is newHTTPClient's one way to fail (errNoCACert), checked
// for every target before a run starts: a CA file, when one is
// configured, must hold a usable certificate.
func checkCACert(pemBytes []byte) error {
	if len(pemBytes) > 0 && !x509.NewCertPool().AppendCertsFromPEM(pemBytes) {
		return errNoCACert
	}
	return nil
}

// send performs req and returns the answer and the redacted exchange.
func (e *env) send(ctx context.Context, req Request) (*Response, reporter.Exchange, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	r := e.client.R().SetContext(ctx)
	body := req.RawBody
	ct := req.ContentType
	if body == "" && req.Form != nil {
		body = req.Form.Encode()
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
	}
	if ct != "" {
		r.SetHeader("Content-Type", ct)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if body != "" {
		r.SetBody(body)
	}
	if err := e.limiter.wait(ctx); err != nil {
		return nil, reporter.Exchange{Label: req.Label, Method: method, URL: e.redactor.URL(req.URL), Error: "not sent: " + err.Error(), At: time.Now()}, err
	}
	start := time.Now()
	// The body is read here, not by resty, so that a body over MaxBodyBytes
	// still leaves its first bytes (redacted) as evidence.
	r.SetDoNotParseResponse(true)
	resp, err := r.Execute(method, req.URL)
	var raw []byte
	if err == nil && resp != nil && resp.RawResponse != nil && resp.RawBody() != nil {
		raw, err = io.ReadAll(io.LimitReader(resp.RawBody(), MaxBodyBytes+1))
		_ = resp.RawBody().Close()
		if err == nil && len(raw) > MaxBodyBytes {
			err = resty.ErrResponseBodyTooLarge
		}
	}
	took := time.Since(start)

	ex := reporter.Exchange{Label: req.Label, Method: method, URL: e.redactor.URL(req.URL), DurationMs: elapsed(took), At: start}
	sentHeader := r.Header
	if resp != nil && resp.Request != nil && resp.Request.RawRequest != nil {
		sentHeader = resp.Request.RawRequest.Header
	}
	ex.RequestHeaders = e.headers(sentHeader)
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		ex.RequestBody = e.redactor.Form(body)
	case strings.HasPrefix(ct, "application/json"):
		ex.RequestBody = e.redactJSONRequest(body)
	default:
		ex.RequestBody = e.redactor.Text(body)
	}
	if req.Assertion != "" {
		if h, c, derr := fixtures.DecodeCompact(req.Assertion); derr == nil {
			ex.Assertion = &reporter.JWT{Header: h, Claims: c}
		}
	}
	ex.Curl = curl(ex)
	from := senderOf(ctx)
	logged := Recorded{CaseID: from.caseID, Note: from.note, Request: req, SentHeader: sentHeader.Clone()}
	if err != nil && (resp == nil || resp.RawResponse == nil) {
		ex.Error = e.redactor.Text(err.Error())
		logged.Evidence = ex
		e.log.add(logged)
		return nil, ex, err
	}
	out := &Response{Status: resp.StatusCode(), Header: resp.Header(), Body: raw, Elapsed: took}
	e.observeClock(out.Header, strings.ToLower(req.Label), start, took)
	switch {
	case err != nil:
		// The body could not be read whole (over MaxBodyBytes, too slow, or
		// cut): say so, rather than judge an empty body.
		out.JSONErr = bodyError(err)
		ex.Error = e.redactor.Text(out.JSONErr.Error())
	case len(out.Body) > 0:
		out.JSON, out.JSONErr = ParseObject(out.Body)
	default:
		out.JSONErr = errors.New("the body is empty")
	}
	if loc := out.Header.Get("Location"); out.Status/100 == 3 {
		ex.Error = fmt.Sprintf("a redirect (%d) to %s: not followed (a discovery or token request is never sent on elsewhere)", out.Status, e.redactor.URL(loc))
	}
	ex.Status = out.Status
	ex.ResponseHeaders = e.headers(out.Header)
	ex.ResponseBody = e.redactor.Body(out.Body, 64<<10)
	logged.Response, logged.Evidence = out, ex
	e.log.add(logged)
	return out, ex, nil
}

// redactJSONRequest redacts a JSON request body (token parameters sent as
// JSON) member by member, as a form's parameters are: a client_assertion
// keeps its header and claims, never its signature.
func (e *env) redactJSONRequest(body string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(body), &obj) != nil {
		return e.redactor.Text(body)
	}
	for k, v := range obj {
		if s, ok := v.(string); ok {
			obj[k] = e.redactor.Value(k, s)
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return e.redactor.Text(body)
	}
	return e.redactor.Text(string(out))
}

// bodyError says why a body was not read whole.
func bodyError(err error) error {
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		return fmt.Errorf("the body could not be read: it is larger than %d bytes, the most smartconform reads (MaxBodyBytes)", MaxBodyBytes)
	}
	return fmt.Errorf("the body could not be read: %v", err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… [%d more bytes not shown]", len(s)-n)
}

func (e *env) headers(h http.Header) []reporter.Header {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []reporter.Header
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, reporter.Header{Name: k, Value: e.redactor.Header(k, v)})
		}
	}
	return out
}

// curl renders a redacted exchange as a curl command line.
func curl(ex reporter.Exchange) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	var b strings.Builder
	b.WriteString("curl -sS -i -X " + ex.Method + " " + q(ex.URL))
	for _, h := range ex.RequestHeaders {
		switch strings.ToLower(h.Name) {
		case "user-agent", "accept-encoding", "content-length":
			continue
		}
		b.WriteString(" \\\n  -H " + q(h.Name+": "+h.Value))
	}
	if ex.RequestBody != "" {
		b.WriteString(" \\\n  --data-raw " + q(ex.RequestBody))
	}
	return b.String()
}

// Do sends req, records the exchange as evidence of the case, and returns
// the answer. If no answer comes (unreachable, timeout, TLS failure), the
// case ends as an error: the harness could not judge the server.
//
// A 429 Too Many Requests is waited out (Retry-After, at most
// MaxRetryAfter), never judged. A request carrying a client assertion is not
// sent again, since that would be a replay: the case ends as an error
// saying so. Other requests are sent again, up to three times.
func (t *T) Do(req Request) *Response {
	for attempt := 1; ; attempt++ {
		resp, ex, err := t.env.send(t.ctx, req)
		t.rec.exchanges = append(t.rec.exchanges, ex)
		if resp != nil && resp.Status != http.StatusTooManyRequests {
			t.rec.answers = append(t.rec.answers, answered{label: req.Label, resp: resp})
		}
		if err != nil {
			t.rec.noAnswer = true
			if t.ctx.Err() != nil {
				t.Errorf("not finished: %s (during the %s)", endReason(t.ctx), strings.ToLower(req.Label))
			}
			t.Errorf("no answer to the %s: %s", strings.ToLower(req.Label), ex.Error)
		}
		if resp.Status != http.StatusTooManyRequests {
			return resp
		}
		wait, ok := retryAfter(resp.Header)
		switch {
		case !ok:
			t.Errorf("the server rate-limited the %s (429) without a usable Retry-After; lower --rate", strings.ToLower(req.Label))
		case req.Assertion != "" || req.Form.Has("client_assertion"):
			t.Errorf("the server rate-limited the %s (429); it is not sent again because resending the same assertion would be a replay; lower --rate", strings.ToLower(req.Label))
		case attempt >= 3:
			t.Errorf("the server kept rate-limiting the %s (429, %d attempts); lower --rate", strings.ToLower(req.Label), attempt)
		}
		if err := sleep(t.ctx, wait); err != nil {
			t.Errorf("not finished: %s (waiting out a 429)", endReason(t.ctx))
		}
	}
}

// TryDo sends req once and records the exchange, like Do, but returns a
// missing answer as an error instead of ending the case: for requests to
// helpers outside the spec (an EHR launch starter), whose failure makes the
// case not run rather than an error.
func (t *T) TryDo(req Request) (*Response, error) {
	resp, ex, err := t.env.send(t.ctx, req)
	t.rec.exchanges = append(t.rec.exchanges, ex)
	return resp, err
}
