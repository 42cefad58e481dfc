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

func TestTrustSectionLoads(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 2; i++ {
		k, err := fixtures.NewSigningKey(jose.ES384, "k"+string(rune('0'+i)))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(k.JWK)
		if err := os.WriteFile(filepath.Join(dir, "k"+string(rune('0'+i))+".jwk.json"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := `version: 1
target: {fhirBaseUrl: https://fhir.example.org/r4}
trust:
  jwksClient:
    clientId: jwks-client
    keys: [{keyFile: k1.jwk.json, alg: ES384}, {keyFile: k2.jwk.json, alg: ES384}]
    listen: 0.0.0.0:8443
    publicUrl: PUBLIC
  resourceServer: {fhirBase: https://fhir.example.org/r4/}
`
	write := func(s string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tg, err := Load(write(strings.Replace(base, "PUBLIC", "https://jwks.example.org/smartconform/jwks.json", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tg.Trust
	if tr == nil || tr.JWKS == nil || len(tr.JWKS.Keys) != 2 || tr.JWKS.Listen != "0.0.0.0:8443" || tr.FHIRBase != "https://fhir.example.org/r4" || tr.ResourcePath != DefaultResourcePath {
		t.Fatalf("trust section: %+v %+v", tr, tr.JWKS)
	}
	for _, bad := range []string{"http://jwks.example.org/jwks.json", "/jwks.json"} {
		_, err := Load(write(strings.Replace(base, "PUBLIC", bad, 1)))
		if err == nil || !strings.Contains(err.Error(), "trust.jwksClient.publicUrl") {
			t.Errorf("publicUrl %q: %v", bad, err)
		}
	}
}
