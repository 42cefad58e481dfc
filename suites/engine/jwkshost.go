package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// The JWKS host: the harness serves the key set of a client registered by
// JWKS URL (config trust.jwksClient) itself, on a listener of its own: on
// loopback for a local target, or on the address the user gives behind the
// public URL at which the server reaches it (a tunnel or a reverse proxy).
// Each case that uses it holds it alone (JWKSHost ... Release): it sets
// the set and its Cache-Control, and every request the listener receives is
// recorded (when, method, URL, headers) and becomes evidence of the case.
// A case starts only once the last set served is stale by its own
// Cache-Control, so that a server honouring it fetches the set anew.

// JWKSColdMargin is how long past a served set's max-age a case waits before
// it starts, for clock granularity on the server's side.
const JWKSColdMargin = time.Second

// probeParam marks a request to the listener made for another URL than the
// registered one (an http: jku, an x5u): the registered URL with this query
// parameter, so that it survives a tunnel or reverse proxy.
const probeParam = "smartconform-probe"

// Fetch is one request the JWKS listener received.
type Fetch struct {
	At     time.Time
	Method string
	URL    string
	Scheme string // http or https, as received (a proxy's X-Forwarded-Proto when present)
	Header http.Header
	Probe  string // "" for the registered URL
	Status int    // what the listener answered
	MaxAge int    // the max-age served with it (-1: no-store)
}

type jwksHost struct {
	cfg  *config.JWKSClient
	ln   net.Listener
	srv  *http.Server
	lock chan struct{}

	mu         sync.Mutex
	status     int
	ctype      string
	body       []byte
	cache      string
	maxAge     time.Duration
	stall      chan struct{} // non-nil: requests wait until closed
	fetches    []Fetch
	freshUntil time.Time
}

type hostSlot struct {
	once sync.Once
	h    *jwksHost
	err  error
}

// jwksHosts are the started hosts, by run env.
var jwksHosts sync.Map

func (e *env) jwksHost() (*jwksHost, error) {
	v, _ := jwksHosts.LoadOrStore(e, &hostSlot{})
	slot := v.(*hostSlot)
	slot.once.Do(func() { slot.h, slot.err = startJWKSHost(e.opts.Target.Trust.JWKS) })
	return slot.h, slot.err
}

// closeJWKSHost stops the env's host, or closes a listener given ready-made
// that no case used.
func closeJWKSHost(e *env) {
	if v, ok := jwksHosts.LoadAndDelete(e); ok {
		slot := v.(*hostSlot)
		slot.once.Do(func() {})
		if slot.h != nil {
			slot.h.close()
			return
		}
	}
	if tr := e.opts.Target.Trust; tr != nil && tr.JWKS != nil && tr.JWKS.Listener != nil {
		_ = tr.JWKS.Listener.Close()
	}
}

func startJWKSHost(c *config.JWKSClient) (*jwksHost, error) {
	ln := c.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.Listen); err != nil {
			return nil, fmt.Errorf("the JWKS host cannot listen on %s: %v", c.Listen, err)
		}
	}
	h := &jwksHost{cfg: c, ln: ln, lock: make(chan struct{}, 1), status: http.StatusNotFound, ctype: "text/plain", body: []byte("no key set is being served\n")}
	var tc *tls.Config
	if c.Cert != nil {
		tc = &tls.Config{Certificates: []tls.Certificate{*c.Cert}, MinVersion: tls.VersionTLS12}
	}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = h.srv.Serve(newSniffListener(ln, tc)) }()
	return h, nil
}

func (h *jwksHost) close() {
	h.mu.Lock()
	if h.stall != nil {
		close(h.stall)
		h.stall = nil
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
	_ = h.srv.Close()
}

func (h *jwksHost) serve(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = strings.ToLower(strings.TrimSpace(strings.Split(p, ",")[0]))
	}
	f := Fetch{At: time.Now(), Method: r.Method, URL: r.URL.RequestURI(), Scheme: scheme, Header: r.Header.Clone(), Probe: r.URL.Query().Get(probeParam)}
	h.mu.Lock()
	status, ctype, body, cache, maxAge, stall := h.status, h.ctype, h.body, h.cache, h.maxAge, h.stall
	if strings.HasPrefix(f.Probe, "x5u") {
		status, ctype, body, cache, stall = http.StatusNotFound, "text/plain", []byte("not here\n"), "no-store", nil
	}
	f.Status = status
	f.MaxAge = int(maxAge / time.Second)
	if cache == "no-store" {
		f.MaxAge = -1
	}
	if stall != nil {
		f.Status = 0 // never answered
	}
	h.fetches = append(h.fetches, f)
	if status == http.StatusOK && stall == nil && f.Probe == "" && maxAge > 0 {
		if until := f.At.Add(maxAge); until.After(h.freshUntil) {
			h.freshUntil = until
		}
	}
	h.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	}
	w.Header().Set("Content-Type", ctype)
	if cache != "" {
		w.Header().Set("Cache-Control", cache)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// sniffListener serves TLS and plain HTTP on one port: a connection whose
// first byte opens a TLS handshake is served over TLS (when a certificate
// is configured), any other as plain HTTP, as a proxy in front would send.
type sniffListener struct {
	net.Listener
	tc    *tls.Config
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newSniffListener(ln net.Listener, tc *tls.Config) net.Listener {
	s := &sniffListener{Listener: ln, tc: tc, conns: make(chan net.Conn), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *sniffListener) loop() {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			s.once.Do(func() { close(s.done) })
			return
		}
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			first, err := br.Peek(1)
			_ = c.SetReadDeadline(time.Time{})
			if err != nil {
				c.Close()
				return
			}
			var out net.Conn = &peekedConn{Conn: c, r: br}
			if first[0] == 0x16 && s.tc != nil {
				out = tls.Server(out, s.tc)
			}
			select {
			case s.conns <- out:
			case <-s.done:
				c.Close()
			}
		}()
	}
}

func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

func (s *sniffListener) Close() error {
	err := s.Listener.Close()
	s.once.Do(func() { close(s.done) })
	return err
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ---- the case's side ----

// JWKSSession is a case's hold on the JWKS host: Release it when done
// (defer). The set and its Cache-Control are the case's to choose.
type JWKSSession struct {
	t     *T
	h     *jwksHost
	Start time.Time
	nonce string
	done  bool
}

// JWKSHost takes the JWKS host for the case, once the key set last served
// is stale by its own Cache-Control. The case is skipped when no client
// registered by JWKS URL is configured.
func (t *T) JWKSHost() *JWKSSession {
	t.TokenURL() // an unreachable target is an error, never skipped
	tr := t.Target().Trust
	if tr == nil || tr.JWKS == nil {
		t.Skip("no client registered by JWKS URL is configured (trust.jwksClient), so the harness has no key set URL to serve")
	}
	h, err := t.env.jwksHost()
	if err != nil {
		t.Errorf("%v", err)
	}
	t.leavePool() // the host is taken one case at a time: the waiting cases leave the pool
	select {
	case h.lock <- struct{}{}:
	case <-t.ctx.Done():
		t.Errorf("not finished: %s (waiting for the JWKS host)", endReason(t.ctx))
	}
	s := &JWKSSession{t: t, h: h, nonce: fixtures.NewJTI()[:10]}
	h.mu.Lock()
	wait := time.Until(h.freshUntil.Add(JWKSColdMargin))
	h.mu.Unlock()
	if wait > 0 {
		if err := sleep(t.ctx, min(wait, time.Minute)); err != nil {
			s.Release()
			t.Errorf("not finished: %s (waiting for the served key set to go stale)", endReason(t.ctx))
		}
	}
	s.Start = time.Now()
	return s
}

// Release records the requests the listener received during the case as
// its evidence, stops any stalled answer, and frees the host.
func (s *JWKSSession) Release() {
	if s.done {
		return
	}
	s.done = true
	h := s.h
	h.mu.Lock()
	if h.stall != nil {
		close(h.stall)
		h.stall = nil
	}
	var seen []Fetch
	for _, f := range h.fetches {
		if !f.At.Before(s.Start) {
			seen = append(seen, f)
		}
	}
	h.status, h.ctype, h.body, h.cache = http.StatusNotFound, "text/plain", []byte("no key set is being served\n"), ""
	h.mu.Unlock()
	for _, f := range seen {
		s.t.rec.exchanges = append(s.t.rec.exchanges, s.exchange(f))
	}
	if len(seen) == 0 {
		s.t.rec.exchanges = append(s.t.rec.exchanges, reporter.Exchange{Label: "The harness's JWKS listener received no request during the case", Method: "OBSERVED", URL: s.t.env.redactor.URL(s.URL())})
	}
	<-h.lock
}

func (s *JWKSSession) exchange(f Fetch) reporter.Exchange {
	what := "Key set fetched by the server"
	if f.Probe != "" {
		what = "Probe URL (" + strings.SplitN(f.Probe, "-", 2)[0] + ") fetched by the server"
	}
	ex := reporter.Exchange{
		Label:  fmt.Sprintf("%s (observed by the harness's JWKS listener, %s, +%.2f s into the case)", what, f.Scheme, f.At.Sub(s.Start).Seconds()),
		Method: f.Method, URL: s.t.env.redactor.URL(f.URL), Status: f.Status, RequestHeaders: s.t.env.headers(f.Header),
	}
	if f.Status == 0 {
		ex.Error = "held without an answer (the case stalls the key set URL)"
	}
	return ex
}

// URL is the JWKS URL registered for the client.
func (s *JWKSSession) URL() string { return s.t.Target().Trust.JWKS.PublicURL }

// ProbeURL is the registered URL marked as a probe named name (its fetches
// are told apart), with its scheme replaced when scheme is set.
func (s *JWKSSession) ProbeURL(name, scheme string) string {
	u, _ := url.Parse(s.URL())
	q := u.Query()
	q.Set(probeParam, name+"-"+s.nonce)
	u.RawQuery = q.Encode()
	if scheme != "" {
		u.Scheme = scheme
	}
	return u.String()
}

// Keys are the client's signing keys (at least two).
func (s *JWKSSession) Keys() []fixtures.SigningKey { return s.t.Target().Trust.JWKS.Keys }

// ClientID is the client registered by JWKS URL.
func (s *JWKSSession) ClientID() string { return s.t.Target().Trust.JWKS.ClientID }

// Serve publishes a set of the public halves of keys, with Cache-Control
// max-age=maxAge.
func (s *JWKSSession) Serve(maxAge int, keys ...fixtures.SigningKey) {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	b, _ := json.Marshal(set)
	s.ServeRaw(http.StatusOK, "application/json", string(b), maxAge)
}

// ServeRaw answers the registered URL with status, media type and body,
// and Cache-Control max-age=maxAge (no-store when maxAge < 0).
func (s *JWKSSession) ServeRaw(status int, ctype, body string, maxAge int) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.ctype, h.body = status, ctype, []byte(body)
	h.cache, h.maxAge = fmt.Sprintf("max-age=%d", maxAge), time.Duration(maxAge)*time.Second
	if maxAge < 0 {
		h.cache, h.maxAge = "no-store", 0
	}
}

// Stall holds every request to the registered URL unanswered until the
// case ends.
func (s *JWKSSession) Stall() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stall == nil {
		h.stall = make(chan struct{})
	}
}

// Fetches are the requests received since since: for the registered URL
// when probe is "", else for that probe of this case.
func (s *JWKSSession) Fetches(since time.Time, probe string) []Fetch {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	var out []Fetch
	for _, f := range s.h.fetches {
		if f.At.Before(since) {
			continue
		}
		if (probe == "" && f.Probe == "") || (probe != "" && f.Probe == probe+"-"+s.nonce) {
			out = append(out, f)
		}
	}
	return out
}

// Timeline says when the set was served and fetched during the case, for a
// "not fetched" report.
func (s *JWKSSession) Timeline() string {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	var parts []string
	var before *Fetch
	for i, f := range s.h.fetches {
		if f.Probe != "" {
			continue
		}
		if f.At.Before(s.Start) {
			before = &s.h.fetches[i]
			continue
		}
		parts = append(parts, fmt.Sprintf("%s at +%.2f s (answered %d, max-age=%d)", f.Method, f.At.Sub(s.Start).Seconds(), f.Status, f.MaxAge))
	}
	prev := "no fetch before the case"
	if before != nil {
		prev = fmt.Sprintf("the last fetch before the case was %.2f s before it began (answered %d, max-age=%d)", s.Start.Sub(before.At).Seconds(), before.Status, before.MaxAge)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s; no fetch in the %.2f s since the case began", prev, time.Since(s.Start).Seconds())
	}
	return prev + "; during the case: " + strings.Join(parts, ", ") + fmt.Sprintf("; now +%.2f s", time.Since(s.Start).Seconds())
}

// Request is a token request authenticated by an assertion of the client
// registered by JWKS URL, signed with its key number key.
func (s *JWKSSession) Request(key int, muts ...fixtures.Mutation) Request {
	spec := fixtures.AssertionSpec{ClientID: s.ClientID(), TokenURL: s.t.TokenURL(), Key: s.Keys()[key], Now: s.t.AssertionNow()}
	a, err := spec.Build(muts...)
	if err != nil {
		s.t.Errorf("could not build the assertion: %v", err)
	}
	req := assertionRequest(spec.TokenURL, s.t.Target().Scope, a.Compact)
	req.Label = "Token request (private_key_jwt, client registered by JWKS URL)"
	return req
}

// RequireToken serves the first key with max-age=maxAge and ends the case
// as not run unless a valid assertion signed with it gets a token (the
// positive case JWKS-REG-01 judges that on its own).
func (s *JWKSSession) RequireToken(maxAge int) {
	s.Serve(maxAge, s.Keys()[0])
	r := s.t.Do(s.Request(0))
	if r.Status != http.StatusOK || r.Str("access_token") == "" {
		s.t.NotRun(fmt.Sprintf("a client registered by JWKS URL does not get a token (%s; %s), so this case proves nothing; see JWKS-REG-01", DescribeAnswer(r), s.Timeline()))
	}
}

// Sleep waits d, or ends the case when the run ends.
func (t *T) Sleep(d time.Duration) {
	if err := sleep(t.ctx, d); err != nil {
		t.Errorf("not finished: %s", endReason(t.ctx))
	}
}
