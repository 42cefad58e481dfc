package reporter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func mdRender(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteMarkdownSummary(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// mdSection returns the text from the line starting with head up to the next
// "### " heading or "<details>" block.
func mdSection(t *testing.T, md, head string) string {
	t.Helper()
	i := strings.Index(md, head)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", head, md)
	}
	rest := md[i+len(head):]
	end := len(rest)
	for _, stop := range []string{"\n### ", "\n<details>", "\n<sub>"} {
		if j := strings.Index(rest, stop); j >= 0 && j < end {
			end = j
		}
	}
	return rest[:end]
}

func TestMarkdownSummaryOfAFailingRun(t *testing.T) {
	r := schemaRichSample()
	md := mdRender(t, r)

	if !strings.HasPrefix(md, "## ⛔ smartconform: incomplete \\(1 case not judged\\) — Acme\n") {
		t.Errorf("heading: %q", strings.SplitN(md, "\n", 2)[0])
	}
	for _, want := range []string{"exit code **3**", "smartconform `v1.2.3`", "profile `smart-v1`", "fail-on `should`",
		"faults `accept-expired`", "TLS verification was off", "> **Note:** TLS verification was off\\."} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q", want)
		}
	}
	s := r.Summary
	row := fmt.Sprintf("| %d | %d | %d | %d | %d | %d | %d | %d |", s.Passed, s.Warned, s.Failed, s.Waived, s.Skipped, s.NotRun, s.Errors, s.Total)
	if !strings.Contains(md, "| ✅ Passed | ⚠️ Warned | ❌ Failed | 🔷 Waived | ➖ Skipped | ⊘ Not run | ⛔ Errors | Total |\n|---:|") ||
		!strings.Contains(md, row) {
		t.Errorf("counters table missing or wrong, want row %s:\n%s", row, md)
	}

	failed := mdSection(t, md, "### ❌ Failed (1)")
	for _, want := range []string{"- **🔸 medium** `ASYM-EXP-01` title of ASYM\\-EXP\\-01 (MUST)", "**Requirement:** The server MUST refuse it\\.",
		"**MUST** status: expected 400 or 401, got 200", "**Hint:** exp is not checked",
		"**Spec:** [RFC 6749 §5\\.2](<https://www.rfc-editor.org/rfc/rfc6749#section-5.2>)"} {
		if !strings.Contains(failed, want) {
			t.Errorf("failed section lacks %q:\n%s", want, failed)
		}
	}
	if strings.Contains(failed, "ASYM-POS-01") || strings.Contains(failed, "ASYM-BEARER-01") {
		t.Errorf("the failed section lists a case that did not fail:\n%s", failed)
	}
	errored := mdSection(t, md, "### ⛔ Could not be judged (1)")
	if !strings.Contains(errored, "`DISC-WK-01`") || !strings.Contains(errored, "**Reason:** no answer") {
		t.Errorf("error section:\n%s", errored)
	}
	warn := mdSection(t, md, "<details><summary>⚠️ Warnings: SHOULD-level findings (1)</summary>\n\n")
	if !strings.Contains(warn, "`ASYM-BEARER-01`") || !strings.Contains(warn, "**SHOULD** WWW\\-Authenticate: expected present, got absent") ||
		!strings.Contains(warn, "</details>") {
		t.Errorf("warnings block:\n%s", warn)
	}
	waived := mdSection(t, md, "<details><summary>🔷 Waived failures (1)</summary>")
	if !strings.Contains(waived, "`ASYM-KID-01`") || !strings.Contains(waived, "**Waived** until 2026\\-12\\-31: vendor ticket 123") {
		t.Errorf("waived block:\n%s", waived)
	}
	if strings.Contains(md, "Every case that ran passed") {
		t.Error("a failing run says every case passed")
	}
}

func TestMarkdownSummaryOfAConformantRun(t *testing.T) {
	r := schemaRichSample()
	for i := range r.Cases {
		r.Cases[i].Status = Passed
	}
	r.Run.FailOn = ""
	r.Summarize()
	md := mdRender(t, r)
	if !strings.HasPrefix(md, "## ✅ smartconform: conformant — Acme\n") || !strings.Contains(md, "exit code **0**") ||
		!strings.Contains(md, "Every case that ran passed.") {
		t.Errorf("conformant summary:\n%s", md)
	}
	if !strings.Contains(md, "fail-on `must`") || !strings.Contains(md, "**Why:** No case failed") {
		t.Errorf("the conformant summary does not say which fail-on applied and why:\n%s", md)
	}
	for _, no := range []string{"### ", "<details>", "Severity (failed"} {
		if strings.Contains(md, no) {
			t.Errorf("conformant summary has %q:\n%s", no, md)
		}
	}
}

// What the server sends must show as text: no HTML, no Markdown link, no
// table break, no heading, wherever it lands.
func TestMarkdownSummaryEscapesServerText(t *testing.T) {
	r := schemaRichSample()
	hostile := "</details><script>alert(1)</script> [click](javascript:alert(2)) | cell |\n# heading ![img](https://evil.example/x.png) `code` *em* <img src=x onerror=alert(3)>"
	r.Target.Name = hostile
	r.Notes = []string{hostile}
	for i := range r.Cases {
		c := &r.Cases[i]
		c.Title, c.Reason, c.Hint = hostile, hostile, hostile
		for j := range c.Findings {
			c.Findings[j].Actual = hostile
		}
		c.Refs = append(c.Refs, Ref{Label: hostile, URL: "javascript:alert(4)"}, Ref{Label: "ok", URL: "https://example.org/a b>c"})
	}
	md := mdRender(t, r)
	for _, bad := range []string{"<script", "<img", "</details><script", "](javascript:", "](https://evil", "\n# heading", "`code`", " *em* ", "| cell |", "<https://example.org/a b>"} {
		if strings.Contains(md, bad) {
			t.Errorf("server text leaked as markup %q", bad)
		}
	}
	if n := strings.Count(md, "<details>"); n != strings.Count(md, "</details>") || n != 2 {
		t.Errorf("<details> blocks unbalanced or hostile: %d open, %d closed", n, strings.Count(md, "</details>"))
	}
	if !strings.Contains(md, "&lt;script&gt;alert\\(1\\)&lt;\\/script&gt;") || !strings.Contains(md, "[ok](<https://example.org/a%20b%3Ec>)") {
		t.Errorf("escaped text or safe link missing:\n%s", md)
	}
}

func TestMarkdownSummaryCapsLongLists(t *testing.T) {
	r := &Report{SchemaVersion: SchemaVersion, Target: Target{Name: "many"}}
	for i := 0; i < mdMaxListed+7; i++ {
		r.Cases = append(r.Cases, Case{ID: fmt.Sprintf("X-%03d", i), Title: "t", Status: Failed})
	}
	md := mdRender(t, r) // never summarized: the writer counts a copy
	if !strings.Contains(md, "### ❌ Failed (57)") || !strings.Contains(md, "… and 7 more; see the HTML report.") ||
		strings.Contains(md, "`X-050`") || !strings.Contains(md, "`X-049`") {
		t.Errorf("long list not capped at %d:\n%s", mdMaxListed, md)
	}
	if err := WriteMarkdownSummary(&bytes.Buffer{}, nil); err == nil {
		t.Error("a nil report gave no error")
	}
}
