package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
)

func writeKeys(t *testing.T, dir string) {
	t.Helper()
	rs, _ := fixtures.NewSigningKey(jose.RS384, "rs-file")
	es, _ := fixtures.NewSigningKey(jose.ES384, "es-file")
	for n, k := range map[string]fixtures.SigningKey{"rs.jwk": rs, "es.jwk": es} {
		raw, _ := json.Marshal(k.JWK)
		if err := os.WriteFile(filepath.Join(dir, n), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// private_key_jwt takes one client (a mapping, the original form) or a
// list; the first of a list is the primary client (Target.Asym).
func TestSeveralClientsPerMode(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir)
	os.WriteFile(filepath.Join(dir, "b1.secret"), []byte("secret-one\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "b2.secret"), []byte("secret-two\n"), 0o600)
	p := filepath.Join(dir, "c.yaml")
	list := `version: 1
target: {fhirBaseUrl: "https://fhir.example/r4"}
clients:
  private_key_jwt:
    - clientId: rs-client
      keys: [{keyFile: rs.jwk, alg: RS384}]
    - clientId: es-client
      keys: [{keyFile: es.jwk}]
  client_secret_basic:
    - {clientId: b1, secret: {file: b1.secret}}
    - {clientId: b2, secret: {file: b2.secret}}
`
	os.WriteFile(p, []byte(list), 0o600)
	tg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.AsymClients) != 2 || tg.Asym != tg.AsymClients[0] || tg.Asym.ClientID != "rs-client" || tg.AsymClients[1].ClientID != "es-client" {
		t.Fatalf("clients: %+v", tg.AsymClients)
	}
	if k := tg.AsymClients[1].Keys[0]; k.Alg != jose.ES384 || k.KID != "es-file" {
		t.Errorf("alg and kid from the key file: %s %s", k.Alg, k.KID)
	}
	if len(tg.BasicClients) != 2 || tg.Basic.ClientID != "b1" || tg.BasicClients[1].Secret != "secret-two" {
		t.Errorf("basic clients: %+v", tg.BasicClients)
	}
	if s := tg.Secrets(); !strings.Contains(strings.Join(s, " "), "secret-two") {
		t.Errorf("the second client's secret is not redacted: %v", s)
	}
	// The single-client form still loads.
	single := `version: 1
target: {fhirBaseUrl: "https://fhir.example/r4"}
clients:
  private_key_jwt: {clientId: one, keys: [{keyFile: rs.jwk, kid: rs-file, alg: RS384}]}
  client_secret_basic: {clientId: b1, secret: {file: b1.secret}}
`
	os.WriteFile(p, []byte(single), 0o600)
	tg, err = Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Asym == nil || tg.Asym.ClientID != "one" || len(tg.AsymClients) != 1 || tg.Basic.ClientID != "b1" {
		t.Errorf("single form: %+v", tg)
	}
}

// A kid or alg in the configuration that contradicts the key file's own is
// a configuration error naming the key.
func TestKeyContradictingItsFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir)
	p := filepath.Join(dir, "c.yaml")
	for body, want := range map[string]string{
		"version: 1\ntarget: {fhirBaseUrl: 'https://x.example'}\nclients:\n  private_key_jwt: {clientId: a, keys: [{keyFile: rs.jwk, kid: other, alg: RS384}]}\n":                                            "clients.private_key_jwt.keys[0].kid: \"other\" contradicts the key file",
		"version: 1\ntarget: {fhirBaseUrl: 'https://x.example'}\nclients:\n  private_key_jwt: {clientId: a, keys: [{keyFile: rs.jwk, alg: ES384}]}\n":                                                        "clients.private_key_jwt.keys[0].alg: \"ES384\" contradicts the key file",
		"version: 1\ntarget: {fhirBaseUrl: 'https://x.example'}\nclients:\n  private_key_jwt:\n    - {clientId: a, keys: [{keyFile: rs.jwk}]}\n    - {clientId: b, keys: [{keyFile: es.jwk, alg: RS384}]}\n": "clients.private_key_jwt[1].keys[0].alg",
		"version: 1\ntarget: {fhirBaseUrl: 'https://x.example'}\nclients:\n  private_key_jwt:\n    - {clientId: a, keys: [{keyFile: rs.jwk}]}\n    - {clientId: a, keys: [{keyFile: es.jwk}]}\n":             "clients.private_key_jwt[1].clientId",
		"version: 1\ntarget: {fhirBaseUrl: 'https://x.example'}\nclients:\n  private_key_jwt: []\n":                                                                                                          "empty list",
	} {
		os.WriteFile(p, []byte(body), 0o600)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\nerror %v, want %q", body, err, want)
		}
	}
}

// serve --write-config writes the primary client and the RS384-only and
// ES384-only clients; the file loads back with all three.
func TestWriteForServerWritesEveryAsymClient(t *testing.T) {
	c, tg, _ := writeAndLoad(t, ReferenceLogin(false))
	if len(tg.AsymClients) != 1+len(c.AsymMore) || tg.Asym.ClientID != c.AsymClientID {
		t.Fatalf("clients: %+v", tg.AsymClients)
	}
	for i, m := range c.AsymMore {
		got := tg.AsymClients[i+1]
		if got.ClientID != m.ID || len(got.Keys) != 1 || got.Keys[0].KID != m.Keys[0].KID || got.Keys[0].Alg != m.Keys[0].Alg {
			t.Errorf("client %d: %+v", i+1, got)
		}
	}
}
