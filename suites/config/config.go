// Package config loads a target configuration: where the authorization server
// is, how to trust it, and the clients smartconform authenticates as. Every
// error names the key it is about; loading never panics.
package config

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.yaml.in/yaml/v4"

	"github.com/smartconform/smartconform/fixtures"
)

// File is the YAML document, decoded strictly (unknown keys are errors).
type File struct {
	Version int        `yaml:"version"`
	Target  TargetSpec `yaml:"target,omitempty"`
	Scope   string     `yaml:"scope,omitempty"`
	// RegisteredScope is the scope the clients are registered for (optional).
	RegisteredScope string  `yaml:"registeredScope,omitempty"`
	Clients         Clients `yaml:"clients,omitempty"`
	// Launch configures the App Launch cases (launch.go).
	Launch *LaunchSpec `yaml:"launch,omitempty"`
	// Trust configures the trust-chain cases (jwks.go).
	Trust *TrustSpec `yaml:"trust,omitempty"`
	// Targets lists several targets judged in one run (instead of target).
	Targets []TargetEntry `yaml:"targets,omitempty"`
}

// TargetEntry is one entry of targets: a target, optionally a template
// expanded once per tenant ({tenant} in any value is replaced), with its own
// clients and scope or, by default, the file's.
type TargetEntry struct {
	TargetSpec `yaml:",inline"`
	Tenants    []string `yaml:"tenants,omitempty"`
	Scope      string   `yaml:"scope,omitempty"`
	// RegisteredScope overrides the file's registeredScope for this entry.
	RegisteredScope string   `yaml:"registeredScope,omitempty"`
	Clients         *Clients `yaml:"clients,omitempty"`
}

// TargetSpec says where the server is.
type TargetSpec struct {
	Name           string  `yaml:"name,omitempty"`
	FHIRBaseURL    string  `yaml:"fhirBaseUrl,omitempty"`
	TokenEndpoint  string  `yaml:"tokenEndpoint,omitempty"`
	TLS            TLSSpec `yaml:"tls,omitempty"`
	RequestTimeout string  `yaml:"requestTimeout,omitempty"`
}

// TLSSpec configures trust.
type TLSSpec struct {
	CAFile             string `yaml:"caFile,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecureSkipVerify,omitempty"`
}

// Clients holds the clients of each authentication mode: one (a mapping) or
// a list (OneOrMany; the first is the mode's primary client). Modes are
// named as RFC 8414 names them; the vendor names Smile CDR uses are accepted
// too.
type Clients struct {
	PrivateKeyJWT     OneOrMany[AsymSpec]   `yaml:"private_key_jwt,omitempty"`
	PrivateKeyJWTV    OneOrMany[AsymSpec]   `yaml:"PRIVATE_KEY_JWT,omitempty"`
	ClientSecretBasic OneOrMany[SecretSpec] `yaml:"client_secret_basic,omitempty"`
	ClientSecretBasV  OneOrMany[SecretSpec] `yaml:"CLIENT_SECRET_BASIC,omitempty"`
	// A second client_secret_basic client whose id or secret holds characters
	// that form-urlencoding changes (space + / : % = ?), for SYM-BASIC-03.
	ClientSecretBasicURLEnc *SecretSpec           `yaml:"client_secret_basic_urlencoded,omitempty"`
	ClientSecretPost        OneOrMany[SecretSpec] `yaml:"client_secret_post,omitempty"`
	ClientSecretForm        OneOrMany[SecretSpec] `yaml:"CLIENT_SECRET_FORM,omitempty"`
	None                    *PublicSpec           `yaml:"none,omitempty"`
	NoneV                   *PublicSpec           `yaml:"NONE,omitempty"`
}

// AsymSpec is a private_key_jwt client.
type AsymSpec struct {
	ClientID string    `yaml:"clientId,omitempty"`
	Keys     []KeySpec `yaml:"keys,omitempty"`
}

// KeySpec is one signing key: a JWK, JWKS (chosen by kid) or PEM file.
type KeySpec struct {
	KeyFile string `yaml:"keyFile,omitempty"`
	KID     string `yaml:"kid,omitempty"`
	Alg     string `yaml:"alg,omitempty"`
}

// SecretSpec is a client_secret_basic or client_secret_post client.
type SecretSpec struct {
	ClientID string    `yaml:"clientId,omitempty"`
	Secret   SecretRef `yaml:"secret,omitempty"`
}

// SecretRef names where a secret is: an environment variable or a file.
// Inline secrets are refused: they end up in repositories and shell history.
type SecretRef struct {
	Env  string `yaml:"env,omitempty"`
	File string `yaml:"file,omitempty"`
}

// UnmarshalYAML refuses an inline scalar secret.
func (s *SecretRef) UnmarshalYAML(construct func(any) error) error {
	var inline string
	if construct(&inline) == nil {
		return errors.New("inline secrets are not accepted: use {env: VARIABLE} or {file: PATH}")
	}
	type plain SecretRef
	return construct((*plain)(s))
}

// PublicSpec is a public client (token_endpoint_auth_method none).
type PublicSpec struct {
	ClientID string `yaml:"clientId,omitempty"`
}

// Target is a loaded, validated configuration, ready for a run.
type Target struct {
	Name           string
	BaseURL        string // FHIR base; discovery at {BaseURL}/.well-known/smart-configuration
	TokenURL       string // explicit token endpoint, or "" to use discovery
	CAFile         string
	CACertPEM      []byte
	Insecure       bool
	RequestTimeout time.Duration
	Scope          string
	// RegisteredScope is what the clients are registered (pre-authorized)
	// for, when the configuration says: a grant within it may be the
	// server's default for a malformed request (SCOPE-SYN-01).
	RegisteredScope string
	// Asym is the primary private_key_jwt client (AsymClients[0]): the one
	// every negative case mutates.
	Asym *AsymClient
	// AsymClients are all private_key_jwt clients, the primary first.
	AsymClients []*AsymClient
	Basic       *SecretClient
	// BasicClients and PostClients are all clients of those modes, the
	// primary (Basic, Post) first.
	BasicClients []*SecretClient
	PostClients  []*SecretClient
	// BasicEncoded is a Basic client whose id or secret needs form-urlencoding.
	BasicEncoded *SecretClient
	Post         *SecretClient
	Public       *PublicClient
	// Launch is the App Launch configuration (launch.go), or nil.
	Launch *Launch
	// Trust is the trust-chain configuration (jwks.go), or nil.
	Trust *Trust
}

// AsymClient authenticates with private_key_jwt.
type AsymClient struct {
	ClientID string
	Keys     []fixtures.SigningKey
}

// SecretClient authenticates with a client secret.
type SecretClient struct {
	ClientID string
	Secret   string
}

// PublicClient sends only its client_id.
type PublicClient struct{ ClientID string }

// Secrets lists every secret value the target holds, for redaction.
func (t *Target) Secrets() []string {
	var out []string
	for _, c := range append(append([]*SecretClient{t.Basic, t.BasicEncoded, t.Post}, t.BasicClients...), t.PostClients...) {
		if c != nil && c.Secret != "" {
			out = append(out, c.Secret)
		}
	}
	return append(out, t.Launch.LaunchSecrets()...)
}

// DefaultRequestTimeout applies when the file sets none.
const DefaultRequestTimeout = 10 * time.Second

// Error is a configuration error naming the key it is about.
type Error struct {
	File string
	Key  string
	Err  error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("configuration %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("configuration %s: %s: %v", e.File, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads, strictly decodes and resolves a configuration file. Relative
// paths inside it are relative to the file.
func Load(path string) (*Target, error) {
	ts, err := LoadAll(path)
	if err != nil {
		return nil, err
	}
	if len(ts) != 1 {
		return nil, &Error{File: path, Key: "targets", Err: fmt.Errorf("lists %d targets where one is expected", len(ts))}
	}
	return ts[0], nil
}

// LoadAll reads a configuration of one target or many (targets, with
// tenant templates), each resolved and validated.
func LoadAll(path string) ([]*Target, error) {
	raw, err := readFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	var f File
	if err := yaml.Load(raw, &f, yaml.WithKnownFields()); err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	return f.ResolveAll(path, os.Getenv)
}

// ResolveAll expands and resolves every target of the file.
func (f *File) ResolveAll(path string, getenv func(string) string) ([]*Target, error) {
	if len(f.Targets) == 0 {
		t, err := f.Resolve(path, getenv)
		if err != nil {
			return nil, err
		}
		return []*Target{t}, nil
	}
	if f.Target != (TargetSpec{}) {
		return nil, &Error{File: path, Key: "target", Err: errors.New("give target or targets, not both")}
	}
	var out []*Target
	names := map[string]string{}
	for i, entry := range f.Targets {
		tenants := entry.Tenants
		key := fmt.Sprintf("targets[%d]", i)
		if len(tenants) == 0 {
			tenants = []string{""}
		} else if !strings.Contains(entry.FHIRBaseURL+entry.TokenEndpoint, "{tenant}") {
			return nil, &Error{File: path, Key: key, Err: errors.New("tenants are listed but neither fhirBaseUrl nor tokenEndpoint contains {tenant}")}
		}
		for _, tenant := range tenants {
			k := key
			if tenant != "" {
				k = fmt.Sprintf("%s (tenant %q)", key, tenant)
			}
			spec := entry.TargetSpec
			clients := f.Clients
			if entry.Clients != nil {
				clients = *entry.Clients
			}
			if tenant != "" {
				if err := expand(&spec, tenant); err != nil {
					return nil, &Error{File: path, Key: k, Err: err}
				}
				if err := expand(&clients, tenant); err != nil {
					return nil, &Error{File: path, Key: k, Err: err}
				}
				if spec.Name == "" {
					spec.Name = tenant
				}
			}
			scope := entry.Scope
			if scope == "" {
				scope = f.Scope
			}
			reg := entry.RegisteredScope
			if reg == "" {
				reg = f.RegisteredScope
			}
			one := File{Version: f.Version, Target: spec, Scope: scope, RegisteredScope: reg, Clients: clients, Launch: f.Launch, Trust: f.Trust}
			t, err := one.Resolve(path, getenv)
			if err != nil {
				var ce *Error
				if errors.As(err, &ce) {
					ce.Key = strings.TrimSuffix(k+"."+ce.Key, ".")
				}
				return nil, err
			}
			if prev, dup := names[t.Name]; dup {
				return nil, &Error{File: path, Key: k + ".name", Err: fmt.Errorf("%q is also the name of %s: name each target (use {tenant} in the name)", t.Name, prev)}
			}
			names[t.Name] = k
			out = append(out, t)
		}
	}
	return out, nil
}

// expand replaces {tenant} in every string of v (a YAML round trip, so no
// field is forgotten).
func expand[T any](v *T, tenant string) error {
	raw, err := yaml.Dump(v)
	if err != nil {
		return err
	}
	replaced := strings.ReplaceAll(string(raw), "{tenant}", tenant)
	var out T
	if err := yaml.Load([]byte(replaced), &out, yaml.WithKnownFields()); err != nil {
		return fmt.Errorf("tenant %q makes the entry invalid: %w", tenant, err)
	}
	*v = out
	return nil
}

// Resolve validates the decoded file and loads keys and secrets. path names
// the file in errors and anchors relative paths; getenv reads variables.
func (f *File) Resolve(path string, getenv func(string) string) (*Target, error) {
	bad := func(key string, format string, a ...any) error {
		return &Error{File: path, Key: key, Err: fmt.Errorf(format, a...)}
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if f.Version != 1 {
		return nil, bad("version", "must be 1 (got %d)", f.Version)
	}
	t := &Target{Name: f.Target.Name, Scope: f.Scope, RegisteredScope: f.RegisteredScope, Insecure: f.Target.TLS.InsecureSkipVerify, RequestTimeout: DefaultRequestTimeout}
	t.BaseURL = strings.TrimRight(f.Target.FHIRBaseURL, "/")
	t.TokenURL = f.Target.TokenEndpoint
	if t.BaseURL == "" && t.TokenURL == "" {
		return nil, bad("target", "set fhirBaseUrl (discovery) or tokenEndpoint")
	}
	for key, u := range map[string]string{"target.fhirBaseUrl": t.BaseURL, "target.tokenEndpoint": t.TokenURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, bad(key, "must be an absolute http(s) URL (got %q)", u)
		}
	}
	if t.Name == "" {
		t.Name = t.BaseURL
		if t.Name == "" {
			t.Name = t.TokenURL
		}
	}
	if f.Target.RequestTimeout != "" {
		d, err := time.ParseDuration(f.Target.RequestTimeout)
		if err != nil || d <= 0 {
			return nil, bad("target.requestTimeout", "must be a positive duration such as 10s (got %q)", f.Target.RequestTimeout)
		}
		t.RequestTimeout = d
	}
	if ca := f.Target.TLS.CAFile; ca != "" {
		pemBytes, err := readFile(rel(ca))
		if err != nil {
			return nil, bad("target.tls.caFile", "%v", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pemBytes) {
			return nil, bad("target.tls.caFile", "no PEM certificate in %s", ca)
		}
		t.CAFile, t.CACertPEM = rel(ca), pemBytes
	}
	if t.Scope == "" {
		t.Scope = "system/*.rs"
	}

	c := f.Clients
	for key, twice := range map[string]bool{
		"private_key_jwt":     len(c.PrivateKeyJWT) > 0 && len(c.PrivateKeyJWTV) > 0,
		"client_secret_basic": len(c.ClientSecretBasic) > 0 && len(c.ClientSecretBasV) > 0,
		"client_secret_post":  len(c.ClientSecretPost) > 0 && len(c.ClientSecretForm) > 0,
		"none":                c.None != nil && c.NoneV != nil,
	} {
		if twice {
			return nil, bad("clients."+key, "is given twice (once under its vendor name)")
		}
	}
	asyms := firstOf(c.PrivateKeyJWT, c.PrivateKeyJWTV)
	ids := map[string]string{}
	for j, a := range asyms {
		key := indexKey("clients.private_key_jwt", j, len(asyms))
		if a.ClientID == "" {
			return nil, bad(key+".clientId", "is required")
		}
		if prev, dup := ids[a.ClientID]; dup {
			return nil, bad(key+".clientId", "%q is also the clientId of %s: list each client once, with all its keys", a.ClientID, prev)
		}
		ids[a.ClientID] = key
		if len(a.Keys) == 0 {
			return nil, bad(key+".keys", "at least one key is required")
		}
		ac := &AsymClient{ClientID: a.ClientID}
		for i, ks := range a.Keys {
			kkey := fmt.Sprintf("%s.keys[%d]", key, i)
			k, err := loadKey(rel(ks.KeyFile), ks.KID, ks.Alg)
			if err != nil {
				var ke *keyError
				if errors.As(err, &ke) {
					return nil, &Error{File: path, Key: kkey + "." + ke.field, Err: ke.err}
				}
				return nil, &Error{File: path, Key: kkey, Err: err}
			}
			ac.Keys = append(ac.Keys, k)
		}
		t.AsymClients = append(t.AsymClients, ac)
	}
	if len(t.AsymClients) > 0 {
		t.Asym = t.AsymClients[0]
	}
	for _, m := range []struct {
		key   string
		specs OneOrMany[SecretSpec]
		all   *[]*SecretClient
		dst   **SecretClient
	}{
		{"clients.client_secret_basic", firstOf(c.ClientSecretBasic, c.ClientSecretBasV), &t.BasicClients, &t.Basic},
		{"clients.client_secret_post", firstOf(c.ClientSecretPost, c.ClientSecretForm), &t.PostClients, &t.Post},
		{"clients.client_secret_basic_urlencoded", optional(c.ClientSecretBasicURLEnc), nil, &t.BasicEncoded},
	} {
		for j, spec := range m.specs {
			key := indexKey(m.key, j, len(m.specs))
			if spec.ClientID == "" {
				return nil, bad(key+".clientId", "is required")
			}
			secret, err := readSecret(spec.Secret, rel, getenv)
			if err != nil {
				return nil, bad(key+".secret", "%v", err)
			}
			sc := &SecretClient{ClientID: spec.ClientID, Secret: secret}
			if j == 0 {
				*m.dst = sc
			}
			if m.all != nil {
				*m.all = append(*m.all, sc)
			}
		}
	}
	if p := first(c.None, c.NoneV); p != nil {
		if p.ClientID == "" {
			return nil, bad("clients.none.clientId", "is required")
		}
		t.Public = &PublicClient{ClientID: p.ClientID}
	}
	var err error
	if t.Launch, err = resolveLaunch(f.Launch, rel, getenv, bad); err != nil {
		return nil, err
	}
	if t.Trust, err = resolveTrust(f.Trust, rel, bad); err != nil {
		return nil, err
	}
	return t, nil
}

func optional[T any](p *T) OneOrMany[T] {
	if p == nil {
		return nil
	}
	return OneOrMany[T]{*p}
}

func first[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func readSecret(ref SecretRef, rel func(string) string, getenv func(string) string) (string, error) {
	switch {
	case ref.Env != "" && ref.File != "":
		return "", errors.New("give env or file, not both")
	case ref.Env != "":
		v := getenv(ref.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", ref.Env)
		}
		return v, nil
	case ref.File != "":
		raw, err := readFile(rel(ref.File))
		if err != nil {
			return "", err
		}
		v := strings.TrimRight(string(raw), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s is empty", ref.File)
		}
		return v, nil
	}
	return "", errors.New("is required: {env: VARIABLE} or {file: PATH}")
}

// keyError is a key problem that belongs to one field of the key's entry
// (kid, alg), so that the configuration error names it.
type keyError struct {
	field string
	err   error
}

func (e *keyError) Error() string { return e.field + ": " + e.err.Error() }

// loadKey reads a private key from a JWK, a JWKS (choosing kid) or PEM file.
// A kid or alg the entry gives must agree with the kid and alg the key file
// itself gives (a JWK's own members): a contradiction is a configuration
// error, never silently resolved, since the server registered one of them.
func loadKey(path, kid, alg string) (fixtures.SigningKey, error) {
	if path == "" {
		return fixtures.SigningKey{}, errors.New("keyFile is required")
	}
	if alg != "" && !supportedAlg(alg) {
		return fixtures.SigningKey{}, &keyError{"alg", fmt.Errorf("%q is not supported (RS384, ES384)", alg)}
	}
	raw, err := readFile(path)
	if err != nil {
		return fixtures.SigningKey{}, fmt.Errorf("keyFile: %w", err)
	}
	key, fileKID, fileAlg, err := parsePrivateKey(raw, kid)
	if err != nil {
		return fixtures.SigningKey{}, fmt.Errorf("keyFile %s: %w", path, err)
	}
	if kid != "" && fileKID != "" && kid != fileKID {
		return fixtures.SigningKey{}, &keyError{"kid", fmt.Errorf("%q contradicts the key file %s, whose own kid is %q: give the kid the server registered, in one place", kid, path, fileKID)}
	}
	if alg != "" && fileAlg != "" && alg != fileAlg {
		return fixtures.SigningKey{}, &keyError{"alg", fmt.Errorf("%q contradicts the key file %s, whose own alg is %q", alg, path, fileAlg)}
	}
	if alg == "" {
		alg = fileAlg
	}
	switch {
	case alg == "":
		return fixtures.SigningKey{}, errors.New("alg is required (RS384 or ES384)")
	case !supportedAlg(alg):
		return fixtures.SigningKey{}, &keyError{"alg", fmt.Errorf("%q (the key file's own alg) is not supported (RS384, ES384)", alg)}
	}
	if kid == "" {
		kid = fileKID
	}
	if kid == "" {
		return fixtures.SigningKey{}, errors.New("kid is required (the key file names none)")
	}
	if kt := fixtures.KeyTypeOf(key); kt != fixtures.KeyTypeForAlg(alg) {
		return fixtures.SigningKey{}, fmt.Errorf("alg %s needs an %s key, keyFile holds an %s key", alg, fixtures.KeyTypeForAlg(alg), kt)
	}
	return fixtures.SigningKey{KID: kid, Alg: jose.SignatureAlgorithm(alg), JWK: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}}, nil
}

func supportedAlg(alg string) bool {
	switch alg {
	case "RS384", "ES384", "RS256", "RS512", "ES256", "PS384":
		return true
	}
	return false
}

// ParsePrivateKey reads a private RSA or EC key from a JWK, a JWKS (the key
// whose kid is kid, or the only private key) or PEM (PKCS#8, PKCS#1, SEC 1).
// It returns the key and the kid the file gives, if any.
func ParsePrivateKey(raw []byte, kid string) (any, string, error) {
	key, fileKID, _, err := parsePrivateKey(raw, kid)
	return key, fileKID, err
}

// parsePrivateKey is ParsePrivateKey, also returning the alg a JWK names.
// An RSA key comes back precomputed: a key decoded from a JWK is not, and
// crypto/rsa then redoes the CRT precomputation on every signature (a
// seventh of what an RS384 assertion costs, and a run signs thousands).
func parsePrivateKey(raw []byte, kid string) (any, string, string, error) {
	key, fileKID, fileAlg, err := decodePrivateKey(raw, kid)
	if rk, ok := key.(*rsa.PrivateKey); ok && err == nil {
		rk.Precompute()
	}
	return key, fileKID, fileAlg, err
}

func decodePrivateKey(raw []byte, kid string) (any, string, string, error) {
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, "{") {
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, "", "", fmt.Errorf("invalid JSON: %w", err)
		}
		if probe.Keys != nil {
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(raw, &set); err != nil {
				return nil, "", "", fmt.Errorf("invalid JWKS: %w", err)
			}
			var found []jose.JSONWebKey
			for _, k := range set.Keys {
				if k.IsPublic() {
					continue
				}
				if kid == "" || k.KeyID == kid {
					found = append(found, k)
				}
			}
			switch {
			case len(found) == 1:
				return privateOnly(found[0])
			case kid == "":
				return nil, "", "", fmt.Errorf("JWKS holds %d private keys: set kid to choose one", len(found))
			default:
				return nil, "", "", fmt.Errorf("JWKS holds no private key with kid %q", kid)
			}
		}
		var k jose.JSONWebKey
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, "", "", fmt.Errorf("invalid JWK: %w", err)
		}
		return privateOnly(k)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, "", "", errors.New("neither a JWK, a JWKS nor PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		switch k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
			return k, "", "", nil
		}
		return nil, "", "", fmt.Errorf("PKCS#8 key of type %T is not RSA or EC", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, "", "", nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, "", "", nil
	}
	return nil, "", "", fmt.Errorf("PEM block %q is not a private RSA or EC key", block.Type)
}

func privateOnly(k jose.JSONWebKey) (any, string, string, error) {
	if k.IsPublic() {
		return nil, "", "", errors.New("the JWK is a public key; a private key is needed to sign")
	}
	switch k.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return k.Key, k.KeyID, k.Algorithm, nil
	}
	return nil, "", "", fmt.Errorf("JWK key type %T is not RSA or EC", k.Key)
}

// MaxFileBytes caps what is read of the configuration and of every file it
// names (keys, secrets, CA certificates).
const MaxFileBytes = 1 << 20

// readFile reads at most MaxFileBytes of a file: a configuration naming
// /dev/zero or a huge file gets an error, not an endless read.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileBytes)
	}
	return raw, nil
}
