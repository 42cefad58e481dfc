package reporter

import (
	"fmt"
	"io"
	"strings"
)

// WriteAnnotations writes GitHub Actions workflow commands that annotate
// the run: "::error title=CASE-ID (severity)::message" for each failure
// (most severe first) and each error, "::warning title=CASE-ID (low)::…"
// for each warning. The message is the requirement, the findings
// (expected/actual) and the hint, on several lines. Data is escaped as
// GitHub requires (% → %25, CR → %0D, LF → %0A) and properties also
// (: → %3A, , → %2C), so nothing the server sent can end the command or
// start another. GitHub shows at most 10 of each kind per step; the most
// severe come first.
func WriteAnnotations(w io.Writer, r *Report) error {
	for _, c := range r.ByAttention() {
		var kind, what string
		switch c.Status {
		case Failed:
			kind, what = "error", string(c.Severity)
			if what == "" {
				what = "failed"
			}
		case Errored:
			kind, what = "error", "could not be judged"
		case Warned:
			kind, what = "warning", string(SeverityLow)
		default:
			continue
		}
		title := fmt.Sprintf("%s (%s)", c.ID, what)
		if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", kind, escapeProperty(title), escapeData(annotationMessage(c))); err != nil {
			return err
		}
	}
	return nil
}

func annotationMessage(c Case) string {
	var b strings.Builder
	b.WriteString(c.Title)
	if c.Requirement != "" {
		b.WriteString("\nRequirement: " + c.Requirement)
	}
	if c.Reason != "" {
		b.WriteString("\n" + c.Reason)
	}
	for _, f := range c.Findings {
		fmt.Fprintf(&b, "\n[%s] %s: expected %s, got %s", f.Level, f.Check, f.Expected, f.Actual)
	}
	if c.Hint != "" {
		b.WriteString("\nHint: " + c.Hint)
	}
	return b.String()
}

// escapeData escapes the message of a workflow command.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value of a workflow command.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
