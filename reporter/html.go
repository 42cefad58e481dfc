package reporter

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// The page's template, stylesheet and script. They are inlined at render
// time, so the written page is one self-contained file that works offline.
//
//go:embed assets/report.html.tmpl assets/report.css assets/report.js
var htmlAssets embed.FS

// htmlParsed holds the parsed template and the inline assets, loaded once.
type htmlParsed struct {
	tmpl *template.Template
	css  template.CSS // our own asset, never model data
	js   template.JS  // our own asset, never model data
	csp  string       // the page's Content-Security-Policy (htmlPageCSP)
}

var htmlLoad = sync.OnceValues(func() (*htmlParsed, error) {
	read := func(name string) (string, error) {
		b, err := htmlAssets.ReadFile("assets/" + name)
		if err != nil {
			return "", err
		}
		// The HTML parser turns CR LF and lone CR into LF before a browser
		// hashes an inline element for the CSP, so the page carries LF only.
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		return strings.ReplaceAll(s, "\r", "\n"), nil
	}
	css, err := read("report.css")
	if err != nil {
		return nil, err
	}
	js, err := read("report.js")
	if err != nil {
		return nil, err
	}
	for name, s := range map[string]string{"report.css": css, "report.js": js} {
		l := strings.ToLower(s)
		if strings.Contains(l, "</style") || strings.Contains(l, "</script") || strings.Contains(l, "<!--") {
			return nil, fmt.Errorf("reporter: asset %s must not contain </style, </script or <!--", name)
		}
	}
	page, err := read("report.html.tmpl")
	if err != nil {
		return nil, err
	}
	t, err := template.New("report").Funcs(template.FuncMap{
		"stClass":  htmlStatusClass,
		"stIcon":   func(s Status) string { return htmlStatusMeta(s).icon },
		"stLabel":  func(s Status) string { return htmlStatusMeta(s).label },
		"stWord":   func(s Status) string { return htmlStatusMeta(s).word },
		"lvlClass": htmlLevelClass,
		"sevClass": htmlSeverityClass,
	}).Parse(page)
	if err != nil {
		return nil, fmt.Errorf("reporter: parsing the HTML template: %w", err)
	}
	parsed := &htmlParsed{tmpl: t, css: template.CSS(css), js: template.JS(js)}
	if parsed.csp, err = htmlPageCSP(parsed); err != nil {
		return nil, err
	}
	return parsed, nil
})

type htmlStatusInfo struct{ icon, label, word string }

var htmlStatuses = map[Status]htmlStatusInfo{
	Passed:  {"✓", "PASS", "passed"},
	Warned:  {"!", "WARN", "warned"},
	Failed:  {"✗", "FAIL", "failed"},
	Errored: {"⚠", "ERROR", "error"},
	NotRun:  {"⊘", "NOT RUN", "not run"},
	Skipped: {"–", "SKIP", "skipped"},
	Waived:  {"≈", "WAIVED", "waived"},
}

// htmlAttention is the order of statuses for people: failures first.
var htmlAttention = []Status{Failed, Errored, Waived, Warned, NotRun, Passed, Skipped}

func htmlStatusMeta(s Status) htmlStatusInfo {
	if m, ok := htmlStatuses[s]; ok {
		return m
	}
	return htmlStatusInfo{"?", strings.ToUpper(string(s)), string(s)}
}

// htmlStatusClass maps a status to a CSS class suffix from a closed set.
func htmlStatusClass(s Status) string {
	if _, ok := htmlStatuses[s]; ok {
		return string(s)
	}
	return "unknown"
}

// htmlSeverityClass maps a severity to a CSS class suffix from a closed set.
func htmlSeverityClass(s Severity) string {
	if severityRank(s) < 4 {
		return string(s)
	}
	return "none"
}

func htmlLevelClass(level string) string {
	switch strings.ToUpper(level) {
	case "MUST":
		return "must"
	case "SHOULD":
		return "should"
	}
	return "other"
}

// The view the template renders. Model strings stay plain strings, so
// html/template escapes every one of them for its context.
type htmlPage struct {
	R              *Report
	Summary        Summary
	ToolName       string
	CSP            string
	CSS            template.CSS
	JS             template.JS
	VerdictClass   string
	VerdictWord    string
	VerdictExplain string
	Headline       string
	FailOn         string
	Notes          []string
	SeverityCounts []htmlSevCount
	Severities     []Severity
	Counters       []htmlCount
	Chips          []htmlCount
	Levels         []string
	Areas          []string
	Cases          []htmlCase
	Coverage       []htmlCoverage
	Start          string
	Duration       string
	Generated      string
}

type htmlSevCount struct {
	Severity Severity
	Count    int
}

type htmlCount struct {
	Status Status
	Count  int
}

type htmlCase struct {
	Case
	Open        bool
	Search      string
	Duration    string
	ReasonTitle string
	SevRank     int
	Exchanges   []htmlExchange // shadows Case.Exchanges
}

type htmlExchange struct {
	Exchange
	N               int
	Open            bool
	StatusText      string
	StatusClass     string
	HasResponse     bool
	RequestLine     string
	ReqHeaders      string
	RespHeaders     string
	Duration        string
	AssertionHeader string
	AssertionClaims string
	AssertionTimes  []string
	At              string
	CurlTemplate    string
	Placeholders    []Placeholder
}

type htmlCoverage struct {
	Ref    Ref
	Cases  []htmlCaseRef
	Counts []htmlCount
}

type htmlCaseRef struct {
	ID     string
	Status Status
}

// WriteHTML renders the report as one self-contained HTML page: inline
// stylesheet and script allowed by a Content-Security-Policy of their
// sha256 hashes, no external resource of any kind, and every string from
// the model (so everything the server sent) escaped as text.
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("reporter: WriteHTML: nil report")
	}
	p, err := htmlLoad()
	if err != nil {
		return err
	}
	view := htmlBuildView(r)
	view.CSS, view.JS, view.CSP = p.css, p.js, p.csp
	// Streamed: a target's page is about 1 MB, and a run of many targets
	// writes one per target (rendering into a buffer, then copying it
	// twice to insert the CSP, was a third of a run's allocations).
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := p.tmpl.Execute(bw, view); err != nil {
		return fmt.Errorf("reporter: rendering HTML: %w", err)
	}
	return bw.Flush()
}

// htmlPageCSP is the page's Content-Security-Policy. The page's only
// <style> and <script> are the template's, with the embedded stylesheet
// and script as their whole text (model strings are always escaped, so
// those literal tags can only be the template's own): it renders the
// template once, with an empty report and a placeholder for the policy,
// and hashes exactly what that page carries inside them.
func htmlPageCSP(p *htmlParsed) (string, error) {
	placeholder, err := htmlPlaceholder()
	if err != nil {
		return "", err
	}
	view := htmlBuildView(&Report{})
	view.CSS, view.JS, view.CSP = p.css, p.js, placeholder
	var buf strings.Builder
	if err := p.tmpl.Execute(&buf, view); err != nil {
		return "", fmt.Errorf("reporter: rendering HTML: %w", err)
	}
	out := buf.String()
	style, err := htmlElementText(out, "style", false)
	if err != nil {
		return "", err
	}
	script, err := htmlElementText(out, "script", true)
	if err != nil {
		return "", err
	}
	if i := strings.Index(out, placeholder); i < 0 || i > strings.Index(out, "<style>") {
		return "", errors.New("reporter: the CSP placeholder is not ahead of the inline style")
	}
	return "default-src 'none'; script-src " + htmlCSPHash(script) + "; style-src " + htmlCSPHash(style) +
		"; img-src data:; base-uri 'none'; form-action 'none'", nil
}

// htmlPlaceholder is an unguessable token the CSP replaces after rendering.
func htmlPlaceholder() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "sc-csp-" + hex.EncodeToString(b[:]), nil
}

// htmlElementText returns the text between <tag> and </tag>: the first such
// element, or the last when last is set.
func htmlElementText(page, tag string, last bool) (string, error) {
	open, closing := "<"+tag+">", "</"+tag+">"
	i := strings.Index(page, open)
	if last {
		i = strings.LastIndex(page, open)
	}
	if i < 0 {
		return "", fmt.Errorf("reporter: no %s element in the page", open)
	}
	body := page[i+len(open):]
	j := strings.Index(body, closing)
	if j < 0 {
		return "", fmt.Errorf("reporter: %s is not closed", open)
	}
	return body[:j], nil
}

// htmlCSPHash is the CSP source expression for an inline element's text,
// hashed as a browser does: UTF-8, after newline normalization.
func htmlCSPHash(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func htmlBuildView(r *Report) *htmlPage {
	sum := r.Summary
	if sum.Verdict == "" {
		// Never summarized: count a copy rather than show an empty verdict.
		cp := *r
		cp.Summarize()
		sum = cp.Summary
	}
	v := &htmlPage{R: r, Summary: sum, ToolName: r.Tool.Name, Notes: r.Notes}
	if v.ToolName == "" {
		v.ToolName = "smartconform"
	}
	v.VerdictClass, v.VerdictWord, v.VerdictExplain = htmlVerdict(sum)
	v.Headline, v.FailOn = sum.Headline, r.Run.FailOn
	if v.FailOn == "" {
		v.FailOn = "must"
	}
	present := map[Severity]bool{}
	for _, c := range r.Cases {
		present[c.Severity] = true
	}
	for _, sev := range Severities {
		v.SeverityCounts = append(v.SeverityCounts, htmlSevCount{sev, sum.Severity.Of(sev)})
		if present[sev] {
			v.Severities = append(v.Severities, sev)
		}
	}

	count := map[Status]int{Passed: sum.Passed, Warned: sum.Warned, Failed: sum.Failed,
		Skipped: sum.Skipped, NotRun: sum.NotRun, Errored: sum.Errors, Waived: sum.Waived}
	for _, s := range []Status{Passed, Warned, Failed, Waived, Skipped, NotRun, Errored} {
		v.Counters = append(v.Counters, htmlCount{s, count[s]})
	}
	for _, s := range htmlAttention {
		v.Chips = append(v.Chips, htmlCount{s, count[s]})
	}

	levels, areas := map[string]bool{}, map[string]bool{}
	for _, c := range r.ByAttention() {
		if c.Level != "" {
			levels[c.Level] = true
		}
		if c.Area != "" {
			areas[c.Area] = true
		}
		v.Cases = append(v.Cases, htmlBuildCase(c))
	}
	for _, l := range []string{"MUST", "SHOULD"} {
		if levels[l] {
			v.Levels = append(v.Levels, l)
			delete(levels, l)
		}
	}
	v.Levels = append(v.Levels, htmlSortedKeys(levels)...)
	v.Areas = htmlSortedKeys(areas)
	v.Coverage = htmlBuildCoverage(r.Cases)

	v.Start = htmlTime(r.Run.Start)
	v.Duration = htmlDuration(r.Run.DurationMs)
	v.Generated = htmlTime(r.Generated)
	return v
}

// htmlVerdict gives the verdict box its class, word and sentence: the
// verdict word of the summary (which always agrees with the exit code) and
// its reason, which names the --fail-on that applied.
func htmlVerdict(s Summary) (class, word, explain string) {
	explain = s.Why
	switch s.Verdict {
	case VerdictConformant:
		class, word = "v-conformant", "Conformant"
	case VerdictReportOnly:
		class, word = "v-reportonly", "Report-only"
	case VerdictNonConformant:
		class, word = "v-nonconformant", "Non-conformant"
	case VerdictIncomplete:
		class, word = "v-incomplete", "Incomplete"
	default:
		class, word = "v-incomplete", s.Verdict
		if explain == "" {
			explain = "Unrecognised verdict."
		}
	}
	return class, word, explain
}

func htmlBuildCase(c Case) htmlCase {
	hc := htmlCase{
		Case:     c,
		Open:     c.Status == Failed || c.Status == Errored,
		Search:   strings.ToLower(c.ID + " " + c.Title + " " + c.Requirement),
		Duration: htmlDuration(c.DurationMs),
		SevRank:  severityRank(c.Severity),
	}
	switch c.Status {
	case Skipped:
		hc.ReasonTitle = "Why it was skipped"
	case NotRun:
		hc.ReasonTitle = "Why it was not run"
	case Errored:
		hc.ReasonTitle = "Why it could not be judged"
	default:
		hc.ReasonTitle = "Reason"
	}
	for i, ex := range c.Exchanges {
		hc.Exchanges = append(hc.Exchanges, htmlBuildExchange(i+1, ex, hc.Open))
	}
	return hc
}

func htmlBuildExchange(n int, ex Exchange, open bool) htmlExchange {
	he := htmlExchange{
		Exchange:    ex,
		N:           n,
		Open:        open,
		HasResponse: ex.Status != 0 || len(ex.ResponseHeaders) > 0 || ex.ResponseBody != "",
		RequestLine: strings.TrimSpace(ex.Method + " " + ex.URL),
		ReqHeaders:  htmlHeaders(ex.RequestHeaders),
		RespHeaders: htmlHeaders(ex.ResponseHeaders),
		Duration:    htmlDuration(ex.DurationMs),
	}
	switch {
	case ex.Status == 0 && ex.Error != "":
		he.StatusText, he.StatusClass = "no response", "http-none"
	case ex.Status == 0:
		he.StatusText, he.StatusClass = "no status", "http-none"
	default:
		he.StatusText = strings.TrimSpace(fmt.Sprintf("%d %s", ex.Status, http.StatusText(ex.Status)))
		he.StatusClass = "http-other"
		if ex.Status >= 200 && ex.Status < 600 {
			he.StatusClass = fmt.Sprintf("http-%dxx", ex.Status/100)
		}
	}
	if ex.Assertion != nil {
		he.AssertionHeader = htmlPrettyJSON(ex.Assertion.Header)
		he.AssertionClaims = htmlPrettyJSON(ex.Assertion.Claims)
		he.AssertionTimes = JWTTimeLines(ex.Assertion.Claims, ex.At)
	}
	if !ex.At.IsZero() {
		he.At = ex.At.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	he.CurlTemplate, he.Placeholders = CurlTemplate(ex.Curl)
	return he
}

func htmlHeaders(hs []Header) string {
	if len(hs) == 0 {
		return "(no headers)"
	}
	var b strings.Builder
	for i, h := range hs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h.Name + ": " + h.Value)
	}
	return b.String()
}

// htmlPrettyJSON indents a decoded JWT part, keys sorted. The result is text
// for the template to escape; HTML escaping here would show as \u003c.
func htmlPrettyJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Sprintf("(not representable as JSON: %v)", err)
	}
	return strings.TrimRight(b.String(), "\n")
}

// htmlBuildCoverage lists each distinct spec reference with the cases citing
// it (catalogue order) and a count of their outcomes.
func htmlBuildCoverage(cases []Case) []htmlCoverage {
	type key struct{ label, url string }
	idx := map[key]int{}
	var out []htmlCoverage
	for _, c := range cases {
		seen := map[key]bool{}
		for _, ref := range c.Refs {
			k := key{ref.Label, ref.URL}
			if seen[k] {
				continue
			}
			seen[k] = true
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, htmlCoverage{Ref: ref})
			}
			out[i].Cases = append(out[i].Cases, htmlCaseRef{c.ID, c.Status})
		}
	}
	for i := range out {
		n := map[Status]int{}
		for _, c := range out[i].Cases {
			n[c.Status]++
		}
		for _, s := range htmlAttention {
			if n[s] > 0 {
				out[i].Counts = append(out[i].Counts, htmlCount{s, n[s]})
				delete(n, s)
			}
		}
		for _, s := range htmlSortedKeys(n) {
			out[i].Counts = append(out[i].Counts, htmlCount{Status(s), n[Status(s)]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Ref, out[j].Ref
		if a.Label != b.Label {
			return htmlNaturalLess(a.Label, b.Label)
		}
		return a.URL < b.URL
	})
	return out
}

// htmlNaturalLess orders strings with digit runs compared as numbers, so
// "RFC 6749 §2.3" < "RFC 6749 §10".
func htmlNaturalLess(a, b string) bool {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := 0, 0
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func htmlSortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func htmlTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

func htmlDuration(ms float64) string {
	switch {
	case ms <= 0:
		return "0 ms"
	case ms < 1:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 60000:
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Second)
	return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
}
