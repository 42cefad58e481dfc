package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// The follow driver: plain HTTP GETs that follow the authorization
// server's redirects with a cookie jar, for sandboxes that approve without
// a login. At most launch.login.maxHops redirects; the redirect URI is
// never requested; no credential is ever sent (cookies go only where the
// jar's origin rules send them).

type followDriver struct{}

func (followDriver) prepare(context.Context, *flow) (string, func(), error) {
	return "", func() {}, nil
}

func (followDriver) run(ctx context.Context, f *flow) (*flowEnd, error) {
	jar, _ := cookiejar.New(nil)
	base := f.tlsClient
	c := &http.Client{Jar: jar, Timeout: f.launch.StepTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if base != nil {
		c.Transport = base.Transport
	}
	next := f.authURL
	for hop := 0; ; hop++ {
		if sameEndpoint(next, f.redirectURI) {
			return &flowEnd{redirect: next}, nil
		}
		if hop > f.launch.MaxHops {
			return nil, fmt.Errorf("more than %d redirects without reaching the redirect URI", f.launch.MaxHops)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %v", f.redactor.URL(next), err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		f.note(fmt.Sprintf("Follow: GET answered %d", resp.StatusCode), http.MethodGet, next, "")
		if resp.StatusCode/100 != 3 || loc == "" {
			return &flowEnd{stoppedAt: next + fmt.Sprintf(" (answered %d)", resp.StatusCode)}, nil
		}
		cur, _ := url.Parse(next)
		lu, err := cur.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("an unusable Location %q", f.redactor.URL(loc))
		}
		if !strings.HasPrefix(lu.Scheme, "http") {
			return &flowEnd{stoppedAt: f.redactor.URL(lu.String()) + " (not http)"}, nil
		}
		next = lu.String()
	}
}
