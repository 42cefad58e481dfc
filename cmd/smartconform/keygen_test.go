package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/suites/config"
)

func TestKeygenWritesAKeyAndAPublicJWKS(t *testing.T) {
	for _, alg := range []string{"RS384", "ES384"} {
		dir := t.TempDir()
		code, out, errs := runCLI(t, "keygen", "--alg", alg, "--kid", "k-"+alg, "--out", dir)
		if code != exitOK {
			t.Fatalf("exit %d %s", code, errs)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "k-"+alg+".private.jwk.json"))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(filepath.Join(dir, "k-"+alg+".private.jwk.json")); st.Mode().Perm() != 0o600 {
			t.Errorf("private key mode %v", st.Mode().Perm())
		}
		if _, kid, err := config.ParsePrivateKey(raw, ""); err != nil || kid != "k-"+alg {
			t.Errorf("the private key does not load: %v %q", err, kid)
		}
		pub, _ := os.ReadFile(filepath.Join(dir, "k-"+alg+".jwks.json"))
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(pub, &set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() || set.Keys[0].KeyID != "k-"+alg {
			t.Errorf("public JWKS: %v %s", err, pub)
		}
		for _, private := range []string{`"d"`, `"p"`, `"q"`} {
			if strings.Contains(string(pub), private) {
				t.Errorf("the public JWKS holds private member %s", private)
			}
		}
		if !strings.Contains(out, "kid: k-"+alg) {
			t.Errorf("no configuration snippet:\n%s", out)
		}
	}
	if code, _, _ := runCLI(t, "keygen", "--alg", "HS256"); code != exitUsage {
		t.Errorf("keygen --alg HS256: exit %d", code)
	}
}
