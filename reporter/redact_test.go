package reporter

import (
	"encoding/base64"
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
