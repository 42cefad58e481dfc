package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/smartconform/smartconform/reporter"
)

// shardSpec is --shard K/N: target number i of the configuration (counted
// from 0, in the order the configuration lists them, tenants expanded) goes
// to shard i mod N + 1. By index rather than by a hash of the name: every
// shard gets the same share (±1), and the configuration, read by every
// shard alike, fixes the order.
type shardSpec struct{ k, n int }

func parseShard(s string) (shardSpec, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return shardSpec{}, fmt.Errorf("want K/N with 1 <= K <= N, e.g. 2/4 (got %q)", s)
	}
	return shardSpec{k, n}, nil
}

func (s shardSpec) has(i int) bool { return i%s.n == s.k-1 }

// shardManifest (shard.json beside a shard's summary.json) says which
// targets of the configuration a shard tested, so that `report merge` can
// put the shards back together in the configuration's order and notice a
// shard missing or given twice.
type shardManifest struct {
	Shard        int           `json:"shard"`
	Of           int           `json:"of"`
	TotalTargets int           `json:"totalTargets"`
	FailOn       string        `json:"failOn"`
	Targets      []shardTarget `json:"targets"`
}

type shardTarget struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Dir   string `json:"dir"`
}

// combinedWriter writes a run over several targets as they are judged:
// each target's three reports, its <testsuite> appended to the combined
// JUnit (kept in a temporary file), and its summary kept; the full reports
// are never all held at once, so memory stays flat in the number of targets.
type combinedWriter struct {
	dir      string
	junit    *os.File // the <testsuite> elements so far
	details  *os.File // job-summary details of failing targets
	detailed int
	stubs    []*reporter.Report // target and summary only
	dirs     []string
	ms       float64
	tests    int
	failures int
	errors   int
}

// maxDetailedTargets caps the failing targets whose details go into the job
// summary (GitHub keeps 1 MiB of it); the table lists every target.
const maxDetailedTargets = 10

func newCombinedWriter(dir string, n int) (*combinedWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	j, err := os.CreateTemp(dir, ".junit-suites.*")
	if err != nil {
		return nil, err
	}
	d, err := os.CreateTemp(dir, ".job-summary.*")
	if err != nil {
		j.Close()
		os.Remove(j.Name())
		return nil, err
	}
	return &combinedWriter{dir: dir, junit: j, details: d, stubs: make([]*reporter.Report, 0, n)}, nil
}

// abort removes the temporary files (a no-op after finish).
func (cw *combinedWriter) abort() {
	for _, f := range []*os.File{cw.junit, cw.details} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	cw.junit, cw.details = nil, nil
}

// add writes a judged target's reports under dir/rel and records it.
func (cw *combinedWriter) add(rep *reporter.Report, rel string) error {
	if err := writeReports(filepath.Join(cw.dir, rel), rep); err != nil {
		return err
	}
	return cw.record(rep, rel)
}

var suiteCounts = regexp.MustCompile(`<testsuite name="[^"]*" tests="(\d+)" failures="(\d+)" errors="(\d+)"`)

// record appends a target whose reports are already under dir/rel.
func (cw *combinedWriter) record(rep *reporter.Report, rel string) error {
	var buf bytes.Buffer
	if err := reporter.WriteJUnitTargets(&buf, []*reporter.Report{rep}); err != nil {
		return err
	}
	doc := buf.String()
	i := strings.Index(doc, "\n  <testsuite ")
	j := strings.LastIndex(doc, "</testsuite>")
	if i < 0 || j < 0 {
		return errors.New("combined junit.xml: unexpected shape of reporter.WriteJUnitTargets")
	}
	seg := doc[i : j+len("</testsuite>")]
	if m := suiteCounts.FindStringSubmatch(seg); m != nil {
		t, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		e, _ := strconv.Atoi(m[3])
		cw.tests, cw.failures, cw.errors = cw.tests+t, cw.failures+f, cw.errors+e
	}
	if _, err := io.WriteString(cw.junit, seg); err != nil {
		return err
	}
	cw.ms += rep.Run.DurationMs
	if rep.Summary.ExitCode != 0 && cw.detailed < maxDetailedTargets {
		cw.detailed++
		if err := reporter.WriteMarkdownSummary(cw.details, rep); err != nil {
			return err
		}
		fmt.Fprintln(cw.details)
	}
	cw.stubs = append(cw.stubs, &reporter.Report{Tool: rep.Tool, TestPlanVersion: rep.TestPlanVersion, Target: rep.Target, Run: reporter.RunInfo{FailOn: rep.Run.FailOn}, Summary: rep.Summary})
	cw.dirs = append(cw.dirs, rel)
	return nil
}

// finish writes summary.json, index.html, junit.xml and, for a shard,
// shard.json, and returns the combined summary.
func (cw *combinedWriter) finish(durationMs float64, failOn string, man *shardManifest) (*reporter.Combined, error) {
	c := reporter.Combine(cw.stubs, cw.dirs, durationMs)
	if c.FailOn == "" {
		c.FailOn = failOn
	}
	if c.Tool.Name == "" {
		c.Tool = reporter.Tool{Name: "smartconform", Version: version}
	}
	if err := writeFile(filepath.Join(cw.dir, "summary.json"), func(w io.Writer) error { return reporter.WriteCombinedJSON(w, c) }); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(cw.dir, "index.html"), func(w io.Writer) error { return reporter.WriteCombinedHTML(w, c) }); err != nil {
		return nil, err
	}
	if _, err := cw.junit.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	err := writeFile(filepath.Join(cw.dir, "junit.xml"), func(w io.Writer) error {
		var name bytes.Buffer
		_ = xml.EscapeText(&name, []byte(fmt.Sprintf("smartconform, %d targets", len(cw.stubs))))
		if _, err := fmt.Fprintf(w, "%s<testsuites name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">", xml.Header, name.String(), cw.tests, cw.failures, cw.errors, cw.ms/1000); err != nil {
			return err
		}
		if _, err := io.Copy(w, cw.junit); err != nil {
			return err
		}
		end := "\n</testsuites>\n"
		if len(cw.stubs) == 0 {
			end = "</testsuites>\n"
		}
		_, err := io.WriteString(w, end)
		return err
	})
	if err != nil {
		return nil, err
	}
	if man != nil {
		raw, err := json.MarshalIndent(man, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := writeFile(filepath.Join(cw.dir, "shard.json"), func(w io.Writer) error { _, err := w.Write(append(raw, '\n')); return err }); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// closeCombined prints the end of a run over several targets (or a merge)
// and writes the job summary; it returns the exit code.
func closeCombined(c *reporter.Combined, cw *combinedWriter, out, failOn string, stdout, stderr io.Writer) int {
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendCombinedStepSummary(path, c, cw); err != nil {
			fmt.Fprintf(stderr, "smartconform: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	cw.abort()
	fmt.Fprintf(stdout, "\nReports: %s, one directory per target under %s\n", filepath.Join(out, "{index.html,summary.json,junit.xml}"), filepath.Join(out, "targets"))
	reporter.WriteCombinedClosing(stdout, c)
	return c.Summary.ExitCode
}

// appendCombinedStepSummary writes the job summary of a run over several
// targets, failed or green: the overall verdict and one table row per
// target (reporter.WriteCombinedMarkdown), then the details of the first
// failing targets.
func appendCombinedStepSummary(path string, c *reporter.Combined, cw *combinedWriter) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := reporter.WriteCombinedMarkdown(f, c, ""); err != nil {
		return err
	}
	if cw.detailed > 0 {
		if _, err := cw.details.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(f, cw.details); err != nil {
			return err
		}
	}
	return nil
}

// mdEscape keeps a table cell a cell: no pipe, no newline, no HTML.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}
