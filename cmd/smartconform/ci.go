package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/smartconform/smartconform/reporter"
)

// inGitHubActions: GitHub sets GITHUB_ACTIONS=true in every step.
func inGitHubActions() bool { return os.Getenv("GITHUB_ACTIONS") == "true" }

// maxAnnotations caps the annotations of one report (GitHub shows at most
// 10 errors and 10 warnings per step anyway; the reports hold the rest).
const maxAnnotations = 20

// writeAnnotations prints GitHub workflow commands for the failures and
// errors (::error) and warnings (::warning) of one target of a run over
// several, titled with the case ID and the target, at most maxAnnotations
// per target. A run over one target uses reporter.WriteAnnotations, whose
// titles name no target.
//
// TODO(integrator): if reporter.WriteAnnotations learns to name the target
// (and to cap), call it here too.
func writeAnnotations(w io.Writer, rep *reporter.Report, target, failOn string) {
	n := 0
	for _, c := range rep.ByAttention() {
		var kind string
		switch c.Status {
		case reporter.Failed, reporter.Errored:
			kind = "error"
		case reporter.Warned:
			kind = "warning"
			if failOn == "should" {
				kind = "error" // it gates the run
			}
		default:
			continue
		}
		if n == maxAnnotations {
			fmt.Fprintf(w, "::notice title=smartconform::%s\n", ghData(fmt.Sprintf("%d more failures and warnings are in the reports", countAttention(rep)-n)))
			return
		}
		n++
		title := c.ID
		if target != "" {
			title += " (" + target + ")"
		}
		msg := fmt.Sprintf("%s %s — %s", strings.ToUpper(string(c.Status)), c.ID, c.Title)
		if c.Severity != "" {
			msg += " [" + string(c.Severity) + "]"
		}
		msg += "\nrequirement: " + c.Requirement
		if c.Reason != "" {
			msg += "\n" + c.Reason
		}
		for _, f := range c.Findings {
			msg += fmt.Sprintf("\n[%s] %s: expected %s; actual %s", f.Level, f.Check, f.Expected, f.Actual)
		}
		if c.Hint != "" {
			msg += "\nhint: " + c.Hint
		}
		for _, r := range c.Refs {
			msg += fmt.Sprintf("\nsee: %s <%s>", r.Label, r.URL)
		}
		fmt.Fprintf(w, "::%s title=%s::%s\n", kind, ghProperty(title), ghData(msg))
	}
}

func countAttention(rep *reporter.Report) int {
	s := rep.Summary
	return s.Failed + s.Errors + s.Warned
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// appendStepSummary appends the Markdown job summary GitHub Actions shows
// on the run's page (GITHUB_STEP_SUMMARY names the file).
func appendStepSummary(path string, rep *reporter.Report) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := reporter.WriteMarkdownSummary(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
