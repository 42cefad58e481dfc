package reporter

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
)

// seeded is a secret planted in evidence: its value and the substrings of
// it that must never appear in redacted output (chosen so every escaping
// of the value still contains them).
type seeded struct {
	field   string
	value   string
	needles []string
}

func seedSecrets() []seeded {
	b64 := base64.RawURLEncoding.EncodeToString
	var out []seeded
	for i, f := range []string{"access_token", "refresh_token", "id_token", "client_secret", "client_assertion",
		"assertion", "code", "code_verifier", "device_code", "password"} {
		tag := string(rune('A'+i)) + string(rune('a'+i))
		n1, n2 := "Zq7"+tag+"Lm4", "Rt8"+tag+"Pw2"
		v := n1 + "/" + n2 // a slash, so JSON's \/ and \u002f escapes matter
		switch f {
		case "id_token", "client_assertion", "assertion":
			v = b64([]byte(`{"alg":"RS384","kid":"k1"}`)) + "." + b64([]byte(`{"sub":"c"}`)) + "." + n1 + "_-" + n2
		case "client_secret":
			v = n1 + `"` + n2 // a quote, escaped in JSON
		}
		out = append(out, seeded{f, v, []string{n1, n2}})
	}
	return out
}

func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRedactionCannotBeBypassed seeds every token-bearing field through
// every shape a body, URL, error or finding can take, with a fresh
// redactor that knows none of the values, and checks that no seeded
// secret substring survives Text, JSONBody or Body.
func TestRedactionCannotBeBypassed(t *testing.T) {
	shapes := []struct {
		name string
		make func(field, value string) string
	}{
		{"valid JSON", func(f, v string) string {
			return `{"token_type":"Bearer",` + jsonString(f) + `:` + jsonString(v) + `,"expires_in":300}`
		}},
		{"valid JSON, spaced and nested", func(f, v string) string {
			return "{\n  \"data\": [ { " + jsonString(f) + " : " + jsonString(v) + " } ]\n}"
		}},
		{"truncated JSON: value cut without closing quote", func(f, v string) string {
			s := `{"token_type":"Bearer",` + jsonString(f) + `:` + jsonString(v)
			return s[:len(s)-3]
		}},
		{"JSON with \\u002f escapes", func(f, v string) string {
			return `{` + jsonString(f) + `:` + strings.ReplaceAll(jsonString(v), "/", `\u002f`) + `}`
		}},
		{"JSON with \\/ escapes", func(f, v string) string {
			return `{` + jsonString(f) + `:` + strings.ReplaceAll(jsonString(v), "/", `\/`) + `}`
		}},
		{"JSON inside a JSON string", func(f, v string) string {
			inner := `{` + jsonString(f) + `:` + jsonString(v) + `}`
			return `{"body":` + jsonString(inner) + `}`
		}},
		{"JSON with \\u0022 quotes", func(f, v string) string {
			return `{\u0022` + f + `\u0022:\u0022` + v + `\u0022}`
		}},
		{"HTML with &quot;", func(f, v string) string {
			return `<html><body><pre>{&quot;` + f + `&quot;:&quot;` + strings.ReplaceAll(html.EscapeString(v), "&#34;", "&quot;") + `&quot;}</pre></body></html>`
		}},
		{"HTML with &#34;", func(f, v string) string {
			return `<p>{&#34;` + f + `&#34;: &#34;` + html.EscapeString(v) + `&#34;}</p>`
		}},
		{"HTML error page, raw JSON inside", func(f, v string) string {
			return `<h1>500</h1><p>upstream said "` + f + `":"` + v + `" and died`
		}},
		{"plain text name=value", func(f, v string) string {
			return "debug: " + f + "=" + url.QueryEscape(v) + " next=1"
		}},
		{"plain text name: value", func(f, v string) string {
			if f == "code" {
				return "debug: 'code': '" + v + "' next"
			}
			return "debug " + f + ": " + v + "\nnext line"
		}},
		{"form body", func(f, v string) string {
			return url.Values{"grant_type": {"client_credentials"}, f: {v}, "scope": {"system/*.rs"}}.Encode()
		}},
		{"form body cut mid-value", func(f, v string) string {
			s := "grant_type=client_credentials&" + f + "=" + url.QueryEscape(v)
			return s[:len(s)-2]
		}},
		{"query string", func(f, v string) string {
			return "https://app.example/cb?state=af0ifjsldkj&" + f + "=" + url.QueryEscape(v) + "#frag"
		}},
		{"percent-encoded JSON in a URL", func(f, v string) string {
			return "https://x.test/?q=" + url.QueryEscape(`{"`+f+`":"`+v+`"}`)
		}},
		{"Go error text", func(f, v string) string {
			return `json: cannot unmarshal string into Go struct field ` + f + ` of type int: "` + f + `":"` + v + `"`
		}},
	}
	for _, sec := range seedSecrets() {
		for _, sh := range shapes {
			in := sh.make(sec.field, sec.value)
			check := func(how, out string) {
				t.Helper()
				for _, n := range sec.needles {
					if strings.Contains(out, n) {
						t.Errorf("%s / %s / %s leaks %q:\n in: %s\nout: %s", sec.field, sh.name, how, n, in, out)
					}
				}
			}
			check("Text", NewRedactor().Text(in))
			check("JSONBody", NewRedactor().JSONBody(in))
			check("Body", NewRedactor().Body([]byte(in), 0))
			check("Body cut", NewRedactor().Body([]byte(in), len(in)-3))
			if i := strings.Index(in, sec.value[:4]); i > 0 {
				check("Body cut mid-value", NewRedactor().Body([]byte(in), i+6))
			}
		}
	}
}

// Any JWS, wherever it appears and whatever it is called, loses its
// signature; its header and payload stay readable. Host names and dotted
// versions are not mistaken for one.
func TestRedactionStripsEveryJWSSignature(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	jws := b64([]byte(`{"alg":"ES384"}`)) + "." + b64([]byte(`{"iss":"a","exp":1}`)) + ".Sig9NaturePart_-Xy7"
	r := NewRedactor()
	for _, in := range []string{
		"token " + jws + " in a log line",
		`{"ticket":"` + jws + `"}`,
		"<td>" + jws + "</td>",
		"x=" + jws,
	} {
		out := r.Text(in)
		if strings.Contains(out, "Sig9NaturePart") || !strings.Contains(out, jws[:strings.LastIndexByte(jws, '.')+1]+"[signature redacted]") {
			t.Errorf("JWS in %q → %q", in, out)
		}
	}
	for _, keep := range []string{"https://fhir.acme.example/r4", "version 1.2.3", "see RFC 6749 §5.2", "status code: 400", `{"code":"invalid","severity":"error"}`} {
		if out := r.Text(keep); out != keep {
			t.Errorf("ordinary text changed: %q → %q", keep, out)
		}
	}
}

// A value seen once (in a token response) is scrubbed later in every
// escaped form, where no field name announces it.
func TestRedactionScrubsSeenValuesInEveryEscaping(t *testing.T) {
	r := NewRedactor()
	tok := "opaque/Tok+en=Value99"
	_ = r.JSONBody(`{"access_token":` + jsonString(tok) + `}`)
	for _, form := range []string{tok, strings.ReplaceAll(tok, "/", `\/`), strings.ReplaceAll(tok, "/", `\u002f`),
		url.QueryEscape(tok), html.EscapeString(tok)} {
		if out := r.Text("later: " + form + " end"); strings.Contains(out, "Tok+en") || strings.Contains(out, "Tok%2Ben") {
			t.Errorf("%q → %q", form, out)
		}
	}
	// Bearer credentials in prose.
	if out := r.Text("sent Authorization: Bearer abcdefghijklmnop12345"); strings.Contains(out, "abcdefghijklmnop12345") {
		t.Errorf("bearer in text: %s", out)
	}
}

func TestRedactorBodyShowsTheFirstBytesAndSaysSo(t *testing.T) {
	r := NewRedactor()
	body := []byte(`{"access_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","token_type":"Bearer","pad":"` + strings.Repeat("é", 100) + `"}`)
	out := r.Body(body, 30)
	if strings.Contains(out, "AAAAAAAA") || !strings.Contains(out, "[redacted") || !strings.Contains(out, "of "+itoa(len(body))+" bytes are shown") {
		t.Errorf("cut body: %q", out)
	}
	if !strings.Contains(r.Text("elsewhere AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "[redacted") {
		t.Error("a token past the cut of a JSON body is not learned")
	}
	whole := r.Body([]byte(`{"token_type":"Bearer","scope":"system/*.rs"}`), 1000)
	if whole != `{"token_type":"Bearer","scope":"system/*.rs"}` {
		t.Errorf("a body without secrets changed: %q", whole)
	}
	cut := r.Body(body, 80) // inside the é run: never half a rune
	if !strings.Contains(cut, "\n… [cut") || strings.ContainsRune(cut[:strings.Index(cut, "\n…")], '\uFFFD') {
		t.Errorf("cut inside a rune: %q", cut)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
