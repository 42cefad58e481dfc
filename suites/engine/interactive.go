package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

// The interactive driver: a person opens the printed authorization URL,
// logs in and approves; the harness listens on the loopback redirect URI
// (RFC 8252 §7.3) and reads the code there. Flows take turns, since one
// person answers them.

type interactiveDriver struct{}

var interactiveMu sync.Mutex

type loopback struct {
	ln   net.Listener
	srv  *http.Server
	got  chan string
	path string
}

func (interactiveDriver) prepare(ctx context.Context, f *flow) (string, func(), error) {
	u, err := url.Parse(f.redirectURI)
	if err != nil {
		return "", nil, err
	}
	interactiveMu.Lock()
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		interactiveMu.Unlock()
		return "", nil, fmt.Errorf("listening on the redirect URI's %s: %w", u.Host, err)
	}
	// Port 0 in the configuration: the listener's port, which the server
	// must accept for a loopback redirect URI (RFC 8252 §7.3).
	actual := *u
	actual.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	lb := &loopback{ln: ln, got: make(chan string, 1), path: u.Path}
	if lb.path == "" {
		lb.path = "/"
	}
	lb.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != lb.path {
			http.NotFound(w, r)
			return
		}
		full := actual
		full.RawQuery = r.URL.RawQuery
		select {
		case lb.got <- full.String():
		default:
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "smartconform received the authorization response. You can close this window.\n")
	})}
	go func() { _ = lb.srv.Serve(ln) }()
	f.loopback = lb
	release := func() {
		_ = lb.srv.Close()
		interactiveMu.Unlock()
	}
	return actual.String(), release, nil
}

func (interactiveDriver) run(ctx context.Context, f *flow) (*flowEnd, error) {
	lb := f.loopback
	if lb == nil {
		return nil, errors.New("no loopback listener")
	}
	out := f.launch.Prompt
	if out == nil {
		out = os.Stderr
	}
	// The URL holds no secret (state, nonce and the PKCE challenge are
	// single-use and public by design).
	fmt.Fprintf(out, "\n[%s] Open this URL in a browser, log in and approve (waiting %s for the redirect to %s):\n%s\n",
		f.caseID, f.launch.Timeout, f.redirectURI, f.authURL)
	select {
	case u := <-lb.got:
		f.note("Redirect received on the loopback listener", "OBSERVED", u, "")
		return &flowEnd{redirect: u}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no redirect reached %s within launch.login.timeout (%s)", f.redirectURI, f.launch.Timeout)
	}
}
