package config

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
)

// fuzzDir holds files a fuzzed configuration may name: a private JWK, a
// secret, a CA certificate.
func fuzzDir(f *testing.F) string {
	dir := f.TempDir()
	creds, err := refserver.SharedCredentials()
	if err != nil {
		f.Fatal(err)
	}
	jwk, err := json.Marshal(creds.AsymKeys[0].JWK)
	if err != nil {
		f.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"k.jwk":  jwk,
		"s.txt":  []byte("a-secret-value\n"),
		"ca.pem": []byte("not a certificate\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	return dir
}

// FuzzLoad: any configuration file loads or fails with an *Error that names
// the file; never a panic.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("version: 1\ntarget: {fhirBaseUrl: 'https://example.org/fhir', requestTimeout: 5s}\nclients:\n  private_key_jwt: {clientId: a, keys: [{keyFile: k.jwk, alg: RS384}]}\n  client_secret_basic: {clientId: b, secret: {file: s.txt}}\n"))
	dir := fuzzDir(f)
	path := filepath.Join(dir, "c.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := Load(path)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %T %q does not name the file", err, err)
			}
			return
		}
		if tg.BaseURL == "" && tg.TokenURL == "" {
			t.Fatal("loaded a target with no URL")
		}
		if tg.RequestTimeout <= 0 {
			t.Fatalf("request timeout %v", tg.RequestTimeout)
		}
		if tg.Asym != nil && len(tg.Asym.Keys) == 0 {
			t.Fatal("a private_key_jwt client without keys")
		}
	})
}

// FuzzParsePrivateKey: any key file yields an RSA or EC private key or an
// error; never a panic.
func FuzzParsePrivateKey(f *testing.F) {
	creds, err := refserver.SharedCredentials()
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range creds.AsymKeys {
		raw, _ := json.Marshal(k.JWK)
		f.Add(raw, k.KID)
	}
	f.Fuzz(func(t *testing.T, data []byte, kid string) {
		if len(data) > 64<<10 {
			return
		}
		key, _, err := ParsePrivateKey(data, kid)
		if err != nil {
			if key != nil {
				t.Fatal("a key and an error")
			}
			return
		}
		switch key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
		default:
			t.Fatalf("key of type %T", key)
		}
	})
}
