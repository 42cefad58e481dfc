package config

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/fixtures/refserver"
)

// writeAndLoad writes the shared reference credentials with WriteForServer
// (login: how the flows are driven) and loads the file (at path) back.
func writeAndLoad(t *testing.T, login LoginSpec) (c refserver.Credentials, tg *Target, path string) {
	t.Helper()
	c, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "f.yaml")
	if err := WriteForServer(path, "ref", "http://127.0.0.1:1/fhir", c, nil, login); err != nil {
		t.Fatal(err)
	}
	if tg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	return c, tg, path
}

func TestWriteForServerRoundTrips(t *testing.T) {
	c, tg, p := writeAndLoad(t, ReferenceLogin(false))
	if tg.Launch == nil || tg.Launch.Driver != DriverBrowser || len(tg.Launch.Script) == 0 {
		t.Errorf("the browser login was not written: %+v", tg.Launch)
	}
	if _, auto, _ := writeAndLoad(t, ReferenceLogin(true)); auto.Launch == nil || auto.Launch.Driver != DriverFollow || len(auto.Launch.Script) != 0 {
		t.Errorf("the follow login (an auto-approving server) was not written: %+v", auto.Launch)
	}
	if tg.Asym.ClientID != c.AsymClientID || len(tg.Asym.Keys) != 2 || tg.Basic.Secret != c.BasicSecret || tg.Post.Secret != c.PostSecret || tg.Public.ClientID != c.PublicID {
		t.Errorf("round trip lost something: %+v", tg)
	}
	for i, k := range tg.Asym.Keys {
		if k.KID != c.AsymKeys[i].KID || k.Alg != c.AsymKeys[i].Alg {
			t.Errorf("key %d: %s %s", i, k.KID, k.Alg)
		}
	}
	if l := tg.Launch; l == nil || l.RedirectURI != c.RedirectURI || l.PublicClientID != c.PublicID || l.Username != c.UserName || l.Password != c.UserPassword || l.LaunchStartURL != "http://127.0.0.1:1"+refserver.LaunchStartPath {
		t.Errorf("round trip lost the launch section: %+v", tg.Launch)
	}
	raw, _ := os.ReadFile(p)
	if strings.Contains(string(raw), c.BasicSecret) || strings.Contains(string(raw), c.UserPassword) {
		t.Error("the configuration file holds a secret inline")
	}
}

func TestKeyFilesJWKJWKSAndPEM(t *testing.T) {
	dir := t.TempDir()
	rs, _ := fixtures.NewSigningKey(jose.RS384, "r1")
	es, _ := fixtures.NewSigningKey(jose.ES384, "e1")
	jwk, _ := json.Marshal(rs.JWK)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rs.JWK, es.JWK}})
	der, _ := x509.MarshalPKCS8PrivateKey(es.JWK.Key)
	files := map[string][]byte{
		"rs.jwk":   jwk,
		"set.json": set,
		"es.pem":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"pub.jwk":  func() []byte { b, _ := json.Marshal(rs.Public()); return b }(),
	}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o600)
	}
	for _, tc := range []struct {
		file, kid, alg, wantErr string
	}{
		{"rs.jwk", "", "RS384", ""},
		{"set.json", "e1", "ES384", ""},
		{"set.json", "", "ES384", "set kid"},
		{"set.json", "nope", "ES384", "no private key with kid"},
		{"es.pem", "e1", "ES384", ""},
		{"es.pem", "", "ES384", "kid is required"},
		{"es.pem", "e1", "RS384", "needs an RSA key"},
		{"pub.jwk", "", "RS384", "public key"},
		{"rs.jwk", "", "HS256", "not supported"},
	} {
		_, err := loadKey(filepath.Join(dir, tc.file), tc.kid, tc.alg)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s/%s/%s: %v", tc.file, tc.kid, tc.alg, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s/%s/%s: error %v, want %q", tc.file, tc.kid, tc.alg, err, tc.wantErr)
		}
	}
}

func TestTargetsWithTenantTemplates(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "post.secret"), []byte("s3cret-post\n"), 0o600)
	body := `version: 1
scope: system/*.rs
clients:
  client_secret_post: {clientId: "app-{tenant}", secret: {file: post.secret}}
targets:
  - name: "Acme {tenant}"
    fhirBaseUrl: "https://fhir.acme.example/{tenant}/r4"
    tenants: [t1, t2, t3]
  - name: Other
    tokenEndpoint: https://other.example/token
    requestTimeout: 3s
    clients:
      none: {clientId: pub}
`
	p := filepath.Join(dir, "m.yaml")
	os.WriteFile(p, []byte(body), 0o600)
	ts, err := LoadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 4 {
		t.Fatalf("%d targets", len(ts))
	}
	if ts[1].Name != "Acme t2" || ts[1].BaseURL != "https://fhir.acme.example/t2/r4" || ts[1].Post.ClientID != "app-t2" || ts[1].Post.Secret != "s3cret-post" {
		t.Errorf("tenant t2: %+v %+v", ts[1], ts[1].Post)
	}
	if ts[3].Name != "Other" || ts[3].Post != nil || ts[3].Public.ClientID != "pub" || ts[3].RequestTimeout.String() != "3s" {
		t.Errorf("second entry: %+v", ts[3])
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "4 targets") {
		t.Errorf("Load of a multi-target file: %v", err)
	}
	for bad, want := range map[string]string{
		"version: 1\ntargets:\n  - name: a\n    fhirBaseUrl: https://x.example/r4\n    tenants: [a, b]\n":                  "contains {tenant}",
		"version: 1\ntargets:\n  - name: a\n    fhirBaseUrl: https://x.example/{tenant}\n    tenants: [a, b]\n":            "also the name",
		"version: 1\ntarget: {fhirBaseUrl: 'https://y.example'}\ntargets:\n  - fhirBaseUrl: https://x.example\n":           "not both",
		"version: 1\ntargets:\n  - fhirBaseUrl: https://x.example/{tenant}\n    tenants: [a]\n    requestTimeout: never\n": "targets[0] (tenant \"a\").target.requestTimeout",
	} {
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := LoadAll(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", bad, err, want)
		}
	}
}
