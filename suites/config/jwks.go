package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/fixtures/refserver"
)

// TrustSpec is the trust: section, for the cases of the trust chain: a
// client registered by JWKS URL, introspection, revocation and the FHIR
// resource server.
//
//	trust:
//	  jwksClient:                      # a private_key_jwt client registered by JWKS URL
//	    clientId: my-jwks-url-client
//	    keys:                          # two keys: the first is published, the second rotated in
//	      - {keyFile: k1.jwk.json, alg: ES384}
//	      - {keyFile: k2.jwk.json, alg: ES384}
//	    listen: 0.0.0.0:8443           # where the harness serves the key set
//	    publicUrl: https://jwks.example.org/smartconform/jwks.json   # the URL registered for the client
//	    tls: {certFile: cert.pem, keyFile: key.pem}   # optional: TLS on the listener itself
//	  resourceServer:                  # opt-in: requests are sent to the FHIR server only when named
//	    fhirBase: https://fhir.example.org/r4
//	    path: Patient?_count=1         # the default
//	    outOfScope: system/Observation.rs   # a scope the server grants that does not cover path
//	  introspectionEndpoint: https://…  # optional: when discovery does not advertise one
//	  revocationEndpoint: https://…     # optional: likewise
type TrustSpec struct {
	JWKSClient            *JWKSClientSpec `yaml:"jwksClient,omitempty"`
	ResourceServer        *ResourceSpec   `yaml:"resourceServer,omitempty"`
	IntrospectionEndpoint string          `yaml:"introspectionEndpoint,omitempty"`
	RevocationEndpoint    string          `yaml:"revocationEndpoint,omitempty"`
}

// JWKSClientSpec is a client registered with the server by the URL of its
// key set, which the harness serves itself.
type JWKSClientSpec struct {
	ClientID  string    `yaml:"clientId,omitempty"`
	Keys      []KeySpec `yaml:"keys,omitempty"`
	Listen    string    `yaml:"listen,omitempty"`
	PublicURL string    `yaml:"publicUrl,omitempty"`
	TLS       struct {
		CertFile string `yaml:"certFile,omitempty"`
		KeyFile  string `yaml:"keyFile,omitempty"`
	} `yaml:"tls,omitempty"`
}

// ResourceSpec names the FHIR server the enforcement cases query.
type ResourceSpec struct {
	FHIRBase   string `yaml:"fhirBase,omitempty"`
	Path       string `yaml:"path,omitempty"`
	OutOfScope string `yaml:"outOfScope,omitempty"`
}

// Trust is a resolved trust: section.
type Trust struct {
	JWKS *JWKSClient // nil: no client registered by JWKS URL
	// FHIRBase is where the enforcement cases send requests ("": never).
	FHIRBase     string
	ResourcePath string // relative to FHIRBase, default DefaultResourcePath
	OutOfScope   string // a scope not covering ResourcePath ("": derived)
	// IntrospectionURL and RevocationURL override discovery.
	IntrospectionURL string
	RevocationURL    string
}

// JWKSClient is a client registered by JWKS URL, with the listener the
// harness serves its key set on.
type JWKSClient struct {
	ClientID string
	Keys     []fixtures.SigningKey // at least two, distinct kids
	// Listen is the address to listen on; Listener, if set, is a socket
	// already listening (the embedded reference run), used instead.
	Listen   string
	Listener net.Listener
	// PublicURL is the JWKS URL registered for the client: where the server
	// reaches the listener (directly, or through the user's tunnel or
	// reverse proxy).
	PublicURL string
	// Cert, if set, is served on the listener for TLS connections (plain
	// HTTP is served too, for a proxy that terminates TLS in front).
	Cert      *tls.Certificate
	CACertPEM []byte // Cert's certificate, for a server to trust
}

// DefaultResourcePath is the search the enforcement cases send.
const DefaultResourcePath = "Patient?_count=1"

// resolveTrust validates a trust: section (nil → nil).
func resolveTrust(ts *TrustSpec, rel func(string) string, bad func(string, string, ...any) error) (*Trust, error) {
	if ts == nil {
		return nil, nil
	}
	out := &Trust{IntrospectionURL: ts.IntrospectionEndpoint, RevocationURL: ts.RevocationEndpoint}
	for key, u := range map[string]string{"trust.introspectionEndpoint": out.IntrospectionURL, "trust.revocationEndpoint": out.RevocationURL} {
		if u != "" && !absoluteHTTP(u) {
			return nil, bad(key, "must be an absolute http(s) URL (got %q)", u)
		}
	}
	if rs := ts.ResourceServer; rs != nil {
		if !absoluteHTTP(rs.FHIRBase) {
			return nil, bad("trust.resourceServer.fhirBase", "must be an absolute http(s) URL (got %q)", rs.FHIRBase)
		}
		out.FHIRBase = strings.TrimRight(rs.FHIRBase, "/")
		out.ResourcePath = strings.TrimLeft(rs.Path, "/")
		if out.ResourcePath == "" {
			out.ResourcePath = DefaultResourcePath
		}
		out.OutOfScope = rs.OutOfScope
	}
	if jc := ts.JWKSClient; jc != nil {
		key := "trust.jwksClient"
		if jc.ClientID == "" {
			return nil, bad(key+".clientId", "is required")
		}
		if len(jc.Keys) < 2 {
			return nil, bad(key+".keys", "two keys are required: the first is published, the second rotated in")
		}
		c := &JWKSClient{ClientID: jc.ClientID, Listen: jc.Listen, PublicURL: jc.PublicURL}
		kids := map[string]bool{}
		for i, ks := range jc.Keys {
			k, err := loadKey(rel(ks.KeyFile), ks.KID, ks.Alg)
			if err != nil {
				return nil, bad(fmt.Sprintf("%s.keys[%d]", key, i), "%v", err)
			}
			if kids[k.KID] {
				return nil, bad(fmt.Sprintf("%s.keys[%d]", key, i), "kid %q is used twice", k.KID)
			}
			kids[k.KID] = true
			c.Keys = append(c.Keys, k)
		}
		if _, _, err := net.SplitHostPort(jc.Listen); err != nil {
			return nil, bad(key+".listen", "must be HOST:PORT (got %q)", jc.Listen)
		}
		if u, err := url.Parse(jc.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, bad(key+".publicUrl", "must be the absolute https URL registered for the client (got %q)", jc.PublicURL)
		}
		if jc.TLS.CertFile != "" || jc.TLS.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(rel(jc.TLS.CertFile), rel(jc.TLS.KeyFile))
			if err != nil {
				return nil, bad(key+".tls", "%v", err)
			}
			c.Cert = &cert
		}
		out.JWKS = c
	}
	return out, nil
}

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ReferenceJWKSClientID is the client the reference server registers by
// JWKS URL for an embedded run (ForReference).
const ReferenceJWKSClientID = "smartconform-jwks-url"

var (
	jwksKeysOnce sync.Once
	jwksKeys     []fixtures.SigningKey
	jwksKeysErr  error
)

// ForReference builds the Target of an in-process reference server with the
// trust chain configured: a client registered by JWKS URL whose key set the
// harness serves on a loopback TLS listener (opened here, the server told to
// trust its certificate), and the server's own FHIR base for enforcement.
// The run that uses the Target closes the listener.
func ForReference(name string, srv *refserver.Server) (*Target, error) {
	t := ForServer(name, srv.BaseURL, srv.Creds, srv.CACertPEM)
	if err := LoginFor(t, srv); err != nil {
		return nil, err
	}
	jwksKeysOnce.Do(func() {
		for i := 1; i <= 2 && jwksKeysErr == nil; i++ {
			var k fixtures.SigningKey
			k, jwksKeysErr = fixtures.NewSigningKey(jose.ES384, fmt.Sprintf("jwks-url-%d-%s", i, fixtures.NewJTI()[:8]))
			jwksKeys = append(jwksKeys, k)
		}
	})
	if jwksKeysErr != nil {
		return nil, jwksKeysErr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cert, caPEM, err := SelfSignedCert("127.0.0.1")
	if err != nil {
		ln.Close()
		return nil, err
	}
	public := "https://" + ln.Addr().String() + "/jwks.json"
	if err := srv.RegisterJWKSURLClient(ReferenceJWKSClientID, public, caPEM); err != nil {
		ln.Close()
		return nil, err
	}
	t.Trust = &Trust{
		JWKS:     &JWKSClient{ClientID: ReferenceJWKSClientID, Keys: jwksKeys, Listen: ln.Addr().String(), Listener: ln, PublicURL: public, Cert: &cert, CACertPEM: caPEM},
		FHIRBase: srv.BaseURL, ResourcePath: DefaultResourcePath,
	}
	return t, nil
}

// SelfSignedCert makes a certificate for host (an IP address or a name),
// valid for a day, and returns it with its PEM for clients to trust.
func SelfSignedCert(host string) (tls.Certificate, []byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "smartconform JWKS host"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if der == nil {
		return tls.Certificate{}, nil, errors.New("no certificate")
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
