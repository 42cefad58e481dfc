package reporter

import (
	"fmt"
	"io"
	"strings"
	"sync"
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
	id := c.ID
	if c.Severity != "" {
		id += " [" + string(c.Severity) + "]"
	}
	line := fmt.Sprintf("[%*d/%d] %s %-16s %s (%s)", width, n, total, word, id, c.Title, ms(c.DurationMs))
	if c.Reason != "" && (c.Status == Skipped || c.Status == NotRun || c.Status == Errored) {
		line += " — " + firstLine(c.Reason)
	}
	fmt.Fprintln(w, line)
}

// ConsoleOptions chooses what the console shows. The zero value hides
// skipped cases (counting them at the end) and shows everything else.
type ConsoleOptions struct {
	Color     bool // ANSI colours (only on a terminal, never in CI)
	ShowSkips bool // print a progress line for each skipped case too
	Quiet     bool // progress lines for failures and errors only; details of failures and errors only
}

// shows says whether a progress line is printed for a case.
func (o ConsoleOptions) shows(c Case) bool {
	switch {
	case o.Quiet:
		return c.Status == Failed || c.Status == Errored
	case c.Status == Skipped:
		return o.ShowSkips
	}
	return true
}

// Progress prints one line per finished case, as ProgressLine does, under
// ConsoleOptions: lines it hides are counted, and Finish says how many.
// It is safe for concurrent use; cases are numbered in the order they
// finish, hidden ones included, so [n/total] stays true.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	total  int
	opts   ConsoleOptions
	n      int
	hidden map[Status]int
}

// NewProgress returns a Progress over total cases writing to w.
func NewProgress(w io.Writer, total int, opts ConsoleOptions) *Progress {
	return &Progress{w: w, total: total, opts: opts, hidden: map[Status]int{}}
}

// Case records a finished case and prints its line unless hidden.
func (p *Progress) Case(c Case) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if !p.opts.shows(c) {
		p.hidden[c.Status]++
		return
	}
	ProgressLine(p.w, p.n, p.total, c, p.opts.Color)
}

// Hidden counts the cases whose line was not printed.
func (p *Progress) Hidden() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, k := range p.hidden {
		n += k
	}
	return n
}

// Finish prints, if any line was hidden, one line saying how many and of
// what status, e.g. "(12 skipped cases not shown)".
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, st := range []Status{Passed, Warned, Waived, NotRun, Skipped} {
		if k := p.hidden[st]; k > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k, htmlStatusMeta(st).word))
		}
	}
	if len(parts) == 0 {
		return
	}
	var what string
	if p.opts.Quiet {
		what = "only failures and errors are shown (quiet)"
	} else {
		what = "skipped cases are hidden"
	}
	fmt.Fprintf(p.w, "(%s not shown: %s)\n", strings.Join(parts, ", "), what)
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
// errors (most severe first) with their findings and the hint, then
// warnings and waived failures.
func PrintDetails(w io.Writer, r *Report) {
	PrintDetailsWith(w, r, ConsoleOptions{})
}

// PrintDetailsWith is PrintDetails under options: Quiet leaves out the
// notes, warnings and waived failures.
func PrintDetailsWith(w io.Writer, r *Report, o ConsoleOptions) {
	var failed, warned []Case
	for _, c := range r.ByAttention() {
		switch c.Status {
		case Failed, Errored:
			failed = append(failed, c)
		case Warned, Waived:
			warned = append(warned, c)
		}
	}
	if !o.Quiet {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\nNote: %s\n", n)
		}
	}
	section := func(title string, cases []Case) {
		if len(cases) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		for _, c := range cases {
			sev := ""
			if c.Severity != "" {
				sev = " [" + string(c.Severity) + "]"
			}
			fmt.Fprintf(w, "\n  %s%s %s — %s\n", statusWord[c.Status], sev, c.ID, c.Title)
			fmt.Fprintf(w, "    requirement: %s\n", c.Requirement)
			for _, ref := range c.Refs {
				fmt.Fprintf(w, "    see: %s <%s>\n", ref.Label, ref.URL)
			}
			if c.Reason != "" {
				fmt.Fprintf(w, "    %s\n", c.Reason)
			}
			for _, f := range c.Findings {
				level := f.Level
				if f.Severity != "" {
					level += ", " + string(f.Severity)
				}
				fmt.Fprintf(w, "    [%s] %s\n      expected: %s\n      actual:   %s\n", level, f.Check, f.Expected, f.Actual)
			}
			if c.Waiver != nil {
				fmt.Fprintf(w, "    waiver (until %s, expired: %t): %s\n", c.Waiver.Expires, c.Waiver.Expired, c.Waiver.Reason)
			}
			if c.Hint != "" {
				fmt.Fprintf(w, "    hint: %s\n", c.Hint)
			}
		}
	}
	section("Failures and errors (most severe first):", failed)
	if !o.Quiet {
		section("Warnings (SHOULD-level; they gate under --fail-on should) and waived failures:", warned)
	}
}

// VerdictLine is the first of the closing lines: the verdict word (which
// always agrees with the exit code), the exit code, the --fail-on that
// applied, and why, e.g.
//
//	verdict: report-only (exit 0, fail-on never) — 3 failed cases (1 critical, 2 medium), not gating: --fail-on never reports failures with exit 0.
func VerdictLine(r *Report) string {
	s := r.Summary
	failOn := r.Run.FailOn
	if failOn == "" {
		failOn = "must"
	}
	line := fmt.Sprintf("verdict: %s (exit %d, fail-on %s)", s.Verdict, s.ExitCode, failOn)
	if s.Why != "" {
		line += " — " + s.Why
	}
	return line
}

// CountsLine counts everything, honestly, just before SummaryLine: each
// status on its own, the total, and the failed cases by severity, e.g.
//
//	counts: 40 passed, 2 warned, 2 failed, 0 errors, 1 not run, 3 skipped, 0 waived (48 total); severity: 1 critical, 1 high, 0 medium, 2 low
func CountsLine(r *Report) string {
	return countsLine(r.Summary)
}

func countsLine(s Summary) string {
	return fmt.Sprintf("counts: %d passed, %d warned, %d failed, %d errors, %d not run, %d skipped, %d waived (%d total); severity: %s",
		s.Passed, s.Warned, s.Failed, s.Errors, s.NotRun, s.Skipped, s.Waived, s.Total, s.Severity)
}

// SummaryLine is the one closing line, "smartconform: N passed, N failed,
// N skipped", for CI tools that parse it. Its three numbers add up to the
// total: passed = passed + warned (a warning is a pass with a remark),
// failed = failed + errors (an error is a case that did not pass; it makes
// the run incomplete), skipped = skipped + not run + waived (cases not
// judged as pass or fail here). CountsLine, just before it, breaks these
// down.
func SummaryLine(r *Report) string {
	return summaryLine(r.Summary)
}

func summaryLine(s Summary) string {
	return fmt.Sprintf("smartconform: %d passed, %d failed, %d skipped", s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived)
}

// WriteClosing writes the closing lines of a run, in order: VerdictLine,
// CountsLine and, last, SummaryLine.
func WriteClosing(w io.Writer, r *Report) {
	fmt.Fprintln(w, VerdictLine(r))
	fmt.Fprintln(w, CountsLine(r))
	fmt.Fprintln(w, SummaryLine(r))
}
