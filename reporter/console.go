package reporter

import (
	"fmt"
	"io"
	"strings"
)

var statusWord = map[Status]string{
	Passed: "PASS", Warned: "WARN", Failed: "FAIL", Skipped: "SKIP", NotRun: "NOT RUN", Errored: "ERROR", Waived: "WAIVED",
}

var statusColor = map[Status]string{
	Passed: "\x1b[32m", Warned: "\x1b[33m", Failed: "\x1b[31m", Skipped: "\x1b[36m", NotRun: "\x1b[35m", Errored: "\x1b[31;1m", Waived: "\x1b[34m",
}

// ProgressLine prints one line for a finished case. It never rewrites a line
// (no carriage returns), so CI logs read as they were written.
func ProgressLine(w io.Writer, n, total int, c Case, color bool) {
	word := fmt.Sprintf("%-7s", statusWord[c.Status])
	if color {
		word = statusColor[c.Status] + word + "\x1b[0m"
	}
	width := len(fmt.Sprint(total))
	line := fmt.Sprintf("[%*d/%d] %s %-16s %s (%s)", width, n, total, word, c.ID, c.Title, ms(c.DurationMs))
	if c.Reason != "" && (c.Status == Skipped || c.Status == NotRun || c.Status == Errored) {
		line += " — " + firstLine(c.Reason)
	}
	fmt.Fprintln(w, line)
}

func ms(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// PrintDetails prints what went wrong, grouped after the run: failures and
// errors with their findings and the hint, then warnings.
func PrintDetails(w io.Writer, r *Report) {
	var failed, warned []Case
	for _, c := range r.Cases {
		switch c.Status {
		case Failed, Errored:
			failed = append(failed, c)
		case Warned, Waived:
			warned = append(warned, c)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
	section := func(title string, cases []Case) {
		if len(cases) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		for _, c := range cases {
			fmt.Fprintf(w, "\n  %s %s — %s\n", statusWord[c.Status], c.ID, c.Title)
			fmt.Fprintf(w, "    requirement: %s\n", c.Requirement)
			for _, ref := range c.Refs {
				fmt.Fprintf(w, "    see: %s <%s>\n", ref.Label, ref.URL)
			}
			if c.Reason != "" {
				fmt.Fprintf(w, "    %s\n", c.Reason)
			}
			for _, f := range c.Findings {
				fmt.Fprintf(w, "    [%s] %s\n      expected: %s\n      actual:   %s\n", f.Level, f.Check, f.Expected, f.Actual)
			}
			if c.Waiver != nil {
				fmt.Fprintf(w, "    waiver (until %s, expired: %t): %s\n", c.Waiver.Expires, c.Waiver.Expired, c.Waiver.Reason)
			}
			if c.Hint != "" {
				fmt.Fprintf(w, "    hint: %s\n", c.Hint)
			}
		}
	}
	section("Failures and errors:", failed)
	section("Warnings (SHOULD-level; they fail under --strict) and waived failures:", warned)
}

// VerdictLine comes before the summary: the verdict and the counters that
// the closing line does not carry.
func VerdictLine(r *Report) string {
	s := r.Summary
	line := fmt.Sprintf("verdict: %s (exit %d)", s.Verdict, s.ExitCode)
	var extra []string
	if s.Warned > 0 {
		extra = append(extra, fmt.Sprintf("%d passed with warnings", s.Warned))
	}
	if s.Waived > 0 {
		extra = append(extra, fmt.Sprintf("%d waived", s.Waived))
	}
	if s.NotRun > 0 {
		extra = append(extra, fmt.Sprintf("%d not run", s.NotRun))
	}
	if s.Errors > 0 {
		extra = append(extra, fmt.Sprintf("%d errors", s.Errors))
	}
	if len(extra) > 0 {
		line += "; " + strings.Join(extra, ", ")
	}
	return line
}

// SummaryLine is the one closing line, "smartconform: N passed, N failed,
// N skipped", where passed counts warned cases too, skipped counts the
// cases not run and the waived failures, and errors count as failed (the
// run is incomplete); VerdictLine, just before it, breaks these down.
func SummaryLine(r *Report) string {
	s := r.Summary
	return fmt.Sprintf("smartconform: %d passed, %d failed, %d skipped", s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived)
}
