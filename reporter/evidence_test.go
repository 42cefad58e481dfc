package reporter

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestJWTTimeLinesShowUTCAndTheOffsetFromTheRequest(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	claims := map[string]any{"iat": float64(at.Unix()), "exp": float64(at.Add(4 * time.Minute).Unix()),
		"nbf": float64(at.Add(-15*time.Minute - 30*time.Second).Unix()), "sub": "c"}
	got := strings.Join(JWTTimeLines(claims, at), "\n")
	want := "exp: 2026-11-30T10:04:00Z (request + 4 min)\niat: 2026-11-30T10:00:00Z (same second as the request)\nnbf: 2026-11-30T09:44:30Z (request − 15 min 30 s)"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := JWTTimeLines(map[string]any{"exp": float64(at.Add(26 * time.Hour).Unix())}, at.In(time.FixedZone("X", 3600))); got[0] != "exp: 2026-12-01T12:00:00Z (request + 1 d 2 h)" {
		t.Errorf("long offset: %q", got)
	}
	if got := JWTTimeLines(map[string]any{"exp": "tomorrow"}, time.Time{}); got[0] != `exp: "tomorrow" (not a NumericDate)` {
		t.Errorf("string exp: %q", got)
	}
	if got := JWTTimeLines(map[string]any{"exp": float64(at.Unix())}, time.Time{}); got[0] != "exp: 2026-11-30T10:00:00Z" {
		t.Errorf("no request time: %q", got)
	}
}

func TestCurlTemplateReplacesRedactionMarks(t *testing.T) {
	r := NewRedactor("s3cr3t-value-42")
	form := r.Form("grant_type=client_credentials&client_secret=s3cr3t-value-42&client_assertion=eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJhIn0.c2lnbmF0dXJl")
	basic := r.Header("Authorization", "Basic Y2xpZW50LWE6czNjcjN0LXZhbHVlLTQy") // client-a:s3cr3t-value-42
	curl := "curl -sS -i -X POST 'https://x.test/token' \\\n  -H 'Authorization: " + basic + "' \\\n  --data-raw '" + form + "'"
	tmpl, ph := CurlTemplate(curl)
	for _, want := range []string{`client_secret='"$CLIENT_SECRET"'`, `client_assertion='"$CLIENT_ASSERTION"'`, `Basic '"$BASIC_CREDENTIALS"'`} {
		if !strings.Contains(tmpl, want) {
			t.Errorf("template lacks %s:\n%s", want, tmpl)
		}
	}
	if strings.Contains(tmpl, "[redacted") || strings.Contains(tmpl, "[signature") {
		t.Errorf("a mark survived:\n%s", tmpl)
	}
	var names []string
	for _, p := range ph {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "BASIC_CREDENTIALS CLIENT_SECRET CLIENT_ASSERTION" {
		t.Errorf("placeholders %v", names)
	}
	if same, none := CurlTemplate("curl -sS 'https://x.test/.well-known/smart-configuration'"); same != "curl -sS 'https://x.test/.well-known/smart-configuration'" || none != nil {
		t.Error("a curl without marks changed")
	}
	// The template is valid shell: the variables expand.
	if sh, err := exec.LookPath("sh"); err == nil {
		out, err := exec.Command(sh, "-c", "CLIENT_SECRET=S CLIENT_ASSERTION=A; printf '%s' "+strings.SplitN(tmpl, "--data-raw ", 2)[1]).CombinedOutput()
		if err != nil || string(out) != "grant_type=client_credentials&client_secret=S&client_assertion=A" {
			t.Errorf("sh reads the template's body as %q (%v)", out, err)
		}
	}
}

func TestWriteHTMLEvidenceTimesTemplateAndIndexLink(t *testing.T) {
	r := htmlSampleReport()
	at := time.Unix(1773480413, 0).UTC()
	for i := range r.Cases {
		for j := range r.Cases[i].Exchanges {
			r.Cases[i].Exchanges[j].At = at
		}
	}
	r.Cases[2].Exchanges[1].Curl = "curl -X POST 'https://x.test/token' \\\n  --data-raw 'client_secret=[redacted len=9 hmac:0011aabb]'"
	out, doc := htmlRender(t, r)
	if text := htmlText(doc); !strings.Contains(text, "exp: 2026-03-14T09:31:53Z (request + 5 min)") || !strings.Contains(text, "iat: 2026-03-14T09:26:53Z (same second as the request)") {
		t.Error("assertion times are not shown relative to the request")
	}
	if !strings.Contains(out, "curl template (fill in the placeholders)") || !strings.Contains(out, `client_secret=&#39;&#34;$CLIENT_SECRET&#34;&#39;`) {
		t.Error("the curl template is not shown")
	}
	if md := mdRender(t, r); !strings.Contains(md, "**Assertion times** (token request): `exp: 2026-03-14T09:31:53Z (request + 5 min)`") {
		t.Errorf("the Markdown summary lacks the assertion times:\n%s", md)
	}
	if len(htmlByID(doc, "sc-back")) != 0 {
		t.Error("a single-target page links to an index")
	}
	r.IndexHref = IndexHrefFor("targets/acme-ehr")
	if r.IndexHref != "../../index.html" {
		t.Fatalf("IndexHrefFor: %q", r.IndexHref)
	}
	out, doc = htmlRender(t, r)
	if back := htmlByID(doc, "sc-back"); len(back) != 1 || !strings.Contains(out, `<a href="../../index.html">`) {
		t.Error("no link back to the index")
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil || strings.Contains(buf.String(), "index.html") {
		t.Errorf("the index link leaked into the JSON (%v)", err)
	}
}

func TestCombinedMarkdownListsEveryTarget(t *testing.T) {
	green := verdictReport("must", 3, 0, 1, 0, 0)
	green.Target.Name = "Green | EHR"
	red := verdictReport("must", 2, 2, 0, 0, 0)
	red.Target.Name = "Red"
	c := Combine([]*Report{green, red}, []string{"targets/green", "targets/red"}, 10)
	if c.Summary.Verdict != VerdictNonConformant || c.Summary.ExitCode != 1 || c.Summary.Severity.Medium != 2 || c.Summary.Severity.Low != 1 {
		t.Fatalf("combined summary %+v", c.Summary)
	}
	var buf bytes.Buffer
	if err := WriteCombinedMarkdown(&buf, c, "https://ci.example/artifacts/run-1"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## ❌ smartconform: non\\-conformant \\(1 non\\-conformant\\, 1 conformant of 2 targets\\)",
		"exit code **1** · fail-on `must`",
		"| Green \\| EHR | ✅ conformant | 0 | 3 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 1 | [report](<https://ci.example/artifacts/run-1/targets/green/report.html>) |",
		"| Red | ❌ non\\-conformant | 1 | 2 | 0 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 2 | 0 |",
		"| **All** | ❌ non\\-conformant | 1 | 5 | 1 | 2 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md)
		}
	}
	buf.Reset()
	_ = WriteCombinedMarkdown(&buf, c, "")
	if !strings.Contains(buf.String(), "`targets/green/report.html`") {
		t.Errorf("without a base the path is not shown:\n%s", buf.String())
	}
	buf.Reset()
	WriteCombinedClosing(&buf, c)
	if !strings.HasSuffix(buf.String(), "\nsmartconform: 6 passed, 2 failed, 0 skipped\n") || !strings.HasPrefix(buf.String(), "verdict: non-conformant (exit 1, fail-on must)") {
		t.Errorf("combined closing:\n%s", buf.String())
	}
	never := verdictReport("never", 1, 1, 0, 0, 0)
	if c := Combine([]*Report{green, never}, []string{"a", "b"}, 1); c.Summary.Verdict != VerdictReportOnly || c.Summary.ExitCode != 0 {
		t.Errorf("a report-only target: %+v", c.Summary)
	}
}

// fieldNameTail must not change which field name a mark is named after:
// the tail's match is the whole string's, on random commands built from
// name bytes, separators, quotes, delimiters and multi-byte letters.
func TestFieldNameTailFindsTheSameName(t *testing.T) {
	parts := []string{"a", "Z", "9", "_", "=", `"`, ":", " ", "'", "&", "-", "ſ", "K", "é", "client_secret", "x", `": "`, `":"`, ": "}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.IntN(12); k >= 0; k-- {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		whole, tail := fieldName.FindStringSubmatch(s), fieldName.FindStringSubmatch(fieldNameTail(s))
		if (whole == nil) != (tail == nil) || (whole != nil && whole[1] != tail[1]) {
			t.Fatalf("%q: whole string names %q, its tail %q", s, whole, tail)
		}
	}
}
