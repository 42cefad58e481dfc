package reporter

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
	"time"
)

// JWTTimeLines renders the time claims of a decoded JWT (exp, iat, nbf, in
// that order, those present and numeric) as UTC times, each with its offset
// from the request when at is set:
//
//	exp: 2026-11-30T10:04:00Z (request + 4 min)
//
// A claim that is not a number is shown as it is, marked "not a NumericDate".
func JWTTimeLines(claims map[string]any, at time.Time) []string {
	var out []string
	for _, name := range []string{"exp", "iat", "nbf"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		secs, ok := numericDate(v)
		if !ok {
			b, _ := json.Marshal(v)
			out = append(out, fmt.Sprintf("%s: %s (not a NumericDate)", name, b))
			continue
		}
		whole, frac := math.Modf(secs)
		t := time.Unix(int64(whole), int64(frac*1e9)).UTC()
		line := name + ": " + t.Format(time.RFC3339)
		if !at.IsZero() {
			line += " (" + requestOffset(t.Sub(at)) + ")"
		}
		out = append(out, line)
	}
	return out
}

func numericDate(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0) && math.Abs(n) < 1e11
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// requestOffset reads "request + 4 min", "request − 15 min 30 s",
// "request + 2 h 5 min" or "same second as the request".
func requestOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	d = d.Round(time.Second)
	if d == 0 {
		return "same second as the request"
	}
	days, h := int(d/(24*time.Hour)), int(d/time.Hour)%24
	m, s := int(d/time.Minute)%60, int(d/time.Second)%60
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%d d", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if s > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%d s", s))
	}
	return "request " + sign + " " + strings.Join(parts, " ")
}

// Placeholder is a shell variable a curl template uses where the evidence
// holds a redacted value, and what to put in it.
type Placeholder struct {
	Name    string `json:"name"`    // CLIENT_SECRET, without the $
	Meaning string `json:"meaning"` // what the value is
}

// The redaction marks a Redactor writes: fingerprints (with nested Basic
// credentials) and JWS values whose signature was removed.
var (
	markBasic = regexp.MustCompile(`\[base64 of ([^\[\]:]*):\[redacted[^\]]*\]\]`)
	markJWS   = regexp.MustCompile(`[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.\[signature redacted\]`)
	markPlain = regexp.MustCompile(`\[redacted[^\]]*\]`)
	fieldName = regexp.MustCompile(`(?i)([a-z][a-z0-9_]*)(=|": ?"|: )$`)
)

var placeholderMeaning = map[string]string{
	"CLIENT_SECRET":    "the client's secret",
	"CLIENT_ASSERTION": "a fresh client assertion signed with the client's key (the redacted one was single-use)",
	"ASSERTION":        "a fresh assertion (the redacted one was single-use)",
	"ACCESS_TOKEN":     "an access token",
	"REFRESH_TOKEN":    "a refresh token",
	"CODE":             "an authorization code",
	"CODE_VERIFIER":    "the PKCE code verifier",
	"DEVICE_CODE":      "a device code",
	"PASSWORD":         "the password",
	"ID_TOKEN":         "an ID token",
}

// CurlTemplate turns a curl command built from redacted evidence into a
// template: each redaction mark becomes a shell variable ($CLIENT_SECRET,
// $CLIENT_ASSERTION, $ACCESS_TOKEN, $BASIC_CREDENTIALS, else $SECRET_n),
// spliced out of single quotes ('…'"$CLIENT_SECRET"'…') so the command runs
// once the variables are exported. It returns the curl unchanged and no
// placeholders when it holds no mark.
func CurlTemplate(curl string) (string, []Placeholder) {
	type span struct {
		start, end int
		name       string
		meaning    string
	}
	var spans []span
	taken := func(a, b int) bool {
		for _, s := range spans {
			if a < s.end && b > s.start {
				return true
			}
		}
		return false
	}
	if !strings.Contains(curl, "[redacted") && !strings.Contains(curl, "[signature redacted]") {
		return curl, nil // no mark: every pattern below needs one of these
	}
	var basics, jwss [][]int // markBasic and markJWS have no literal prefix: tried only when their literal is there
	if strings.Contains(curl, "[base64 of ") {
		basics = markBasic.FindAllStringSubmatchIndex(curl, -1)
	}
	if strings.Contains(curl, ".[signature redacted]") {
		jwss = markJWS.FindAllStringIndex(curl, -1)
	}
	for _, m := range basics {
		id := curl[m[2]:m[3]]
		spans = append(spans, span{m[0], m[1], "BASIC_CREDENTIALS", "base64 of " + id + ":$CLIENT_SECRET, e.g. $(printf '%s' '" + id + ":'\"$CLIENT_SECRET\" | base64 -w0)"})
	}
	named := func(start int, fallback string) string {
		before := curl[:start]
		if len(before) >= 7 && strings.EqualFold(before[len(before)-7:], "bearer ") {
			return "ACCESS_TOKEN"
		}
		if m := fieldName.FindStringSubmatch(fieldNameTail(before)); m != nil {
			n := strings.ToUpper(m[1])
			if _, ok := placeholderMeaning[n]; ok {
				return n
			}
		}
		return fallback
	}
	for _, m := range jwss {
		if !taken(m[0], m[1]) {
			spans = append(spans, span{start: m[0], end: m[1], name: named(m[0], "CLIENT_ASSERTION")})
		}
	}
	n := 0
	for _, m := range markPlain.FindAllStringIndex(curl, -1) {
		if taken(m[0], m[1]) {
			continue
		}
		name := named(m[0], "")
		if name == "" {
			n++
			name = fmt.Sprintf("SECRET_%d", n)
		}
		spans = append(spans, span{start: m[0], end: m[1], name: name})
	}
	if len(spans) == 0 {
		return curl, nil
	}
	// Replace left to right, tracking shell single quotes.
	sortSpans := func() {
		for i := 1; i < len(spans); i++ {
			for j := i; j > 0 && spans[j].start < spans[j-1].start; j-- {
				spans[j], spans[j-1] = spans[j-1], spans[j]
			}
		}
	}
	sortSpans()
	var b strings.Builder
	var ph []Placeholder
	seen := map[string]bool{}
	inQuote, pos := false, 0
	for _, s := range spans {
		inQuote = quoteState(curl[pos:s.start], inQuote)
		b.WriteString(curl[pos:s.start])
		if inQuote {
			b.WriteString(`'"$` + s.name + `"'`)
		} else {
			b.WriteString(`"$` + s.name + `"`)
		}
		pos = s.end
		if !seen[s.name] {
			seen[s.name] = true
			meaning := s.meaning
			if meaning == "" {
				meaning = placeholderMeaning[s.name]
			}
			if meaning == "" {
				meaning = "a value redacted from the evidence"
			}
			ph = append(ph, Placeholder{Name: s.name, Meaning: meaning})
		}
	}
	b.WriteString(curl[pos:])
	return b.String(), ph
}

// fieldNameTail is the end of s in which a fieldName match can lie: its
// name is a run of name bytes ending at most 4 bytes (the longest
// separator) before the end, so a match starts after the last byte before
// that which is neither a name byte nor part of a multi-byte character.
// Matching the tail gives the same name as matching s, without scanning
// the whole command again for every mark in it.
func fieldNameTail(s string) string {
	for i := len(s) - 5; i >= 0; i-- {
		c := s[i]
		if c < 0x80 && c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return s[i+1:]
		}
	}
	return s
}

// quoteState says whether a shell is inside single quotes after reading s,
// starting inside them when in is set (backslash escapes count only outside).
func quoteState(s string, in bool) bool {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			in = !in
		case s[i] == '\\' && !in:
			i++
		}
	}
	return in
}

// IndexHrefFor is the link from the HTML report in dir (relative to the
// combined run's output directory, e.g. "targets/acme") back to the
// combined index.html beside it.
func IndexHrefFor(dir string) string {
	dir = path.Clean(strings.ReplaceAll(dir, "\\", "/"))
	if dir == "." || dir == "" {
		return "index.html"
	}
	return strings.Repeat("../", strings.Count(dir, "/")+1) + "index.html"
}
