package suites

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"
	"net"
	"net/url"

	. "github.com/onsi/gomega"
)

// Transport: TLS on the token endpoint (SMART Backend Services: TLS 1.2 or
// newer for every exchange; RFC 6749 §3.2; RFC 8996).
var _ = Area(90, "transport", "Transport security", func() {

	// tlsHost is the host:port of the token endpoint. A plain-HTTP target on
	// a loopback address (a local test server) is skipped; plain HTTP
	// anywhere else fails the case.
	tlsHost := func(t *T, judge bool) (string, string) {
		tu := t.TokenURL()
		u, err := url.Parse(tu)
		if err != nil {
			t.Errorf("the token endpoint %q is not a URL: %v", tu, err)
		}
		if u.Scheme != "https" {
			base, _ := url.Parse(t.Target().BaseURL)
			if u.Scheme == "http" && IsLoopback(u.Hostname()) && (base == nil || base.Scheme != "https") {
				t.Skip("the target is plain HTTP on a loopback address (a local test server), so there is no TLS to judge")
			}
			if !judge {
				t.NotRun("the token endpoint does not use TLS (see TLS-01)")
			}
			t.Must("token endpoint scheme", "https: the token endpoint uses TLS (RFC 6749 §3.2; SMART: TLS 1.2 or newer)", tu, HavePrefix("https://"))
			return "", ""
		}
		port := u.Port()
		if port == "" {
			port = "443"
		}
		return net.JoinHostPort(u.Hostname(), port), u.Hostname()
	}

	handshake := func(t *T, addr, name string, minV, maxV uint16) (*tls.ConnectionState, error) {
		cfg := &tls.Config{ServerName: name, MinVersion: minV, MaxVersion: maxV, InsecureSkipVerify: t.Target().Insecure} //nolint:gosec // the target's own setting
		if pemBytes := t.Target().CACertPEM; len(pemBytes) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			pool.AppendCertsFromPEM(pemBytes)
			cfg.RootCAs = pool
		}
		ctx, cancel := context.WithTimeout(t.Context(), t.Target().RequestTimeout)
		defer cancel()
		conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		st := conn.(*tls.Conn).ConnectionState()
		return &st, nil
	}

	Case(Meta{
		ID:          "TLS-01",
		Title:       "The token endpoint uses TLS 1.2 or newer",
		Requirement: "The token endpoint is an https URL whose server completes a handshake at TLS 1.2 or newer with a certificate valid for its host.",
		Level:       MUST,
		Refs:        []Ref{refBSRequest, RFC(6749, "3.2")},
		Policy:      "Plain HTTP is accepted only for a loopback target (a local test server), and then the case is skipped.",
		Hint:        "Serve the token endpoint over HTTPS only, with TLS 1.2 or 1.3 and a certificate for its host name; never advertise an http:// token endpoint.",
	}, func(t *T) {
		addr, name := tlsHost(t, true)
		if addr == "" {
			return
		}
		st, err := handshake(t, addr, name, tls.VersionTLS12, 0)
		if !t.Must("TLS handshake", "completes at TLS 1.2 or newer with a trusted certificate", ErrText(err), BeEmpty()) {
			return
		}
		t.Evidence(fmt.Sprintf("TLS handshake with %s: %s, %s", addr, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)), "https://"+addr)
		t.Must("negotiated version", "TLS 1.2 or newer", st.Version, BeNumerically(">=", tls.VersionTLS12))
	})

	Case(Meta{
		ID:          "TLS-02",
		Title:       "The token endpoint refuses TLS 1.0 and 1.1",
		Requirement: "A handshake offering only TLS 1.0 or 1.1 with the token endpoint's server should fail.",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{RFC(8996, "4"), RFC(8996, "5"), refBSRequest},
		Policy: "SEC-TLS-03: RFC 8996 §4–5 say TLS 1.0 and 1.1 MUST NOT be negotiated, but SMART itself only requires its exchanges to use TLS 1.2 or newer, which a conforming SMART client always offers; a server that still accepts the old versions is not shown to use them with SMART clients, so it warns. Skipped for a loopback plain-HTTP target.",
		Hint:   "Set the server's minimum TLS version to 1.2 (RFC 8996 forbids negotiating TLS 1.0 and 1.1).",
	}, func(t *T) {
		addr, name := tlsHost(t, false)
		st, err := handshake(t, addr, name, tls.VersionTLS10, tls.VersionTLS11)
		got := "refused"
		if err == nil {
			got = "negotiated " + tls.VersionName(st.Version)
		}
		t.Evidence(fmt.Sprintf("TLS 1.0/1.1-only handshake with %s: %s", addr, got), "https://"+addr)
		t.Should("a TLS 1.0/1.1-only handshake", "refused", got, Equal("refused"))
	})
})
