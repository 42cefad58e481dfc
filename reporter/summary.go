package reporter

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// mdMaxListed caps the cases listed per section: GitHub keeps at most 1 MiB
// of a step's summary, and the full detail is in the HTML report anyway.
const mdMaxListed = 50

// WriteMarkdownSummary writes the report as GitHub-flavoured Markdown for a
// job summary ($GITHUB_STEP_SUMMARY): the verdict, a counters table, the
// failed and errored cases with their requirement, findings, hint and spec
// links, then warnings and waived failures in collapsed <details> blocks.
// Every string from the model (so anything the server sent) is escaped, so
// it shows as text and never as Markdown or HTML.
func WriteMarkdownSummary(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("reporter: WriteMarkdownSummary: nil report")
	}
	sum := r.Summary
	if sum.Verdict == "" {
		cp := *r
		cp.Summarize()
		sum = cp.Summary
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }

	target := r.Target.Name
	if target == "" {
		target = "unnamed target"
	}
	headline := sum.Headline
	if headline == "" {
		headline = sum.Verdict
	}
	p("## %s smartconform: %s — %s\n\n", verdictIcon(sum.Verdict), mdText(headline), mdText(target))

	var facts []string
	facts = append(facts, fmt.Sprintf("exit code **%d**", sum.ExitCode))
	if r.Tool.Version != "" {
		facts = append(facts, "smartconform "+mdCode(r.Tool.Version))
	}
	if r.TestPlanVersion != "" {
		facts = append(facts, "test plan "+mdCode(r.TestPlanVersion))
	}
	if r.Run.Profile != "" {
		facts = append(facts, "profile "+mdCode(r.Run.Profile))
	}
	if r.Run.Strict {
		facts = append(facts, "strict")
	}
	if r.Run.FailOn != "" {
		facts = append(facts, "fail-on "+mdCode(r.Run.FailOn))
	}
	if r.Run.LabelFilter != "" {
		facts = append(facts, "label filter "+mdCode(r.Run.LabelFilter))
	}
	if r.Target.Reference && len(r.Target.Faults) > 0 {
		facts = append(facts, "reference server with faults "+mdCode(strings.Join(r.Target.Faults, ", ")))
	}
	if !r.Run.Start.IsZero() {
		facts = append(facts, "started "+r.Run.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	facts = append(facts, "took "+htmlDuration(r.Run.DurationMs))
	p("%s\n\n", strings.Join(facts, " · "))
	if sum.Why != "" {
		p("**Why:** %s\n\n", mdText(sum.Why))
	}
	if r.Target.InsecureSkipVerify {
		p("> [!WARNING]\n> TLS verification was off: certificates were not verified.\n\n")
	}
	for _, n := range r.Notes {
		p("> **Note:** %s\n\n", mdText(n))
	}

	p("| ✅ Passed | ⚠️ Warned | ❌ Failed | 🔷 Waived | ➖ Skipped | ⊘ Not run | ⛔ Errors | Total |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	p("| %d | %d | %d | %d | %d | %d | %d | %d |\n\n", sum.Passed, sum.Warned, sum.Failed, sum.Waived, sum.Skipped, sum.NotRun, sum.Errors, sum.Total)
	if sum.Failed+sum.Warned > 0 {
		p("Severity (failed cases; warnings count as low): %s\n\n", mdSeverityCounts(sum.Severity))
	}

	var failed, errored, warned, waived []Case
	for _, c := range r.Cases {
		switch c.Status {
		case Failed:
			failed = append(failed, c)
		case Errored:
			errored = append(errored, c)
		case Warned:
			warned = append(warned, c)
		case Waived:
			waived = append(waived, c)
		}
	}
	section := func(title string, cases []Case) {
		if len(cases) == 0 {
			return
		}
		p("### %s (%d)\n\n", title, len(cases))
		mdCases(bw, cases)
	}
	section("❌ Failed", failed)
	section("⛔ Could not be judged", errored)
	collapsed := func(title string, cases []Case) {
		if len(cases) == 0 {
			return
		}
		p("<details><summary>%s (%d)</summary>\n\n", title, len(cases))
		mdCases(bw, cases)
		p("</details>\n\n")
	}
	collapsed("⚠️ Warnings: SHOULD-level findings", warned)
	collapsed("🔷 Waived failures", waived)
	if len(failed)+len(errored)+len(warned)+len(waived) == 0 && sum.Total > 0 {
		p("Every case that ran passed.\n\n")
	}
	p("<sub>The HTML, JUnit and JSON reports hold every case with its exchanges (redacted).</sub>\n")
	return bw.Flush()
}

func mdCases(w io.Writer, cases []Case) {
	for i, c := range cases {
		if i == mdMaxListed {
			fmt.Fprintf(w, "- … and %d more; see the HTML report.\n", len(cases)-mdMaxListed)
			break
		}
		fmt.Fprintf(w, "- ")
		if c.Severity != "" {
			fmt.Fprintf(w, "**%s** ", mdSeverity(c.Severity))
		}
		fmt.Fprintf(w, "%s %s", mdCode(c.ID), mdText(c.Title))
		if c.Level != "" {
			fmt.Fprintf(w, " (%s)", mdText(c.Level))
		}
		fmt.Fprintln(w)
		if c.Requirement != "" {
			fmt.Fprintf(w, "  - **Requirement:** %s\n", mdText(c.Requirement))
		}
		if c.Reason != "" {
			fmt.Fprintf(w, "  - **Reason:** %s\n", mdText(c.Reason))
		}
		for _, f := range c.Findings {
			fmt.Fprintf(w, "  - **%s** %s: expected %s, got %s\n", mdText(f.Level), mdText(f.Check), mdText(f.Expected), mdText(f.Actual))
		}
		for _, ex := range c.Exchanges {
			if ex.Assertion == nil {
				continue
			}
			if lines := JWTTimeLines(ex.Assertion.Claims, ex.At); len(lines) > 0 {
				var code []string
				for _, l := range lines {
					code = append(code, mdCode(l))
				}
				fmt.Fprintf(w, "  - **Assertion times** (%s): %s\n", mdText(exLabel(ex)), strings.Join(code, " · "))
			}
		}
		if c.Waiver != nil {
			fmt.Fprintf(w, "  - **Waived** until %s: %s\n", mdText(c.Waiver.Expires), mdText(c.Waiver.Reason))
		}
		if c.Hint != "" {
			fmt.Fprintf(w, "  - **Hint:** %s\n", mdText(c.Hint))
		}
		var links []string
		for _, ref := range c.Refs {
			links = append(links, mdLink(ref))
		}
		if len(links) > 0 {
			fmt.Fprintf(w, "  - **Spec:** %s\n", strings.Join(links, " · "))
		}
	}
	fmt.Fprintln(w)
}

func exLabel(ex Exchange) string {
	if ex.Label != "" {
		return ex.Label
	}
	return ex.Method + " " + ex.URL
}

// verdictIcon marks a verdict word in Markdown.
func verdictIcon(verdict string) string {
	switch verdict {
	case VerdictConformant:
		return "✅"
	case VerdictReportOnly:
		return "📝"
	case VerdictNonConformant:
		return "❌"
	case VerdictIncomplete:
		return "⛔"
	}
	return "❔"
}

// mdSeverity is a severity word with a marker that does not rely on colour.
func mdSeverity(s Severity) string {
	switch s {
	case SeverityCritical:
		return "‼️ critical"
	case SeverityHigh:
		return "🔺 high"
	case SeverityMedium:
		return "🔸 medium"
	case SeverityLow:
		return "▫️ low"
	}
	return mdText(string(s))
}

func mdSeverityCounts(n SeverityCounts) string {
	var parts []string
	for _, s := range Severities {
		parts = append(parts, fmt.Sprintf("%s **%d**", mdSeverity(s), n.Of(s)))
	}
	return strings.Join(parts, " · ")
}

// mdMaxText caps one model string in the summary.
const mdMaxText = 500

// mdText escapes a model string for inline Markdown: one line, HTML special
// characters as entities, and every ASCII punctuation Markdown could read
// as syntax backslash-escaped.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > mdMaxText {
		s = string(r[:mdMaxText]) + "…"
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '.', '!', '|', '~', '"', '\'', ':', '@', '$', '%', '^', '=', '/', ';', '?', ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteRune('\uFFFD')
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode shows a string as inline code, or as escaped text when it holds a
// backtick or anything outside printable text.
func mdCode(s string) string {
	for _, r := range s {
		if r == '`' || r == '|' || r < 0x20 || r == 0x7f {
			return mdText(s)
		}
	}
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// mdLink links a spec reference when its URL is http(s); otherwise it is text.
func mdLink(ref Ref) string {
	label := ref.Label
	if label == "" {
		label = ref.URL
	}
	u, err := url.Parse(ref.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return mdText(label)
	}
	return "[" + mdText(label) + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20", "\n", "").Replace(u.String()) + ">)"
}
