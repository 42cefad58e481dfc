package reporter

import (
	"bytes"
	"strings"
	"testing"
)

func TestAnnotationEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"100% sure":       "100%25 sure",
		"a\r\nb":          "a%0D%0Ab",
		"%0A is literal":  "%250A is literal",
		"x::error::y, z":  "x::error::y, z",
		"\n::warning::hi": "%0A::warning::hi",
	} {
		if got := escapeData(in); got != want {
			t.Errorf("escapeData(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"ASYM-EXP-01 (critical)": "ASYM-EXP-01 (critical)",
		"a:b,c%d\ne":             "a%3Ab%2Cc%25d%0Ae",
	} {
		if got := escapeProperty(in); got != want {
			t.Errorf("escapeProperty(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteAnnotations(t *testing.T) {
	r := schemaRichSample()
	r.Cases[1].Findings[0].Actual = "200\n::error::forged, 100%"
	r.Cases[1].Title = "title, with: colon"
	var buf bytes.Buffer
	if err := WriteAnnotations(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 annotations (a failure, an error, a warning), got:\n%s", buf.String())
	}
	if !strings.HasPrefix(lines[0], "::error title=ASYM-EXP-01 (medium)::title, with: colon%0ARequirement: ") ||
		!strings.Contains(lines[0], "got 200%0A::error::forged, 100%25") {
		t.Errorf("failure annotation: %s", lines[0])
	}
	if !strings.HasPrefix(lines[1], "::error title=DISC-WK-01 (could not be judged)::") {
		t.Errorf("error annotation: %s", lines[1])
	}
	if !strings.HasPrefix(lines[2], "::warning title=ASYM-BEARER-01 (low)::") {
		t.Errorf("warning annotation: %s", lines[2])
	}
	for _, l := range lines {
		if strings.Count(l, "::") < 2 || strings.ContainsAny(l, "\r") {
			t.Errorf("malformed: %q", l)
		}
	}
}
