package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/reporter"
)

func newReportCmd(stdout, stderr io.Writer) *cobra.Command {
	var from, out string
	cmd := &cobra.Command{
		Use:   "report --from report.json [--out DIR]",
		Short: "Re-render HTML and JUnit from a saved report.json; merge shards",
		Long: `Re-render junit.xml and report.html (and a copy of report.json) from a
report.json written by 'smartconform run', e.g. after a newer smartconform
improved the HTML.

The file is validated first against the report's JSON Schema and for
consistency (the summary's counts must be those of its cases); a file that
fails either, or a combined summary.json, is refused with the reason (exit 2).`,
		Example: `  smartconform report --from old/report.json --out rerendered
  smartconform report merge --out report shard-1 shard-2 shard-3 shard-4`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if from == "" {
				return usagef("--from is required")
			}
			return code(cmdReport(from, out, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "a report.json written by 'smartconform run' (required)")
	cmd.Flags().StringVar(&out, "out", "./smartconform-report", "directory for junit.xml, report.html and report.json")
	_ = cmd.MarkFlagFilename("from", "json")
	_ = cmd.MarkFlagDirname("out")
	cmd.AddCommand(newMergeCmd(stdout, stderr))
	return withEnvHelp(cmd)
}

func cmdReport(from, out string, stdout, stderr io.Writer) int {
	rep, err := loadReport(from)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform report: %s: %v\nsee 'smartconform help report'\n", from, err)
		return exitUsage
	}
	if err := checkOutDir(out); err != nil {
		fmt.Fprintf(stderr, "smartconform report: --out: %v\n", err)
		return exitUsage
	}
	if err := writeReports(out, rep); err != nil {
		fmt.Fprintf(stderr, "smartconform report: %v\n", err)
		return exitIncomplete
	}
	fmt.Fprintf(stdout, "Re-rendered %s into %s\n", from, out)
	fmt.Fprintln(stdout, reporter.SummaryLine(rep))
	return exitOK
}

// loadReport reads a report.json and refuses what cannot be rendered
// truthfully: not a report (a combined summary.json), not valid against
// reporter.ReportSchema, or a summary that disagrees with the cases.
func loadReport(path string) (*reporter.Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, ok := probe["targets"]; ok {
		if _, ok := probe["cases"]; !ok {
			return nil, errors.New("this is the summary.json of a run over several targets, not a report; re-render a target's report.json (under targets/), or combine shards with 'smartconform report merge'")
		}
	}
	if err := validateReportJSON(raw); err != nil {
		return nil, err
	}
	var stored reporter.Report // as written, before ReadJSON summarizes it again
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, err
	}
	if err := checkConsistent(&stored); err != nil {
		return nil, err
	}
	return reporter.ReadJSON(path)
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// reportSchema compiles reporter.ReportSchema once.
func reportSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(reporter.ReportSchema))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("report.schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("report.schema.json")
	})
	return schema, schemaErr
}

// validateReportJSON validates a report.json against reporter.ReportSchema.
func validateReportJSON(raw []byte) error {
	sch, err := reportSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("does not match the report schema (reporter/report.schema.json): %v", err)
	}
	return nil
}

// checkConsistent: the summary's counts are what its cases give (a
// hand-edited or tampered summary is refused). The verdict and exit code
// are not compared: reporter.ReadJSON derives them again under today's
// verdict model, so a report from an earlier version still renders.
func checkConsistent(rep *reporter.Report) error {
	s := rep.Summary
	for name, n := range map[string]int{"total": s.Total, "passed": s.Passed, "warned": s.Warned, "failed": s.Failed, "waived": s.Waived, "skipped": s.Skipped, "notRun": s.NotRun, "errors": s.Errors} {
		if n < 0 {
			return fmt.Errorf("summary.%s is %d: a count is never negative", name, n)
		}
	}
	cp := *rep
	cp.Cases = append([]reporter.Case(nil), rep.Cases...)
	cp.Summarize()
	w := cp.Summary
	type pair struct {
		name      string
		got, want int
	}
	for _, p := range []pair{{"total", s.Total, w.Total}, {"passed", s.Passed, w.Passed}, {"warned", s.Warned, w.Warned}, {"failed", s.Failed, w.Failed},
		{"waived", s.Waived, w.Waived}, {"skipped", s.Skipped, w.Skipped}, {"notRun", s.NotRun, w.NotRun}, {"errors", s.Errors, w.Errors}} {
		if p.got != p.want {
			return fmt.Errorf("summary.%s is %d but the cases give %d: the summary disagrees with the cases", p.name, p.got, p.want)
		}
	}
	return nil
}

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out DIR SHARD-DIR...",
		Short: "Combine the --out directories of 'run --shard K/N' into the reports of one run",
		Long: `Combine the output directories of the N shards of a run ('smartconform run
--shard K/N', one per machine or job) into the reports one unsharded run
would have written: each target's directory under DIR/targets, and the
combined index.html, summary.json and junit.xml, in the configuration's
order. The exit code is the unsharded run's. Every shard 1..N must be given
exactly once.`,
		Example: `  smartconform report merge --out report shard-1 shard-2 shard-3 shard-4
  smartconform report merge --out report shards/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, dirs []string) error {
			return code(cmdMerge(out, dirs, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&out, "out", "./smartconform-report", "directory for the combined reports")
	_ = cmd.MarkFlagDirname("out")
	return withEnvHelp(cmd)
}

var targetDirRE = regexp.MustCompile(`^targets/[a-z0-9]+(-[a-z0-9]+)*$`)

type mergedTarget struct {
	shardTarget
	from string // the shard directory
}

func cmdMerge(out string, dirs []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "smartconform report merge: "+format+"\nsee 'smartconform help report merge'\n", a...)
		return exitUsage
	}
	var all []mergedTarget
	seen := map[int]string{}
	of, total, failOn := 0, -1, ""
	var durationMs float64
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "shard.json"))
		if err != nil {
			return fail("%s: no shard.json (is it the --out of 'smartconform run --shard K/N'?): %v", d, err)
		}
		var m shardManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return fail("%s/shard.json: %v", d, err)
		}
		if of == 0 {
			of, total, failOn = m.Of, m.TotalTargets, m.FailOn
		}
		if m.Of != of || m.TotalTargets != total || m.FailOn != failOn {
			return fail("%s is shard %d/%d of %d targets (fail-on %s); the first is of %d/%d targets (fail-on %s): not the same run", d, m.Shard, m.Of, m.TotalTargets, m.FailOn, of, total, failOn)
		}
		if prev, ok := seen[m.Shard]; ok {
			return fail("shard %d/%d is given twice: %s and %s", m.Shard, of, prev, d)
		}
		seen[m.Shard] = d
		for _, t := range m.Targets {
			// A directory a run names (targets/<slug>): never a path that
			// would read or write outside the shard or --out.
			if !targetDirRE.MatchString(filepath.ToSlash(t.Dir)) {
				return fail("%s/shard.json: target %d has directory %q, not targets/<name>", d, t.Index, t.Dir)
			}
			all = append(all, mergedTarget{t, d})
		}
		var c reporter.Combined
		if raw, err := os.ReadFile(filepath.Join(d, "summary.json")); err == nil && json.Unmarshal(raw, &c) == nil && c.DurationMs > durationMs {
			durationMs = c.DurationMs // shards run side by side: the slowest
		}
	}
	var missing []string
	for k := 1; k <= of; k++ {
		if _, ok := seen[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, of))
		}
	}
	if len(missing) > 0 {
		return fail("shard %s missing: every shard 1..%d must be given once", strings.Join(missing, ", "), of)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Index < all[j].Index })
	if len(all) != total {
		return fail("the shards hold %d targets; the configuration had %d", len(all), total)
	}
	for i, t := range all {
		if t.Index != i {
			return fail("target number %d is missing or given twice", i)
		}
	}
	if err := checkOutDir(out); err != nil {
		return fail("--out: %v", err)
	}
	cw, err := newCombinedWriter(out, len(all))
	if err != nil {
		fmt.Fprintf(stderr, "smartconform report merge: %v\n", err)
		return exitIncomplete
	}
	defer cw.abort()
	for _, t := range all {
		src := filepath.Join(t.from, t.Dir)
		rep, err := loadReport(filepath.Join(src, "report.json"))
		if err != nil {
			return fail("%s: %v", filepath.Join(src, "report.json"), err)
		}
		if !sameDir(src, filepath.Join(out, t.Dir)) {
			if err := copyReports(src, filepath.Join(out, t.Dir)); err != nil {
				fmt.Fprintf(stderr, "smartconform report merge: %v\n", err)
				return exitIncomplete
			}
		}
		if err := cw.record(rep, t.Dir); err != nil {
			fmt.Fprintf(stderr, "smartconform report merge: %v\n", err)
			return exitIncomplete
		}
	}
	c, err := cw.finish(durationMs, failOn, nil)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform report merge: %v\n", err)
		return exitIncomplete
	}
	fmt.Fprintf(stdout, "Merged %d shards (%d targets) into %s\n", of, len(all), out)
	return closeCombined(c, cw, out, failOn, stdout, stderr)
}

func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// copyReports copies a target's three reports.
func copyReports(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"junit.xml", "report.json", "report.html"} {
		raw, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dst, name), func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
			return err
		}
	}
	return nil
}
