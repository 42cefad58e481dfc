package reporter

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Combined is the summary of a run over several targets: one line per
// target, linking to its own reports, and one verdict and exit code for all.
type Combined struct {
	SchemaVersion   string         `json:"schemaVersion"`
	Tool            Tool           `json:"tool"`
	TestPlanVersion string         `json:"testPlanVersion"`
	Generated       time.Time      `json:"generated"`
	DurationMs      float64        `json:"durationMs"`
	FailOn          string         `json:"failOn"`
	Summary         Summary        `json:"summary"` // counts added up; the worst verdict and exit code
	Targets         []TargetResult `json:"targets"`
}

// TargetResult is one target of a combined run.
type TargetResult struct {
	Name          string  `json:"name"`
	FHIRBaseURL   string  `json:"fhirBaseUrl,omitempty"`
	TokenEndpoint string  `json:"tokenEndpoint,omitempty"`
	Dir           string  `json:"dir"` // its reports, relative to the summary
	Summary       Summary `json:"summary"`
}

// Combine sums up reports; dirs are where each one's reports are, relative
// to the combined summary. The exit code is the worst: 3, then 1, then 0,
// and the verdict is the word for it (report-only when the run exits 0 and
// a target is report-only). Headline and Why say how many targets gave
// which verdict.
func Combine(reps []*Report, dirs []string, durationMs float64) *Combined {
	c := &Combined{SchemaVersion: SchemaVersion, Generated: time.Now(), DurationMs: durationMs}
	rank := map[int]int{0: 0, 1: 1, 3: 2}
	verdicts := map[string]int{}
	for i, r := range reps {
		if r.Summary.Verdict == "" {
			r.Summarize()
		}
		verdicts[r.Summary.Verdict]++
		c.Tool, c.TestPlanVersion, c.FailOn = r.Tool, r.TestPlanVersion, r.Run.FailOn
		c.Targets = append(c.Targets, TargetResult{Name: r.Target.Name, FHIRBaseURL: r.Target.FHIRBaseURL, TokenEndpoint: r.Target.TokenEndpoint, Dir: dirs[i], Summary: r.Summary})
		s := &c.Summary
		s.Total += r.Summary.Total
		s.Passed += r.Summary.Passed
		s.Warned += r.Summary.Warned
		s.Failed += r.Summary.Failed
		s.Waived += r.Summary.Waived
		s.Skipped += r.Summary.Skipped
		s.NotRun += r.Summary.NotRun
		s.Errors += r.Summary.Errors
		s.Severity.plus(r.Summary.Severity)
		if rank[r.Summary.ExitCode] >= rank[s.ExitCode] {
			s.ExitCode = r.Summary.ExitCode
		}
	}
	s := &c.Summary
	switch s.ExitCode {
	case 3:
		s.Verdict = VerdictIncomplete
	case 1:
		s.Verdict = VerdictNonConformant
	default:
		s.Verdict = VerdictConformant
		if verdicts[VerdictReportOnly] > 0 {
			s.Verdict = VerdictReportOnly
		}
	}
	var parts []string
	for _, v := range []string{VerdictIncomplete, VerdictNonConformant, VerdictReportOnly, VerdictConformant} {
		if n := verdicts[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	s.Headline = fmt.Sprintf("%s (%s of %s)", s.Verdict, strings.Join(parts, ", "), plural(len(reps), "target", "targets"))
	failOn := c.FailOn
	if failOn == "" {
		failOn = "must"
	}
	s.Why = fmt.Sprintf("The run exits with the worst exit code of its targets (--fail-on %s): %d.", failOn, s.ExitCode)
	return c
}

// WriteCombinedClosing writes the closing lines of a multi-target run, as
// WriteClosing does for one: the verdict, the counts over every target,
// and last "smartconform: N passed, N failed, N skipped".
func WriteCombinedClosing(w io.Writer, c *Combined) {
	failOn := c.FailOn
	if failOn == "" {
		failOn = "must"
	}
	fmt.Fprintf(w, "verdict: %s (exit %d, fail-on %s) — %s\n", c.Summary.Verdict, c.Summary.ExitCode, failOn, c.Summary.Headline)
	fmt.Fprintln(w, countsLine(c.Summary))
	fmt.Fprintln(w, summaryLine(c.Summary))
}

// WriteCombinedMarkdown writes the job summary of a multi-target run: the
// overall verdict and one table row per target, green or not, with its
// verdict, counts, severity counts and a link to its HTML report. Links
// are linkBase + "/" + dir + "/report.html" when linkBase is an http(s)
// URL (e.g. where the artifacts are published), else the relative path is
// shown as code. Per-target details can follow (WriteMarkdownSummary).
func WriteCombinedMarkdown(w io.Writer, c *Combined, linkBase string) error {
	if c == nil {
		return fmt.Errorf("reporter: WriteCombinedMarkdown: nil summary")
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	s := c.Summary
	failOn := c.FailOn
	if failOn == "" {
		failOn = "must"
	}
	p("## %s smartconform: %s\n\n", verdictIcon(s.Verdict), mdText(s.Headline))
	p("exit code **%d** · fail-on %s · %s\n\n", s.ExitCode, mdCode(failOn), mdText(plural(len(c.Targets), "target", "targets")))
	p("| Target | Verdict | Exit | Passed | Warned | Failed | Errors | Not run | Skipped | Waived | Critical | High | Medium | Low | Report |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	row := func(name, verdict string, t Summary, link string) {
		p("| %s | %s %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n", name, verdictIcon(verdict), mdText(verdict), t.ExitCode,
			t.Passed, t.Warned, t.Failed, t.Errors, t.NotRun, t.Skipped, t.Waived,
			t.Severity.Critical, t.Severity.High, t.Severity.Medium, t.Severity.Low, link)
	}
	for _, t := range c.Targets {
		href := strings.TrimSuffix(t.Dir, "/") + "/report.html"
		link := mdCode(href)
		if base := strings.TrimSuffix(linkBase, "/"); strings.HasPrefix(base, "https://") || strings.HasPrefix(base, "http://") {
			link = mdLink(Ref{Label: "report", URL: base + "/" + href})
		}
		row(mdText(t.Name), t.Summary.Verdict, t.Summary, link)
	}
	row("**All**", s.Verdict, s, "")
	p("\n")
	return bw.Flush()
}

// WriteCombinedJSON writes the combined summary as JSON.
func WriteCombinedJSON(w io.Writer, c *Combined) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

const combinedCSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:24px;color:#1b1f24}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d7dbe0;padding:6px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.v{font-weight:700;padding:2px 8px;border-radius:4px}
.v-0{background:#e3f0fa;color:#004f7c}.v-1{background:#fbe6dc;color:#8a3700}.v-3{background:#f5e1ec;color:#6b1a43}
h1{margin-bottom:4px}.meta{color:#555}`

var combinedTmpl = template.Must(template.New("c").Funcs(template.FuncMap{"href": func(dir string) string {
	return strings.TrimSuffix(dir, "/") + "/report.html"
}}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '{{.StyleHash}}'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smartconform: {{len .C.Targets}} targets, {{.C.Summary.Verdict}}</title>
<style>{{.CSS}}</style></head><body>
<h1>smartconform: {{len .C.Targets}} targets</h1>
<p class="meta">smartconform {{.C.Tool.Version}} · test plan {{.C.TestPlanVersion}} · generated {{.C.Generated.UTC.Format "2006-01-02 15:04:05 UTC"}}</p>
<p><span class="v v-{{.C.Summary.ExitCode}}">{{.C.Summary.Verdict}}</span> exit code {{.C.Summary.ExitCode}} · fail-on {{if .C.FailOn}}{{.C.FailOn}}{{else}}must{{end}} · {{.C.Summary.Headline}} ·
{{.C.Summary.Passed}} passed, {{.C.Summary.Warned}} warned, {{.C.Summary.Failed}} failed, {{.C.Summary.Waived}} waived, {{.C.Summary.Skipped}} skipped, {{.C.Summary.NotRun}} not run, {{.C.Summary.Errors}} errors</p>
<table><thead><tr><th>Target</th><th>Verdict</th><th>Passed</th><th>Warned</th><th>Failed</th><th>Waived</th><th>Skipped</th><th>Not run</th><th>Errors</th><th>Critical</th><th>High</th><th>Medium</th><th>Low</th><th>Report</th></tr></thead><tbody>
{{range .C.Targets}}<tr><td>{{.Name}}<br><small>{{if .FHIRBaseURL}}{{.FHIRBaseURL}}{{else}}{{.TokenEndpoint}}{{end}}</small></td>
<td><span class="v v-{{.Summary.ExitCode}}">{{.Summary.Verdict}}</span></td><td class="n">{{.Summary.Passed}}</td><td class="n">{{.Summary.Warned}}</td><td class="n">{{.Summary.Failed}}</td><td class="n">{{.Summary.Waived}}</td><td class="n">{{.Summary.Skipped}}</td><td class="n">{{.Summary.NotRun}}</td><td class="n">{{.Summary.Errors}}</td><td class="n">{{.Summary.Severity.Critical}}</td><td class="n">{{.Summary.Severity.High}}</td><td class="n">{{.Summary.Severity.Medium}}</td><td class="n">{{.Summary.Severity.Low}}</td>
<td><a href="{{href .Dir}}">report</a></td></tr>
{{end}}</tbody></table></body></html>
`))

// WriteCombinedHTML writes the combined summary page: self-contained, with
// a CSP that allows only its own inline style.
func WriteCombinedHTML(w io.Writer, c *Combined) error {
	sum := sha256.Sum256([]byte(combinedCSS))
	return combinedTmpl.Execute(w, struct {
		C         *Combined
		CSS       template.CSS
		StyleHash string
	}{c, template.CSS(combinedCSS), "sha256-" + base64.StdEncoding.EncodeToString(sum[:])})
}
