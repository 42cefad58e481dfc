package reporter

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"
)

// TestJUnitReadBySecondConsumer parses the JUnit we write with go-junit, an
// independent parser CI tools use, and checks that it sees what the model
// says: one testcase per case named by its ID, classname = area, each status
// mapped (failed → failure, error → error, skipped/not run/waived →
// skipped, warned → passed with the warning in the output), and counts that
// equal the model's summary and the document's own attributes.
func TestJUnitReadBySecondConsumer(t *testing.T) {
	for name, r := range map[string]*Report{"junit sample": sampleForJUnit(), "rich sample": schemaRichSample()} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJUnit(&buf, r); err != nil {
				t.Fatal(err)
			}
			suites, err := junit.Ingest(buf.Bytes())
			if err != nil {
				t.Fatalf("go-junit cannot read it: %v", err)
			}

			byName := map[string]junit.Test{}
			var totals junit.Totals
			for _, s := range suites {
				for _, tc := range s.Tests {
					if _, dup := byName[tc.Name]; dup {
						t.Errorf("testcase %q appears twice", tc.Name)
					}
					byName[tc.Name] = tc
					if tc.Classname != s.Name {
						t.Errorf("testcase %q: classname %q in suite %q", tc.Name, tc.Classname, s.Name)
					}
				}
				totals.Tests += s.Totals.Tests
				totals.Passed += s.Totals.Passed
				totals.Failed += s.Totals.Failed
				totals.Error += s.Totals.Error
				totals.Skipped += s.Totals.Skipped
			}
			if len(byName) != len(r.Cases) {
				t.Errorf("go-junit sees %d testcases, the report has %d cases", len(byName), len(r.Cases))
			}

			want := map[Status]junit.Status{Passed: junit.StatusPassed, Warned: junit.StatusPassed, Failed: junit.StatusFailed,
				Errored: junit.StatusError, Skipped: junit.StatusSkipped, NotRun: junit.StatusSkipped, Waived: junit.StatusSkipped}
			for _, c := range r.Cases {
				name := "[" + c.ID + "] " + c.Title
				tc, ok := byName[name]
				if !ok {
					t.Errorf("no testcase named %q", name)
					continue
				}
				if tc.Classname != c.Area {
					t.Errorf("%s: classname %q, want the area %q", c.ID, tc.Classname, c.Area)
				}
				if tc.Status != want[c.Status] {
					t.Errorf("%s (%s): go-junit reads status %q, want %q", c.ID, c.Status, tc.Status, want[c.Status])
				}
				if got, exp := tc.Duration, time.Duration(c.DurationMs*float64(time.Millisecond)).Round(time.Millisecond); got != exp {
					t.Errorf("%s: duration %v, want %v", c.ID, got, exp)
				}
				if !strings.Contains(tc.SystemOut, c.Requirement) {
					t.Errorf("%s: the requirement is not in system-out: %q", c.ID, tc.SystemOut)
				}
				switch c.Status {
				case Failed:
					// (Actual may hold bytes XML cannot carry, written as U+FFFD.)
					f := c.Findings[0]
					if !strings.Contains(tc.Message, f.Check) || !strings.Contains(tc.Message, f.Expected) || !strings.Contains(tc.Error.Error(), f.Expected) {
						t.Errorf("%s: failure message %q / body %q does not carry the finding", c.ID, tc.Message, tc.Error)
					}
				case Errored:
					if tc.Message == "" || !strings.Contains(tc.Message, c.Reason) {
						t.Errorf("%s: error message %q, want the reason %q", c.ID, tc.Message, c.Reason)
					}
				case Skipped, NotRun:
					if !strings.Contains(tc.Message, string(c.Status)) || !strings.Contains(tc.Message, c.Reason) {
						t.Errorf("%s: skipped message %q, want the status and reason %q", c.ID, tc.Message, c.Reason)
					}
				case Waived:
					if !strings.Contains(tc.Message, c.Waiver.Reason) || !strings.Contains(tc.Message, c.Waiver.Expires) {
						t.Errorf("%s: waived message %q, want the waiver's reason and expiry", c.ID, tc.Message)
					}
				case Warned:
					if !strings.Contains(tc.SystemOut, "WARNING") || !strings.Contains(tc.SystemOut, c.Findings[0].Check) {
						t.Errorf("%s: the warning is not in the output: %q", c.ID, tc.SystemOut)
					}
				}
			}

			s := r.Summary
			if totals.Tests != s.Total || totals.Failed != s.Failed || totals.Error != s.Errors ||
				totals.Skipped != s.Skipped+s.NotRun+s.Waived || totals.Passed != s.Passed+s.Warned {
				t.Errorf("go-junit totals %+v do not match the summary %+v", totals, s)
			}

			// The document's own count attributes agree with what go-junit counted.
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Errors   int `xml:"errors,attr"`
				Suites   []struct {
					Name     string `xml:"name,attr"`
					Tests    int    `xml:"tests,attr"`
					Failures int    `xml:"failures,attr"`
					Errors   int    `xml:"errors,attr"`
					Skipped  int    `xml:"skipped,attr"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Tests != totals.Tests || doc.Failures != totals.Failed || doc.Errors != totals.Error {
				t.Errorf("<testsuites> says %d/%d/%d tests/failures/errors, go-junit counts %d/%d/%d",
					doc.Tests, doc.Failures, doc.Errors, totals.Tests, totals.Failed, totals.Error)
			}
			if len(doc.Suites) != len(suites) {
				t.Fatalf("%d <testsuite>, go-junit read %d", len(doc.Suites), len(suites))
			}
			for i, ds := range doc.Suites {
				gt := suites[i].Totals
				if ds.Name != suites[i].Name || ds.Tests != gt.Tests || ds.Failures != gt.Failed || ds.Errors != gt.Error || ds.Skipped != gt.Skipped {
					t.Errorf("<testsuite %s> says %d/%d/%d/%d tests/failures/errors/skipped, go-junit counts %+v",
						ds.Name, ds.Tests, ds.Failures, ds.Errors, ds.Skipped, gt)
				}
			}
			if got := suites[0].Properties["verdict"]; got != s.Verdict {
				t.Errorf("verdict property %q, want %q", got, s.Verdict)
			}
		})
	}
}
