package reporter

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Hostile strings a server under test could send back.
const (
	htmlHostileBody   = `{"error":"invalid_client","error_description":"</pre><script>alert(1)</script>"}`
	htmlHostileDesc   = `bad "kid" '><img src=x onerror=alert(2)></textarea><script>alert(3)</script>`
	htmlHostileHeader = `</textarea><svg onload=alert(4)>`
	htmlHostileError  = `Post "https://auth.acme.example/oauth2/token": remote error: <iframe src="https://evil.example/">`
)

func htmlSampleReport() *Report {
	start := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	token := "https://auth.acme.example/oauth2/token"
	refAsymAuth := Ref{Label: "SMART App Launch 2.2 Asymmetric client auth: Authenticating to the Token endpoint",
		URL: "https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html#authenticating-to-the-token-endpoint"}
	refAsymVerify := Ref{Label: "SMART App Launch 2.2 Asymmetric client auth: Signature Verification",
		URL: "https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html#signature-verification"}
	refWellKnown := Ref{Label: "SMART App Launch 2.2 Conformance: Using well-known",
		URL: "https://hl7.org/fhir/smart-app-launch/conformance.html#using-well-known"}
	ref6749Auth := Ref{Label: "RFC 6749 §2.3.1", URL: "https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1"}
	ref6749Err := Ref{Label: "RFC 6749 §5.2", URL: "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"}
	ref7523 := Ref{Label: "RFC 7523 §3", URL: "https://www.rfc-editor.org/rfc/rfc7523#section-3"}
	ref8725 := Ref{Label: "RFC 8725 §3.1", URL: "https://www.rfc-editor.org/rfc/rfc8725#section-3.1"}

	form := "grant_type=client_credentials&scope=system%2F%2A.rs&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=%5BJWT+sha256%3A3f9a%E2%80%A6%5D"
	reqHeaders := []Header{
		{Name: "Accept", Value: "application/json"},
		{Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
		{Name: "User-Agent", Value: "smartconform/0.9.0"},
	}
	assertion := func(kid, alg string) *JWT {
		return &JWT{
			Header: map[string]any{"alg": alg, "kid": kid, "typ": "JWT"},
			Claims: map[string]any{"iss": "acme-backend", "sub": "acme-backend", "aud": token,
				"exp": 1773480713, "jti": "6c1f0a9e-<script>-b7", "iat": 1773480413},
		}
	}
	curl := func(body string) string {
		return "curl -sS -i -X POST '" + token + "' \\\n  -H 'Accept: application/json' \\\n  -H 'Content-Type: application/x-www-form-urlencoded' \\\n  --data-raw '" + body + "'"
	}
	okToken := Exchange{Label: "token request", Method: "POST", URL: token, RequestHeaders: reqHeaders, RequestBody: form,
		Status: 200, ResponseHeaders: []Header{{Name: "Cache-Control", Value: "no-store"}, {Name: "Content-Type", Value: "application/json"}},
		ResponseBody: `{"access_token":"[redacted sha256:9b1c…]","token_type":"Bearer","expires_in":300,"scope":"system/*.rs"}`,
		DurationMs:   41.7, Assertion: assertion("key-rs384-1", "RS384"), Curl: curl(form)}
	discovery := Exchange{Label: "discovery", Method: "GET", URL: "https://fhir.acme.example/r4/.well-known/smart-configuration",
		RequestHeaders: []Header{{Name: "Accept", Value: "application/json"}}, Status: 200,
		ResponseHeaders: []Header{{Name: "Content-Type", Value: "application/json"}},
		ResponseBody:    `{"token_endpoint":"` + token + `","token_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic"],"token_endpoint_auth_signing_alg_values_supported":["RS384","ES384"]}`,
		DurationMs:      12.2, Curl: "curl -sS -i -X GET 'https://fhir.acme.example/r4/.well-known/smart-configuration' \\\n  -H 'Accept: application/json'"}

	r := &Report{
		SchemaVersion:   SchemaVersion,
		Tool:            Tool{Name: "smartconform", Version: "0.9.0"},
		TestPlanVersion: "2026.03",
		Target: Target{Name: "Acme EHR staging", FHIRBaseURL: "https://fhir.acme.example/r4", TokenEndpoint: token,
			InsecureSkipVerify: true},
		Run:       RunInfo{Start: start, DurationMs: 4821.5, Profile: "backend-services", Strict: true, Focus: []string{"ASYM"}},
		Notes:     []string{"TLS verification switched off (--insecure): certificates were not checked, so this run says nothing about the server's TLS."},
		Generated: start.Add(5 * time.Second),
		Cases: []Case{
			{ID: "DISC-01", Title: "Discovery document is served", Area: "discovery", Level: "MUST", Polarity: "positive",
				Requirement: "GET [base]/.well-known/smart-configuration returns 200 with a JSON object.",
				Refs:        []Ref{refWellKnown}, Status: Passed, DurationMs: 12.9, Labels: []string{"discovery"}, Exchanges: []Exchange{discovery}},
			{ID: "ASYM-POS-01", Title: "A valid RS384 client assertion is accepted", Area: "private_key_jwt", Method: "private_key_jwt",
				Level: "MUST", Polarity: "positive", Requirement: "A client_credentials request authenticated by a valid RS384-signed assertion gets an access token.",
				Refs: []Ref{refAsymAuth, refAsymVerify}, Policy: "AMB-ASYM-6: each algorithm the server advertises must work.",
				Hint: "Check the registered JWKS.", Status: Passed, DurationMs: 44.1, Exchanges: []Exchange{okToken}},
			{ID: "ASYM-KID-01", Title: "An assertion signed with an unregistered kid is refused", Area: "private_key_jwt", Method: "private_key_jwt",
				Level: "MUST", Polarity: "negative", Requirement: "A client assertion whose kid matches no registered key is refused with 400 or 401 and error=invalid_client.",
				Refs: []Ref{refAsymVerify, ref6749Err}, Status: Failed, DurationMs: 51.3,
				Hint: "The server most likely falls back to trying every key, or skips verification when the kid is unknown.",
				Findings: []Finding{
					{Level: "MUST", Check: "HTTP status", Expected: "400 or 401", Actual: "200"},
					{Level: "MUST", Check: "error", Expected: "invalid_client", Actual: "(no error member)"},
				},
				Exchanges: []Exchange{discovery, func() Exchange {
					e := okToken
					e.Assertion = assertion("unregistered-kid", "RS384")
					return e
				}()}},
			{ID: "ASYM-ERR-02", Title: "An expired assertion is refused with invalid_client", Area: "private_key_jwt", Method: "private_key_jwt",
				Level: "MUST", Polarity: "negative", Requirement: "An assertion whose exp is in the past is refused with error=invalid_client.",
				Refs: []Ref{refAsymAuth, ref7523, ref6749Err}, Status: Failed, DurationMs: 38.0,
				Findings: []Finding{{Level: "MUST", Check: "error_description is plain text", Expected: "invalid_client", Actual: htmlHostileDesc}},
				Exchanges: []Exchange{{Label: "token request (expired)", Method: "POST", URL: token, RequestHeaders: reqHeaders,
					RequestBody: form, Status: 400,
					ResponseHeaders: []Header{{Name: "Content-Type", Value: "text/html"}, {Name: "X-Debug", Value: htmlHostileHeader}},
					ResponseBody:    htmlHostileBody, DurationMs: 22.4, Assertion: assertion("key-rs384-1", "RS384"), Curl: curl(form)}}},
			{ID: "SYM-BASIC-01", Title: "client_secret_basic is accepted", Area: "client_secret", Method: "client_secret_basic",
				Level: "MUST", Polarity: "positive", Requirement: "A client issued a secret authenticates with HTTP Basic.",
				Refs: []Ref{ref6749Auth}, Status: Errored, DurationMs: 3001,
				Reason: "The token endpoint did not answer: " + htmlHostileError,
				Exchanges: []Exchange{{Label: "token request (Basic)", Method: "POST", URL: token,
					RequestHeaders: []Header{{Name: "Authorization", Value: "Basic [redacted sha256:77aa…]"}},
					RequestBody:    "grant_type=client_credentials", Error: htmlHostileError, DurationMs: 3000,
					Curl: "curl -sS -i -X POST '" + token + "' \\\n  -H 'Authorization: Basic [redacted sha256:77aa…]' \\\n  --data-raw 'grant_type=client_credentials'"}}},
			{ID: "ASYM-ALG-02", Title: "Discovery lists the signing algorithms", Area: "discovery", Level: "SHOULD", Polarity: "positive",
				Requirement: "The discovery document SHOULD list token_endpoint_auth_signing_alg_values_supported without none.",
				Refs:        []Ref{refWellKnown, ref8725}, Status: Warned, DurationMs: 0.4,
				Findings: []Finding{{Level: "SHOULD", Check: "alg list excludes none", Expected: `["RS384","ES384"]`, Actual: `["RS384","ES384","none"]`}},
				Hint:     "Remove none from the advertised algorithms."},
			{ID: "ASYM-POS-02", Title: "A valid ES384 client assertion is accepted", Area: "private_key_jwt", Method: "private_key_jwt",
				Level: "MUST", Polarity: "positive", Requirement: "A valid ES384-signed assertion gets an access token when ES384 is advertised.",
				Refs: []Ref{refAsymAuth}, Status: NotRun, Reason: "prerequisite ASYM-KID-01 failed"},
			{ID: "SYM-POST-01", Title: "client_secret_post is accepted where advertised", Area: "client_secret", Method: "client_secret_post",
				Level: "SHOULD", Polarity: "positive", Requirement: "A client may send its secret in the form body when the server advertises client_secret_post.",
				Refs: []Ref{ref6749Auth}, Status: Skipped, Reason: "the server does not advertise client_secret_post"},
			{ID: "PUB-01", Title: "Public clients get no client-credentials token", Area: "public", Level: "MUST", Polarity: "negative",
				Requirement: "A client_credentials request without client authentication is refused.",
				Refs:        []Ref{ref6749Err}, Status: Skipped, Reason: "no public client is configured"},
			{ID: "DISC-02", Title: "Discovery names the token endpoint", Area: "discovery", Level: "MUST", Polarity: "positive",
				Requirement: "The discovery document has token_endpoint, an absolute https URL.", Refs: []Ref{refWellKnown}, Status: Passed},
		},
	}
	r.Summarize()
	return r
}

func htmlRender(t *testing.T, r *Report) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	out := buf.String()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the page does not parse as HTML: %v", err)
	}
	return out, doc
}

func htmlAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func htmlHasClass(n *html.Node, class string) bool {
	c, _ := htmlAttr(n, "class")
	return slices.Contains(strings.Fields(c), class)
}

func htmlFindAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func htmlElems(n *html.Node, a atom.Atom) []*html.Node {
	return htmlFindAll(n, func(n *html.Node) bool { return n.DataAtom == a })
}

func htmlText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func htmlByID(doc *html.Node, id string) []*html.Node {
	return htmlFindAll(doc, func(n *html.Node) bool { v, ok := htmlAttr(n, "id"); return ok && v == id })
}

func TestWriteHTMLParsesAsHTML(t *testing.T) {
	r := htmlSampleReport()
	out, doc := htmlRender(t, r)

	if !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("the page does not start with <!DOCTYPE html>")
	}
	// The tokenizer must reach the end of the page without an error.
	z := html.NewTokenizer(strings.NewReader(out))
	for z.Next() != html.ErrorToken {
	}
	if err := z.Err(); err != io.EOF {
		t.Errorf("tokenizer: %v", err)
	}
	for _, a := range []atom.Atom{atom.Html, atom.Head, atom.Body, atom.Title, atom.Main} {
		if n := len(htmlElems(doc, a)); n != 1 {
			t.Errorf("%d <%s> elements, want 1", n, a)
		}
	}
	// The structure survives the hostile content: every case is an
	// <article> inside the cases section, and the page ends with its footer
	// and script.
	sections := htmlByID(doc, "sc-cases")
	if len(sections) != 1 {
		t.Fatalf("no single #sc-cases section")
	}
	arts := htmlFindAll(sections[0], func(n *html.Node) bool { return n.DataAtom == atom.Article && htmlHasClass(n, "case") })
	if len(arts) != len(r.Cases) {
		t.Errorf("%d case articles inside #sc-cases, want %d", len(arts), len(r.Cases))
	}
	body := htmlElems(doc, atom.Body)[0]
	var last *html.Node
	for c := body.LastChild; c != nil; c = c.PrevSibling {
		if c.Type == html.ElementNode {
			last = c
			break
		}
	}
	if last == nil || last.DataAtom != atom.Script {
		t.Errorf("the body's last element is not the report script")
	}
	if len(htmlElems(doc, atom.Footer)) != 1 {
		t.Errorf("the footer is missing or duplicated")
	}
}

func TestWriteHTMLEscapesServerContent(t *testing.T) {
	r := htmlSampleReport()
	out, doc := htmlRender(t, r)

	for _, raw := range []string{"<script>alert(", "<img src=x", "<svg onload", "<iframe", "</textarea><", "</pre><script>"} {
		if strings.Contains(out, raw) {
			t.Errorf("the page contains %q unescaped", raw)
		}
	}
	for _, esc := range []string{
		"&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
		"&lt;img src=x onerror=alert(2)&gt;&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;",
		"&lt;/textarea&gt;&lt;svg onload=alert(4)&gt;",
		"&lt;iframe src=",
	} {
		if !strings.Contains(out, esc) {
			t.Errorf("the page lacks the escaped form %q", esc)
		}
	}
	// Escaped, the hostile strings still read exactly as the server sent
	// them: the body, the header and the error description round-trip.
	pres := htmlElems(doc, atom.Pre)
	has := func(want string) bool {
		return slices.ContainsFunc(pres, func(p *html.Node) bool { return strings.Contains(htmlText(p), want) })
	}
	for _, want := range []string{htmlHostileBody, "X-Debug: " + htmlHostileHeader, htmlHostileError} {
		if !has(want) {
			t.Errorf("no <pre> shows %q as text", want)
		}
	}
	cells := htmlElems(doc, atom.Td)
	if !slices.ContainsFunc(cells, func(n *html.Node) bool { return htmlText(n) == htmlHostileDesc }) {
		t.Errorf("the hostile finding is not shown as text in a findings cell")
	}
	// Exactly the elements the template writes: one script, no injected
	// img, svg, iframe or textarea, and no event-handler attribute.
	if n := len(htmlElems(doc, atom.Script)); n != 1 {
		t.Errorf("%d <script> elements, want 1", n)
	}
	for _, a := range []atom.Atom{atom.Img, atom.Svg, atom.Iframe, atom.Textarea, atom.Object, atom.Embed, atom.Base} {
		if n := len(htmlElems(doc, a)); n != 0 {
			t.Errorf("%d <%s> elements, want 0", n, a)
		}
	}
	for _, n := range htmlFindAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event-handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	}
	// The decoded assertion is pretty JSON, shown as text, not \u003c-escaped.
	if !has(`"jti": "6c1f0a9e-<script>-b7"`) || !has(`"kid": "unregistered-kid"`) {
		t.Errorf("the decoded assertion claims are not shown as indented JSON text")
	}
}

func TestWriteHTMLRefURLsAreSanitized(t *testing.T) {
	r := htmlSampleReport()
	r.Cases[0].Refs = append(r.Cases[0].Refs, Ref{Label: `<b>evil</b>`, URL: "javascript:alert(5)"})
	out, doc := htmlRender(t, r)
	if strings.Contains(out, "javascript:") {
		t.Errorf("a javascript: URL reached the page")
	}
	if strings.Contains(out, "<b>evil</b>") {
		t.Errorf("a ref label was rendered as markup")
	}
	for _, a := range htmlElems(doc, atom.A) {
		if h, _ := htmlAttr(a, "href"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "javascript") {
			t.Errorf("link to %q", h)
		}
	}
}

func TestWriteHTMLHasNoExternalResources(t *testing.T) {
	r := htmlSampleReport()
	_, doc := htmlRender(t, r)
	refURLs := map[string]bool{}
	for _, c := range r.Cases {
		for _, ref := range c.Refs {
			refURLs[ref.URL] = true
		}
	}
	urlAttrs := map[string]bool{"src": true, "href": true, "action": true, "formaction": true, "srcset": true,
		"poster": true, "data": true, "background": true, "manifest": true, "ping": true, "cite": true, "xlink:href": true}
	// Only in-page fragments and data: URLs stay inside the page.
	external := func(v string) bool {
		v = strings.ToLower(strings.TrimSpace(v))
		return !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:")
	}
	refLinks := 0
	for _, n := range htmlFindAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			key := a.Key
			if a.Namespace != "" {
				key = a.Namespace + ":" + a.Key
			}
			if !urlAttrs[key] || !external(a.Val) {
				continue
			}
			if n.DataAtom == atom.A && key == "href" && htmlHasClass(n, "ref") && refURLs[a.Val] {
				refLinks++
				continue
			}
			t.Errorf("<%s %s=%q> points outside the page", n.Data, key, a.Val)
		}
	}
	if refLinks == 0 {
		t.Errorf("no spec-reference links found")
	}
	for _, l := range htmlElems(doc, atom.Link) {
		if h, _ := htmlAttr(l, "href"); !strings.HasPrefix(h, "data:") {
			t.Errorf("<link href=%q> is not inline", h)
		}
	}
	css := htmlText(htmlElems(doc, atom.Style)[0])
	js := htmlText(htmlElems(doc, atom.Script)[0])
	if strings.Contains(css, "@import") || strings.Contains(css, "@font-face") || strings.Contains(strings.ReplaceAll(css, " ", ""), "url(") {
		t.Errorf("the stylesheet loads something")
	}
	for _, bad := range []string{"fetch(", "XMLHttpRequest", "import(", "http://", "https://", "eval(", "innerHTML"} {
		if strings.Contains(js, bad) {
			t.Errorf("the script contains %q", bad)
		}
	}
}

func htmlParseCSP(t *testing.T, doc *html.Node) (map[string][]string, *html.Node) {
	t.Helper()
	metas := htmlFindAll(doc, func(n *html.Node) bool {
		v, _ := htmlAttr(n, "http-equiv")
		return n.DataAtom == atom.Meta && strings.EqualFold(v, "Content-Security-Policy")
	})
	if len(metas) != 1 {
		t.Fatalf("%d CSP <meta> elements, want 1", len(metas))
	}
	content, _ := htmlAttr(metas[0], "content")
	dirs := map[string][]string{}
	for _, d := range strings.Split(content, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			dirs[strings.ToLower(f[0])] = f[1:]
		}
	}
	return dirs, metas[0]
}

func TestWriteHTMLContentSecurityPolicy(t *testing.T) {
	out, doc := htmlRender(t, htmlSampleReport())
	dirs, meta := htmlParseCSP(t, doc)

	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	scripts, styles := htmlElems(doc, atom.Script), htmlElems(doc, atom.Style)
	if len(scripts) != 1 || len(styles) != 1 {
		t.Fatalf("%d scripts and %d styles, want one of each", len(scripts), len(styles))
	}
	// Hash what the parser sees inside the elements (what a browser hashes),
	// and check that it is byte for byte what the file holds.
	js, css := htmlText(scripts[0]), htmlText(styles[0])
	if !strings.Contains(out, "<script>"+js+"</script>") || !strings.Contains(out, "<style>"+css+"</style>") {
		t.Errorf("the parsed inline text differs from the page's bytes")
	}
	if strings.Contains(js+css, "\r") {
		t.Errorf("inline script or style holds a CR, which browsers normalize before hashing")
	}
	want := map[string][]string{
		"default-src": {"'none'"},
		"script-src":  {hash(js)},
		"style-src":   {hash(css)},
		"img-src":     {"data:"},
	}
	for d, w := range want {
		if !slices.Equal(dirs[d], w) {
			t.Errorf("%s = %q, want %q", d, dirs[d], w)
		}
	}
	for d, srcs := range dirs {
		for _, s := range srcs {
			if strings.Contains(s, "unsafe-") || s == "*" || strings.HasPrefix(s, "http") {
				t.Errorf("%s allows %s", d, s)
			}
		}
	}
	// The CSP must precede what it governs.
	all := htmlFindAll(doc, func(*html.Node) bool { return true })
	if slices.Index(all, meta) > slices.Index(all, styles[0]) {
		t.Errorf("the CSP <meta> comes after the <style>")
	}
	// A hash allows only <style>/<script> elements: an inline style
	// attribute or handler would be blocked, so the template has none.
	for _, n := range all {
		if _, ok := htmlAttr(n, "style"); ok {
			t.Errorf("<%s> has a style attribute, which the CSP blocks", n.Data)
		}
	}
}

func TestWriteHTMLCaseAnchorsOrderAndOpenState(t *testing.T) {
	r := htmlSampleReport()
	out, doc := htmlRender(t, r)

	seen := map[string]bool{}
	for _, n := range htmlFindAll(doc, func(n *html.Node) bool { _, ok := htmlAttr(n, "id"); return ok }) {
		id, _ := htmlAttr(n, "id")
		if seen[id] {
			t.Errorf("id %q is used twice", id)
		}
		seen[id] = true
	}
	var order []string
	for _, n := range htmlFindAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Article && htmlHasClass(n, "case") }) {
		id, _ := htmlAttr(n, "id")
		order = append(order, id)
	}
	var want []string
	for _, c := range r.ByAttention() {
		want = append(want, c.ID)
		els := htmlByID(doc, c.ID)
		if len(els) != 1 {
			t.Errorf("case %s: %d elements with its id, want 1", c.ID, len(els))
			continue
		}
		el := els[0]
		if st, _ := htmlAttr(el, "data-status"); st != string(c.Status) {
			t.Errorf("case %s: data-status %q, want %q", c.ID, st, c.Status)
		}
		if lv, _ := htmlAttr(el, "data-level"); lv != c.Level {
			t.Errorf("case %s: data-level %q, want %q", c.ID, lv, c.Level)
		}
		if ar, _ := htmlAttr(el, "data-area"); ar != c.Area {
			t.Errorf("case %s: data-area %q, want %q", c.ID, ar, c.Area)
		}
		s, _ := htmlAttr(el, "data-search")
		for _, part := range []string{c.ID, c.Title, c.Requirement} {
			if !strings.Contains(s, strings.ToLower(part)) {
				t.Errorf("case %s: data-search lacks %q", c.ID, part)
			}
		}
		details := htmlElems(el, atom.Details)
		if len(details) == 0 {
			t.Errorf("case %s has no <details>", c.ID)
			continue
		}
		_, open := htmlAttr(details[0], "open")
		if wantOpen := c.Status == Failed || c.Status == Errored; open != wantOpen {
			t.Errorf("case %s (%s): open=%v, want %v", c.ID, c.Status, open, wantOpen)
		}
		text := htmlText(el)
		for _, part := range []string{c.Title, c.Requirement, c.Level, c.Reason, c.Hint, c.Policy, c.Method} {
			if !strings.Contains(text, part) {
				t.Errorf("case %s does not show %q", c.ID, part)
			}
		}
		for _, ex := range c.Exchanges {
			want, ph := CurlTemplate(ex.Curl)
			if !slices.ContainsFunc(htmlElems(el, atom.Pre), func(p *html.Node) bool { return htmlText(p) == want }) {
				t.Errorf("case %s: no <pre> holds the curl command (or template) of %q", c.ID, ex.Label)
			}
			if len(ph) > 0 && !strings.Contains(text, "curl template (fill in the placeholders)") {
				t.Errorf("case %s: a curl with redaction marks is not labelled a template", c.ID)
			}
		}
		if !strings.Contains(out, `href="#`+c.ID+`"`) {
			t.Errorf("nothing links to #%s", c.ID)
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("case order %v, want %v", order, want)
	}
	if order[0] != "ASYM-KID-01" || order[len(order)-1] != "PUB-01" {
		t.Errorf("failures are not first or skipped cases not last: %v", order)
	}
}

func TestWriteHTMLHeaderCountersAndFilters(t *testing.T) {
	r := htmlSampleReport()
	out, doc := htmlRender(t, r)
	s := r.Summary
	if s.Verdict != "incomplete" || s.ExitCode != 3 {
		t.Fatalf("sample summary %+v: want an incomplete run", s)
	}
	counters := map[string]int{"passed": s.Passed, "warned": s.Warned, "failed": s.Failed, "skipped": s.Skipped,
		"notrun": s.NotRun, "error": s.Errors, "total": s.Total}
	for name, want := range counters {
		els := htmlFindAll(doc, func(n *html.Node) bool { v, _ := htmlAttr(n, "data-counter"); return v == name })
		if len(els) != 1 {
			t.Errorf("counter %s: %d elements, want 1", name, len(els))
			continue
		}
		num := htmlFindAll(els[0], func(n *html.Node) bool { return htmlHasClass(n, "counter-n") })
		if len(num) != 1 || strings.TrimSpace(htmlText(num[0])) != strconv.Itoa(want) {
			t.Errorf("counter %s shows %q, want %d", name, htmlText(els[0]), want)
		}
		if name == "total" {
			continue
		}
		chips := htmlFindAll(doc, func(n *html.Node) bool { v, _ := htmlAttr(n, "data-filter-status"); return v == name })
		if len(chips) != 1 {
			t.Errorf("status chip %s: %d, want 1", name, len(chips))
			continue
		}
		n := htmlFindAll(chips[0], func(n *html.Node) bool { return htmlHasClass(n, "chip-n") })
		if len(n) != 1 || htmlText(n[0]) != strconv.Itoa(want) {
			t.Errorf("status chip %s shows %q, want %d", name, htmlText(chips[0]), want)
		}
	}
	verdict := htmlByID(doc, "sc-verdict")
	if len(verdict) != 1 || !strings.Contains(htmlText(verdict[0]), "Incomplete") || !strings.Contains(htmlText(verdict[0]), "exit code 3") {
		t.Errorf("the verdict does not read Incomplete with exit code 3")
	}
	page := htmlText(doc)
	for _, want := range []string{r.Target.Name, r.Target.FHIRBaseURL, r.Target.TokenEndpoint, "smartconform 0.9.0",
		r.TestPlanVersion, r.Run.Profile, "2026-03-14 09:26:53 UTC", "4.82 s", r.Notes[0], "OFF"} {
		if !strings.Contains(page, want) {
			t.Errorf("the header does not show %q", want)
		}
	}
	if strings.Contains(out, `id="sc-faults"`) {
		t.Errorf("faults are listed for a target that is not the reference server")
	}

	// Filters: areas and levels come from the cases.
	options := func(id string) []string {
		sel := htmlByID(doc, id)
		if len(sel) != 1 {
			t.Fatalf("no #%s", id)
		}
		var vals []string
		for _, o := range htmlElems(sel[0], atom.Option) {
			v, _ := htmlAttr(o, "value")
			vals = append(vals, v)
		}
		return vals
	}
	if got, want := options("sc-area"), []string{"", "client_secret", "discovery", "private_key_jwt", "public"}; !slices.Equal(got, want) {
		t.Errorf("area options %q, want %q", got, want)
	}
	if got, want := options("sc-level"), []string{"", "MUST", "SHOULD"}; !slices.Equal(got, want) {
		t.Errorf("level options %q, want %q", got, want)
	}
	if len(htmlByID(doc, "sc-search")) != 1 {
		t.Errorf("no search box")
	}
}

func TestWriteHTMLReferenceFaults(t *testing.T) {
	r := htmlSampleReport()
	r.Target = Target{Name: "reference", TokenEndpoint: "http://127.0.0.1:41234/token", Reference: true,
		Faults: []string{"accept-unknown-kid", "skip-exp-check"}}
	r.Notes = nil
	_, doc := htmlRender(t, r)
	lists := htmlByID(doc, "sc-faults")
	if len(lists) != 1 {
		t.Fatalf("no fault list for the reference server")
	}
	var got []string
	for _, li := range htmlElems(lists[0], atom.Li) {
		got = append(got, htmlText(li))
	}
	if !slices.Equal(got, r.Target.Faults) {
		t.Errorf("faults %q, want %q", got, r.Target.Faults)
	}
	if len(htmlByID(doc, "sc-notes")) != 0 {
		t.Errorf("a notes section without notes")
	}
}

func TestWriteHTMLCoverage(t *testing.T) {
	r := htmlSampleReport()
	_, doc := htmlRender(t, r)
	sec := htmlByID(doc, "sc-coverage")
	if len(sec) != 1 {
		t.Fatalf("no coverage section")
	}
	rows := htmlElems(htmlElems(sec[0], atom.Tbody)[0], atom.Tr)
	want := map[string][]string{} // ref URL -> citing case IDs, catalogue order
	for _, c := range r.Cases {
		for _, ref := range c.Refs {
			if !slices.Contains(want[ref.URL], c.ID) {
				want[ref.URL] = append(want[ref.URL], c.ID)
			}
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d coverage rows, want %d", len(rows), len(want))
	}
	status := map[string]Status{}
	for _, c := range r.Cases {
		status[c.ID] = c.Status
	}
	for _, row := range rows {
		links := htmlElems(row, atom.A)
		ref, _ := htmlAttr(links[0], "href")
		var ids []string
		for _, li := range htmlElems(row, atom.Li) {
			a := htmlElems(li, atom.A)[0]
			h, _ := htmlAttr(a, "href")
			id := strings.TrimPrefix(h, "#")
			ids = append(ids, id)
			if badge := htmlFindAll(li, func(n *html.Node) bool { return htmlHasClass(n, "badge") }); len(badge) != 1 ||
				!htmlHasClass(badge[0], "st-"+string(status[id])) {
				t.Errorf("coverage of %s: %s has no %s badge", ref, id, status[id])
			}
		}
		if !slices.Equal(ids, want[ref]) {
			t.Errorf("coverage of %s lists %v, want %v", ref, ids, want[ref])
		}
	}
}

func TestWriteHTMLIsDeterministic(t *testing.T) {
	a, _ := htmlRender(t, htmlSampleReport())
	b, _ := htmlRender(t, htmlSampleReport())
	if a != b {
		t.Errorf("two renders of the same report differ")
	}
	if err := WriteHTML(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("WriteHTML(nil) did not fail")
	}
	// An empty report still renders a valid page.
	empty := &Report{Tool: Tool{Name: "smartconform", Version: "dev"}}
	out, _ := htmlRender(t, empty)
	if !strings.Contains(out, "This report holds no cases.") {
		t.Errorf("an empty report does not say it holds no cases")
	}
	// Preview: SMARTCONFORM_HTML_PREVIEW=/tmp/report.html go test -run Deterministic ./reporter/
	if p := os.Getenv("SMARTCONFORM_HTML_PREVIEW"); p != "" {
		if err := os.WriteFile(p, []byte(a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
