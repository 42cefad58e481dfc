package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
)

// cmdKeygen writes a private_key_jwt signing key (a private JWK, mode 0600)
// and the public JWKS to register with the authorization server, and
// prints the configuration lines that use them.
func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("keygen", stderr)
	alg := fs.String("alg", "RS384", "RS384 (RSA 2048) or ES384 (P-384)")
	kid := fs.String("kid", "", "key ID to register (default: smartconform-<alg>-<random>)")
	out := fs.String("out", ".", "directory for <kid>.private.jwk.json and <kid>.jwks.json")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *alg != "RS384" && *alg != "ES384" {
		fmt.Fprintf(stderr, "smartconform keygen: --alg must be RS384 or ES384 (got %q)\n", *alg)
		return exitUsage
	}
	if *kid == "" {
		*kid = fmt.Sprintf("smartconform-%s-%s", *alg, fixtures.NewJTI()[:8])
	}
	k, err := fixtures.NewSigningKey(jose.SignatureAlgorithm(*alg), *kid)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform keygen: %v\n", err)
		return exitIncomplete
	}
	priv, err := json.MarshalIndent(k.JWK, "", "  ")
	if err != nil {
		return exitIncomplete
	}
	pub, err := json.MarshalIndent(fixtures.PublicJWKS(k), "", "  ")
	if err != nil {
		return exitIncomplete
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "smartconform keygen: %v\n", err)
		return exitUsage
	}
	privPath := filepath.Join(*out, *kid+".private.jwk.json")
	pubPath := filepath.Join(*out, *kid+".jwks.json")
	if err := os.WriteFile(privPath, append(priv, '\n'), 0o600); err != nil {
		fmt.Fprintf(stderr, "smartconform keygen: %v\n", err)
		return exitUsage
	}
	if err := os.WriteFile(pubPath, append(pub, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "smartconform keygen: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "private key (keep it secret): %s\npublic JWKS (register it with the server): %s\n\nIn the target configuration:\n\n", privPath, pubPath)
	fmt.Fprintf(stdout, "clients:\n  private_key_jwt:\n    clientId: <the client_id the server gave you>\n    keys:\n      - keyFile: %s\n        kid: %s\n        alg: %s\n", privPath, *kid, *alg)
	return exitOK
}
