package reporter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
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
	secrets map[string][]string // value → the forms it is scrubbed in
	// forms are every form of every secret, longest first (then in byte
	// order), with its value's fingerprint: kept sorted by Add, not sorted
	// on every Text (a run adds each token it is issued).
	forms []scrubForm
}

type scrubForm struct{ form, fingerprint string }

// NewRedactor returns a redactor that also scrubs the given values.
func NewRedactor(secrets ...string) *Redactor {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	r := &Redactor{key: k, secrets: map[string][]string{}}
	r.Add(secrets...)
	return r
}

// Add registers values to scrub wherever they appear. Values under 6
// characters are ignored (scrubbing them would mangle ordinary text).
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var added []scrubForm
	for _, v := range values {
		if len(v) >= 6 && r.secrets[v] == nil {
			r.secrets[v] = escapedForms(v)
			fp := r.Fingerprint(v)
			for _, f := range r.secrets[v] {
				added = append(added, scrubForm{f, fp})
			}
		}
	}
	if len(added) == 0 {
		return
	}
	// One new slice per call, merged from the sorted old and new forms (an
	// insertion per form copied the whole list a dozen times per secret).
	sort.Slice(added, func(i, j int) bool { return formBefore(added[i].form, added[j].form) })
	forms := make([]scrubForm, 0, len(r.forms)+len(added))
	old := r.forms
	for len(old) > 0 || len(added) > 0 {
		if len(added) == 0 || (len(old) > 0 && formBefore(old[0].form, added[0].form)) {
			forms, old = append(forms, old[0]), old[1:]
		} else {
			forms, added = append(forms, added[0]), added[1:]
		}
	}
	r.forms = forms
}

// escapedForms are the ways a value can be written in evidence: raw, as a
// JSON string body (with / as is, as \/ and as \u002f; HTML-safe or not), as
// HTML text, and URL-encoded. Forms under 6 characters are left out.
func escapedForms(v string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if len(f) >= 6 && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	add(v)
	for _, htmlSafe := range []bool{false, true} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(htmlSafe)
		_ = enc.Encode(v)
		j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
		j = strings.TrimPrefix(j, `"`)
		add(j)
		add(strings.ReplaceAll(j, "/", `\/`))
		add(strings.ReplaceAll(j, "/", `\u002f`))
		add(strings.ReplaceAll(j, "/", `\u002F`))
	}
	add(html.EscapeString(v))
	add(strings.ReplaceAll(html.EscapeString(v), "&#34;", "&quot;"))
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	return out
}

// Fingerprint stands for a secret value in evidence.
func (r *Redactor) Fingerprint(v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return fmt.Sprintf("[redacted len=%d hmac:%s]", len(v), hex.EncodeToString(m.Sum(nil))[:8])
}

// Text scrubs s, whatever its shape (JSON whole, cut or escaped inside
// another string; HTML; a form or query string; plain text):
//
//   - the value of every token-bearing field (see tokenFields) written as
//     "name":"value", name=value, name: value, with the quotes raw,
//     backslash-escaped, \u0022, %22 or as HTML entities, and a value cut
//     short (no closing quote) up to the end of s; each value found is also
//     registered, so it is scrubbed wherever else it appears;
//   - every registered value, raw and in its JSON-, HTML- and URL-escaped
//     forms;
//   - the signature of anything shaped like a JWS (a base64url JSON header,
//     a payload and a signature);
//   - Bearer and Basic credentials written out in text.
func (r *Redactor) Text(s string) string {
	s = r.fields(s)
	forms := r.scrubForms()
	// Longest first: those longer than s cannot be in it (a replacement
	// below only adds mark text, which holds no secret).
	from := sort.Search(len(forms), func(i int) bool { return len(forms[i].form) <= len(s) })
	for _, v := range forms[from:] {
		if strings.Contains(s, v.form) {
			s = strings.ReplaceAll(s, v.form, v.fingerprint)
		}
	}
	s = replaceJWSShaped(s, func(m string) string {
		if !looksLikeJWS(m) {
			return m
		}
		return m[:strings.LastIndexByte(m, '.')+1] + "[signature redacted]"
	})
	if !mayHoldCredentials(s) {
		return s
	}
	s = authPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := authPattern.FindStringSubmatch(m)
		if strings.HasPrefix(strings.ToLower(sub[1]), "basic") {
			return sub[1] + r.basic(sub[2])
		}
		return sub[1] + r.JWT(sub[2])
	})
	return s
}

// scrubForms returns the forms of every registered value, longest first,
// so that a longer secret is scrubbed whole before a shorter one that
// overlaps it. The slice is never changed in place (Add makes a new one),
// so it is read without the lock.
func (r *Redactor) scrubForms() []scrubForm {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.forms
}

// formBefore is the order of scrubForms: longer first, then byte order.
func formBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a < b
}

// Body redacts a body of which at most limit bytes are shown (all of it
// when limit <= 0): a whole JSON body through JSONBody, anything else, or
// the first limit bytes of a longer body (cut at a UTF-8 boundary), through
// Text, which also catches a token value cut off by the limit. A cut body
// ends with a note of how much is shown.
func (r *Redactor) Body(raw []byte, limit int) string {
	if limit <= 0 || len(raw) <= limit {
		return r.JSONBody(string(raw))
	}
	cut := limit
	for cut > 0 && cut < len(raw) && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	r.learn(raw) // a token past the cut may still be echoed elsewhere
	return r.Text(string(raw[:cut])) + fmt.Sprintf("\n… [cut: the first %d of %d bytes are shown]", cut, len(raw))
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
	"client_secret": true, "code": true, "code_verifier": true, "password": true, "device_code": true,
	"refresh_token": true, "access_token": true, "id_token": true, "token": true,
}

var jwtFormFields = map[string]bool{"client_assertion": true, "assertion": true}

// Value redacts one form or query parameter by name.
func (r *Redactor) Value(name, v string) string {
	switch {
	case secretFormFields[name]:
		r.Add(v)
		return r.Fingerprint(v)
	case jwtFormFields[name]:
		r.addSecret(fieldJWT, v)
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
			r.Add(strings.TrimSpace(cred))
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

// JSONBody redacts a response or request body. A JSON body's token-bearing
// members, at any depth, are registered (so their values are scrubbed
// wherever else they appear); then the body, JSON or not, whole or cut, is
// scrubbed as text (Text), which keeps its order and layout.
func (r *Redactor) JSONBody(body string) string {
	r.learn([]byte(body))
	return r.Text(body)
}

// addSecret registers a value found in a token-bearing field: the
// signature of a JWS in a JWT field (its header and payload stay readable
// wherever they appear), else the whole value.
func (r *Redactor) addSecret(kind fieldKind, v string) {
	if kind == fieldJWT && strings.Count(v, ".") == 2 {
		r.Add(v[strings.LastIndexByte(v, '.')+1:])
		return
	}
	r.Add(v)
}

// learn registers the token-bearing string members of a JSON document.
func (r *Redactor) learn(raw []byte) {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, m := range t {
				if s, ok := m.(string); ok && tokenFields[strings.ToLower(k)] != fieldNone {
					r.addSecret(tokenFields[strings.ToLower(k)], s)
				}
				walk(m)
			}
		case []any:
			for _, m := range t {
				walk(m)
			}
		}
	}
	walk(doc)
}

type fieldKind int

const (
	fieldNone   fieldKind = iota
	fieldSecret           // fingerprinted whole
	fieldJWT              // a JWS keeps its header and payload
)

// tokenFields are the names whose values Text redacts in every shape.
var tokenFields = map[string]fieldKind{
	"access_token": fieldSecret, "refresh_token": fieldSecret, "id_token": fieldSecret,
	"client_secret": fieldSecret, "code": fieldSecret, "code_verifier": fieldSecret,
	"device_code": fieldSecret, "password": fieldSecret,
	"client_assertion": fieldJWT, "assertion": fieldJWT,
}

// quoteTokens open or close a quoted name or value, longest first: raw,
// backslash-escaped once or twice, \u0022, HTML entities, %22, and '.
var quoteTokens = []string{`\\\"`, `\u0022`, `&quot;`, `&#x22;`, `&#34;`, `\"`, `%22`, `"`, `'`}

func quoteAt(s string, i int) string {
	for _, q := range quoteTokens {
		if strings.HasPrefix(s[i:], q) || (len(q) > 1 && len(s)-i >= len(q) && strings.EqualFold(s[i:i+len(q)], q)) {
			return s[i : i+len(q)]
		}
	}
	return ""
}

// fields redacts the value of every token-bearing field in s.
func (r *Redactor) fields(s string) string {
	lower := asciiLower(s)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := lower[i]
		if c < 'a' || c > 'z' {
			continue
		}
		if i > 0 && (isWordByte(lower[i-1]) && !(lower[i-1] >= '0' && lower[i-1] <= '9')) {
			continue
		}
		j := i
		for j < len(s) && isWordByte(lower[j]) {
			j++
		}
		name := lower[i:j]
		kind := tokenFields[name]
		if kind == fieldNone {
			// A name glued to an escape that ends in a digit: \u0022name, %22name.
			for f, k := range tokenFields {
				if n := len(name) - len(f); n > 0 && strings.HasSuffix(name, f) && name[n-1] >= '0' && name[n-1] <= '9' {
					name, kind = f, k
					break
				}
			}
		}
		if kind == fieldNone {
			i = j - 1
			continue
		}
		vs, ve, ok := fieldValue(s, j, name)
		if !ok {
			i = j - 1
			continue
		}
		v := s[vs:ve]
		b.WriteString(s[last:vs])
		for _, u := range append([]string{v}, unescapings(v)...) {
			r.addSecret(kind, u)
		}
		if kind == fieldJWT && strings.Count(v, ".") == 2 {
			b.WriteString(r.JWT(v))
		} else {
			b.WriteString(r.Fingerprint(v))
		}
		last = ve
		i = ve - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// fieldValue finds the value after a field name ending at j: an optional
// closing quote, a separator (: or = or their %-encodings), and a quoted
// value (up to its closing quote, or the end of s when it was cut) or an
// unquoted one (a run of token characters). A quoted name takes only a
// quoted value (a number or null is no secret); "code" takes ": value" only
// when quoted, so prose like "status code: 400" stays.
func fieldValue(s string, j int, name string) (int, int, bool) {
	k := j
	keyQuote := quoteAt(s, k)
	k += len(keyQuote)
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	sep := ""
	switch {
	case k < len(s) && (s[k] == ':' || s[k] == '='):
		sep = s[k : k+1]
	case len(s)-k >= 3 && (strings.EqualFold(s[k:k+3], "%3A") || strings.EqualFold(s[k:k+3], "%3D")):
		sep = s[k : k+3]
	default:
		return 0, 0, false
	}
	k += len(sep)
	if sep[0] == ':' && keyQuote == "" && name == "code" {
		return 0, 0, false
	}
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	q := quoteAt(s, k)
	if q == "" {
		if keyQuote != "" && keyQuote != "'" {
			return 0, 0, false
		}
		// A quote inside the run (not at its end) belongs to the value.
		e := k
		for e < len(s) {
			switch {
			case strings.HasPrefix(s[e:], `\"`) && endsValue(s, e+2):
			case isTokenByte(s[e]):
				e++
				continue
			case (s[e] == '"' || s[e] == '\'') && e+1 < len(s) && isTokenByte(s[e+1]):
				e++
				continue
			}
			break
		}
		if e == k || alreadyRedacted(s[k:e]) || (name == "code" && !looksLikeCode(s[k:e])) {
			return 0, 0, false
		}
		return k, e, true
	}
	vs := k + len(q)
	ve := closingQuote(s, vs, q)
	if ve == vs || alreadyRedacted(s[vs:ve]) || (name == "code" && !looksLikeCode(s[vs:ve])) {
		return 0, 0, false
	}
	return vs, ve, true
}

// closingQuote finds where a value opened by quote q ends: at a q that is
// not backslash-escaped and is followed by what can follow a value (a
// separator, a bracket, a quote, space or the end), or at the end of s when
// the value was cut.
func closingQuote(s string, i int, q string) int {
	for i < len(s) {
		if q == `"` && s[i] == '\\' {
			i += 2
			continue
		}
		if strings.HasPrefix(s[i:], q) || (len(q) > 1 && len(s)-i >= len(q) && strings.EqualFold(s[i:i+len(q)], q)) {
			if endsValue(s, i+len(q)) {
				return i
			}
		}
		i++
	}
	return len(s)
}

func endsValue(s string, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) {
		return true
	}
	return strings.IndexByte(",}]);&<>\"'\\\r\n", s[i]) >= 0
}

// looksLikeCode tells an authorization or device code from an
// OperationOutcome issue code or an error word ("invalid", "not-found"):
// a code to redact has a digit, an upper-case letter or other punctuation,
// or is longer than 20 characters.
func looksLikeCode(v string) bool {
	if len(v) > 20 {
		return true
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z') && c != '-' && c != '_' {
			return true
		}
	}
	return false
}

func alreadyRedacted(v string) bool {
	return strings.HasPrefix(v, "[redacted") || strings.HasPrefix(v, "[base64 of") || strings.HasPrefix(v, "[signature redacted")
}

// unescapings are the decoded forms of a value found escaped in text.
func unescapings(v string) []string {
	var out []string
	var j string
	if json.Unmarshal([]byte(`"`+v+`"`), &j) == nil && j != v {
		out = append(out, j)
	}
	if h := html.UnescapeString(v); h != v {
		out = append(out, h)
	}
	if u, err := url.QueryUnescape(v); err == nil && u != v {
		out = append(out, u)
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// isTokenByte: what an unquoted secret is made of (base64, base64url, a
// JWS, percent-encoding, JSON escapes).
func isTokenByte(c byte) bool {
	return isWordByte(c) || strings.IndexByte("-.~+/=%\\:", c) >= 0
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// jwsPattern matches three base64url segments; looksLikeJWS checks that the
// first is a JSON object, so host names and version numbers stay.
var jwsPattern = regexp.MustCompile(`[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+`)

// replaceJWSShaped is jwsPattern.ReplaceAllStringFunc(s, f) without the
// regexp engine, which tried the pattern at every byte of every piece of
// evidence (a tenth of a many-target run's time). Every segment is a
// maximal run of base64url bytes (backtracking into one cannot put a '.'
// after it), so a match starts only where a run starts, and a run that
// does not start one lets the scan skip to its end. The regexp stays the
// definition: a test holds the two to the same answers.
func replaceJWSShaped(s string, f func(string) string) string {
	run := func(i int) int {
		for i < len(s) && isB64URLByte(s[i]) {
			i++
		}
		return i
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isB64URLByte(s[i]) {
			i++
			continue
		}
		r1 := run(i)
		if r1-i >= 4 && r1 < len(s) && s[r1] == '.' {
			if r2 := run(r1 + 1); r2 < len(s) && s[r2] == '.' {
				if r3 := run(r2 + 1); r3 > r2+1 {
					b.WriteString(s[last:i])
					b.WriteString(f(s[i:r3]))
					last, i = r3, r3
					continue
				}
			}
		}
		i = r1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isB64URLByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// mayHoldCredentials is false when authPattern cannot match s: s holds
// neither "bearer" nor "basic" in any case (nor U+017F, which (?i) folds
// to s).
func mayHoldCredentials(s string) bool {
	if strings.Contains(s, "ſ") {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 == 'b' && ((len(s)-i >= 6 && strings.EqualFold(s[i:i+6], "bearer")) || (len(s)-i >= 5 && strings.EqualFold(s[i:i+5], "basic"))) {
			return true
		}
	}
	return false
}

func looksLikeJWS(m string) bool {
	head, _, _ := strings.Cut(m, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(head[:len(head)/4*4])
		if err != nil {
			return false
		}
	}
	return strings.HasPrefix(strings.TrimLeft(string(raw), " \t\r\n"), "{")
}

// authPattern matches credentials written out: "Bearer xyz", "Basic xyz".
var authPattern = regexp.MustCompile(`((?i:bearer|basic)\s+)([A-Za-z0-9\-._~+/]{12,}=*)`)
