package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/fixtures"
)

func newKeygenCmd(stdout, stderr io.Writer) *cobra.Command {
	var alg, kid, out, configDir string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [flags]",
		Short: "Make a private_key_jwt key and the public JWKS to register",
		Long: `Write a private_key_jwt signing key (<kid>.private.jwk.json, a private JWK,
mode 0600) and the public JWKS to register with the authorization server
(<kid>.jwks.json) into --out, and print the configuration lines that use
them. An existing file is never overwritten without --force, and every file
stays inside --out (a kid is letters, digits, '.', '_' and '-').

The printed keyFile is absolute, or, with --config-dir, relative to the
directory of the configuration file that will use it (relative keyFile paths
are resolved from there).`,
		Example: `  smartconform keygen --alg ES384 --out keys
  smartconform keygen --kid prod-2026 --out config/keys --config-dir config`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return code(cmdKeygen(alg, kid, out, configDir, force, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "RS384", "RS384 (RSA 2048) or ES384 (P-384)")
	cmd.Flags().StringVar(&kid, "kid", "", "key ID to register (default: smartconform-<alg>-<random>); letters, digits, '.', '_' and '-'")
	cmd.Flags().StringVar(&out, "out", ".", "directory for <kid>.private.jwk.json and <kid>.jwks.json")
	cmd.Flags().StringVar(&configDir, "config-dir", "", "directory of the configuration file that will use the key: the printed keyFile is relative to it (default: absolute)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing key files")
	_ = cmd.RegisterFlagCompletionFunc("alg", completeValues("RS384", "ES384"))
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagDirname("config-dir")
	return withEnvHelp(cmd)
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// checkKID: a kid names files, so it must stay a plain file name.
func checkKID(kid string) error {
	if !kidPattern.MatchString(kid) || strings.Contains(kid, "..") {
		return fmt.Errorf("--kid %q: a kid names the key files, so it is 1 to 128 letters, digits, '.', '_' and '-', starts with a letter or digit, and holds no '..' (no path)", kid)
	}
	return nil
}

// cmdKeygen writes a private_key_jwt signing key (a private JWK, mode 0600)
// and the public JWKS to register with the authorization server, and
// prints the configuration lines that use them.
func cmdKeygen(alg, kid, out, configDir string, force bool, stdout, stderr io.Writer) int {
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "smartconform keygen: "+format+"\nsee 'smartconform help keygen'\n", a...)
		return exitUsage
	}
	if alg != "RS384" && alg != "ES384" {
		return usage("--alg must be RS384 or ES384 (got %q)", alg)
	}
	if kid == "" {
		kid = fmt.Sprintf("smartconform-%s-%s", alg, fixtures.NewJTI()[:8])
	}
	if err := checkKID(kid); err != nil {
		return usage("%v", err)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return usage("--out: %v", err)
	}
	if err := checkOutDir(absOut); err != nil {
		return usage("--out: %v", err)
	}
	privPath := filepath.Join(absOut, kid+".private.jwk.json")
	pubPath := filepath.Join(absOut, kid+".jwks.json")
	for _, p := range []string{privPath, pubPath} {
		if rel, err := filepath.Rel(absOut, p); err != nil || rel != filepath.Base(p) {
			return usage("--kid %q would write outside --out", kid)
		}
		if _, err := os.Lstat(p); err == nil && !force {
			return usage("%s exists; keygen never overwrites a key without --force (or choose another --kid)", p)
		}
	}
	show := func(p string) string { return p }
	if configDir != "" {
		absCfg, err := filepath.Abs(configDir)
		if err != nil {
			return usage("--config-dir: %v", err)
		}
		show = func(p string) string {
			if rel, err := filepath.Rel(absCfg, p); err == nil {
				return rel
			}
			return p
		}
	}
	k, err := fixtures.NewSigningKey(jose.SignatureAlgorithm(alg), kid)
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
	if err := os.MkdirAll(absOut, 0o755); err != nil {
		return usage("%v", err)
	}
	if err := writeNew(privPath, append(priv, '\n'), 0o600, force); err != nil {
		return usage("%v", err)
	}
	if err := writeNew(pubPath, append(pub, '\n'), 0o644, force); err != nil {
		return usage("%v", err)
	}
	fmt.Fprintf(stdout, "private key (keep it secret): %s\npublic JWKS (register it with the server): %s\n\nIn the target configuration", privPath, pubPath)
	if configDir != "" {
		fmt.Fprintf(stdout, " (in %s)", configDir)
	}
	fmt.Fprintf(stdout, ":\n\n")
	fmt.Fprintf(stdout, "clients:\n  private_key_jwt:\n    clientId: <the client_id the server gave you>\n    keys:\n      - keyFile: %s\n        kid: %s\n        alg: %s\n", show(privPath), kid, alg)
	return exitOK
}

// writeNew writes a file, refusing to replace one unless force (O_EXCL, so
// that a file that appeared meanwhile is not clobbered either).
func writeNew(path string, data []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; keygen never overwrites a key without --force", path)
	}
	if err != nil {
		return err
	}
	if force {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
