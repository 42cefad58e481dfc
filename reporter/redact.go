package reporter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Redactor removes secrets from evidence before it enters the model: client
// secrets, assertion signatures, access and refresh tokens, and any value
// registered with Add wherever it appears. Redacted values keep a keyed
// fingerprint (HMAC-SHA256 under a per-run key, first 8 hex digits) so that
// one value can be followed across a report without being revealed or
// brute-forced offline.
type Redactor struct {
	mu      sync.RWMutex
	key     []byte
	secrets map[string]bool
}

// NewRedactor returns a redactor that also scrubs the given values.
func NewRedactor(secrets ...string) *Redactor {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	r := &Redactor{key: k, secrets: map[string]bool{}}
	r.Add(secrets...)
	return r
}

// Add registers values to scrub wherever they appear. Values under 6
// characters are ignored (scrubbing them would mangle ordinary text).
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 6 {
			r.secrets[v] = true
		}
	}
}

// Fingerprint stands for a secret value in evidence.
func (r *Redactor) Fingerprint(v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return fmt.Sprintf("[redacted len=%d hmac:%s]", len(v), hex.EncodeToString(m.Sum(nil))[:8])
}

// Text scrubs every registered value from s.
func (r *Redactor) Text(s string) string {
	r.mu.RLock()
	vals := make([]string, 0, len(r.secrets))
	for v := range r.secrets {
		vals = append(vals, v)
	}
	r.mu.RUnlock()
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, r.Fingerprint(v))
		}
	}
	return s
}

// JWT keeps a compact JWS readable (header and claims are not secret) and
// replaces its signature; anything not shaped like a JWS is fingerprinted.
func (r *Redactor) JWT(compact string) string {
	i := strings.LastIndexByte(compact, '.')
	if strings.Count(compact, ".") != 2 || i < 0 {
		return r.Fingerprint(compact)
	}
	if i == len(compact)-1 {
		return compact // unsecured JWS: there is no signature to hide
	}
	return compact[:i+1] + "[signature redacted]"
}

var secretFormFields = map[string]bool{
	"client_secret": true, "code": true, "code_verifier": true, "password": true,
	"refresh_token": true, "access_token": true, "token": true,
}

var jwtFormFields = map[string]bool{"client_assertion": true, "assertion": true}

// Value redacts one form or query parameter by name.
func (r *Redactor) Value(name, v string) string {
	switch {
	case secretFormFields[name]:
		return r.Fingerprint(v)
	case jwtFormFields[name]:
		return r.JWT(v)
	}
	return r.Text(v)
}

// Form redacts an application/x-www-form-urlencoded body, keeping its order
// and repeated keys; a body that does not parse is scrubbed as text.
func (r *Redactor) Form(body string) string {
	if body == "" {
		return ""
	}
	var out []string
	for _, pair := range strings.Split(body, "&") {
		k, v, hasEq := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			out = append(out, r.Text(pair))
			continue
		}
		if !hasEq {
			out = append(out, r.Text(pair))
			continue
		}
		out = append(out, url.QueryEscape(name)+"="+escapeKeepingMarks(r.Value(name, val)))
	}
	return strings.Join(out, "&")
}

// escapeKeepingMarks query-escapes but leaves the redaction marks readable.
func escapeKeepingMarks(v string) string {
	if strings.Contains(v, "[") {
		return v
	}
	return url.QueryEscape(v)
}

// URL redacts secret query parameters of a URL.
func (r *Redactor) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return r.Text(raw)
	}
	u.RawQuery = r.Form(u.RawQuery)
	return r.Text(u.String())
}

// Header redacts one header value by header name.
func (r *Redactor) Header(name, value string) string {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		scheme, cred, ok := strings.Cut(value, " ")
		if !ok {
			return r.Fingerprint(value)
		}
		switch strings.ToLower(scheme) {
		case "basic":
			return scheme + " " + r.basic(cred)
		case "bearer":
			return scheme + " " + r.JWT(strings.TrimSpace(cred))
		}
		return scheme + " " + r.Fingerprint(cred)
	case "cookie", "set-cookie", "dpop":
		return r.Fingerprint(value)
	}
	return r.Text(value)
}

// basic shows the client id of Basic credentials and hides the secret.
func (r *Redactor) basic(cred string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return r.Fingerprint(cred)
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return r.Fingerprint(cred)
	}
	return fmt.Sprintf("[base64 of %s:%s]", r.Text(id), r.Fingerprint(secret))
}

var secretJSONFields = map[string]bool{"access_token": true, "refresh_token": true, "id_token": true, "client_secret": true}

// JSONBody redacts token members of a JSON response body (registering their
// values, so they are scrubbed wherever else they appear); any other body is
// scrubbed as text.
func (r *Redactor) JSONBody(body string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(body), &obj) != nil {
		return r.Text(body)
	}
	changed := false
	for k, v := range obj {
		if s, ok := v.(string); ok && secretJSONFields[k] {
			r.Add(s)
			obj[k] = r.Fingerprint(s)
			changed = true
		}
	}
	if !changed {
		return r.Text(body)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return r.Text(body)
	}
	return r.Text(string(out))
}
