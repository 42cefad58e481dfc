package reporter

import (
	"encoding/base64"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorHidesSecretsAndKeepsWhatIsUseful(t *testing.T) {
	secret := "s3cr3t-value-42"
	r := NewRedactor(secret)
	jwt := "eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJhIn0.c2lnbmF0dXJl"

	form := url.Values{"client_secret": {secret}, "client_assertion": {jwt}, "scope": {"system/*.rs"}, "note": {"contains " + secret}}.Encode()
	got := r.Form(form)
	for _, leak := range []string{secret, "c2lnbmF0dXJl"} {
		if strings.Contains(got, leak) {
			t.Errorf("form leaks %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, "eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJhIn0.") || !strings.Contains(got, "scope=system%2F%2A.rs") {
		t.Errorf("form lost what is not secret: %s", got)
	}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("client-a:"+secret))
	if h := r.Header("Authorization", basic); strings.Contains(h, secret) || !strings.Contains(h, "client-a") {
		t.Errorf("basic header: %s", h)
	}
	if h := r.Header("Authorization", "Bearer "+jwt); strings.Contains(h, "c2lnbmF0dXJl") {
		t.Errorf("bearer header: %s", h)
	}

	body := `{"access_token":"tok-abcdefgh-123","token_type":"Bearer"}`
	red := r.JSONBody(body)
	if strings.Contains(red, "tok-abcdefgh-123") || !strings.Contains(red, "Bearer") {
		t.Errorf("token body: %s", red)
	}
	// Once seen, the access token is scrubbed wherever it appears.
	if strings.Contains(r.Text("later: tok-abcdefgh-123"), "tok-abcdefgh-123") {
		t.Error("a token seen in a response is not scrubbed elsewhere")
	}
	if r.Fingerprint(secret) != r.Fingerprint(secret) || r.Fingerprint(secret) == NewRedactor().Fingerprint(secret) {
		t.Error("fingerprints must be stable within a run and keyed per run")
	}
	if u := r.URL("https://x.test/token?client_secret=" + secret); strings.Contains(u, secret) {
		t.Errorf("url: %s", u)
	}
}

// The scanners that stand in for jwsPattern and authPattern in Text give
// the patterns' answers, on random text built from base64url runs, dots,
// JWS headers, credentials words and delimiters.
func TestScannersAgreeWithThePatterns(t *testing.T) {
	parts := []string{"a", "Zz9", "_-", "eyJhbGciOiJSUzM4NCJ9", "abcd", ".", "..", " ", "\"", "=", "/", "é", "ſ",
		"Bearer ", "basic  ", "BASIC\t", "bearer", "baſic ", "0123456789abcdef", "x.y", "127.0.0.1", "+~"}
	rng := rand.New(rand.NewPCG(3, 4))
	mark := func(m string) string { return "<" + m + ">" }
	for n := 0; n < 50000; n++ {
		var b strings.Builder
		for k := rng.IntN(16); k >= 0; k-- {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		if got, want := replaceJWSShaped(s, mark), jwsPattern.ReplaceAllStringFunc(s, mark); got != want {
			t.Fatalf("%q: scanner %q, pattern %q", s, got, want)
		}
		if !mayHoldCredentials(s) && authPattern.MatchString(s) {
			t.Fatalf("%q: the pattern matches but the prefilter skips it", s)
		}
	}
}

// Add keeps every form of every secret, in scrubbing order (longest first,
// then byte order), however the secrets arrive.
func TestAddKeepsTheFormsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := NewRedactor()
	want, seen := 0, map[string]bool{}
	for n := 0; n < 300; n++ {
		var batch []string
		for k := rng.IntN(3); k >= 0; k-- {
			v := make([]byte, 6+rng.IntN(30))
			for i := range v {
				v[i] = "ab/+ \"<&xyz0123"[rng.IntN(15)]
			}
			batch = append(batch, string(v))
		}
		for _, v := range batch {
			if !seen[v] {
				seen[v] = true
				want += len(escapedForms(v))
			}
		}
		r.Add(batch...)
	}
	if len(r.forms) != want {
		t.Fatalf("%d forms kept, want %d", len(r.forms), want)
	}
	for i := 1; i < len(r.forms); i++ {
		if formBefore(r.forms[i].form, r.forms[i-1].form) {
			t.Fatalf("forms %d and %d out of order: %q before %q", i-1, i, r.forms[i-1].form, r.forms[i].form)
		}
	}
}
