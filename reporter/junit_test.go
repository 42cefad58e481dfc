package reporter

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// schemaPath is the Jenkins xUnit plugin's JUnit schema, as committed in
// the repository (never a path outside it: a fresh clone must pass).
const schemaPath = "../.github/junit-10.xsd"

func sampleForJUnit() *Report {
	r := &Report{SchemaVersion: SchemaVersion, Tool: Tool{Name: "smartconform", Version: "test"}, TestPlanVersion: "t",
		Target: Target{Name: "sample <&> target"}, Run: RunInfo{Start: time.Unix(1700000000, 0), DurationMs: 1234, Profile: "smart-v2"}}
	mk := func(id, area string, st Status) Case {
		return Case{ID: id, Title: "title of " + id + " <b>&</b>", Requirement: "The server MUST do \"things\".", Area: area, Level: "MUST",
			Refs: []Ref{{Label: "RFC 6749 §5.2", URL: "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"}}, Status: st, DurationMs: 12.5}
	}
	failed := mk("ASYM-EXP-01", "private_key_jwt", Failed)
	failed.Findings = []Finding{{Level: "MUST", Check: "status", Expected: "400 or 401", Actual: "200\x00 with ]]> inside"}}
	failed.Hint = "check exp"
	warned := mk("ASYM-BEARER-01", "private_key_jwt", Warned)
	warned.Findings = []Finding{{Level: "SHOULD", Check: "status", Expected: "401", Actual: "400"}}
	skipped := mk("SYM-POST-01", "client-secret", Skipped)
	skipped.Reason = "no client_secret_post client is configured"
	notrun := mk("SYM-POST-02", "client-secret", NotRun)
	notrun.Reason = "baseline failed"
	errored := mk("DISC-WK-01", "discovery", Errored)
	errored.Reason = "no answer: connection refused"
	r.Cases = []Case{mk("ASYM-POS-01", "private_key_jwt", Passed), failed, warned, skipped, notrun, errored}
	r.Summarize()
	return r
}

func TestJUnitIsValidAgainstTheJenkinsXUnitSchema(t *testing.T) {
	if _, err := os.Stat(schemaPath); err != nil {
		t.Fatalf("schema: %v (the repository commits it as .github/junit-10.xsd)", err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed: run `make tools` (Debian package libxml2-utils)")
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sampleForJUnit()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", schemaPath, p).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, buf.String())
	}
}

func TestJUnitShapeAndCounts(t *testing.T) {
	var buf bytes.Buffer
	r := sampleForJUnit()
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 6 || doc.Failures != 1 || doc.Errors != 1 {
		t.Errorf("counts %d/%d/%d", doc.Tests, doc.Failures, doc.Errors)
	}
	sum := 0
	for _, s := range doc.Suites {
		n := 0
		for _, c := range s.Cases {
			n++
			if c.Classname != s.Name || !strings.HasPrefix(c.Name, "[") {
				t.Errorf("testcase %q classname %q in suite %q", c.Name, c.Classname, s.Name)
			}
			switch {
			case strings.Contains(c.Name, "ASYM-EXP-01"):
				if c.Failure == nil || !strings.Contains(c.Failure.Body, "400 or 401") {
					t.Errorf("failed case: %+v", c)
				}
			case strings.Contains(c.Name, "DISC-WK-01"):
				if c.Error == nil || !strings.Contains(c.Error.Message, "connection refused") {
					t.Errorf("error case: %+v", c)
				}
			case strings.Contains(c.Name, "SYM-POST-0"):
				if c.Skipped == nil || c.Skipped.Message == "" {
					t.Errorf("skipped case: %+v", c)
				}
			case strings.Contains(c.Name, "ASYM-BEARER-01"):
				if c.Failure != nil || !strings.Contains(c.SystemOut, "WARNING") {
					t.Errorf("warned case: %+v", c)
				}
			}
		}
		if n != s.Tests {
			t.Errorf("suite %s says %d tests, has %d", s.Name, s.Tests, n)
		}
		sum += n
	}
	if sum != doc.Tests {
		t.Errorf("suites hold %d tests, document says %d", sum, doc.Tests)
	}
}
