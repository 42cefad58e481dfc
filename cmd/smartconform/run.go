package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "", "target configuration file (YAML); without it, the embedded reference server is started and tested")
	out := fs.String("out", "./smartconform-report", "directory for junit.xml, report.html and report.json")
	labels := fs.String("label-filter", "", "Ginkgo label filter, e.g. 'method:private_key_jwt && negative' (labels: case ID, area:X, method:X, positive, negative, level:must, level:should)")
	var focus, faults listFlag
	fs.Var(&focus, "focus", "run only cases whose ID or title matches this regular expression (repeatable)")
	strict := fs.Bool("strict", false, "SHOULD-level findings fail the run instead of warning")
	profile := fs.String("profile", "smart-v2", "reading of the specs where they disagree: smart-v2, smart-v1 or oauth")
	timeout := fs.Duration("timeout", time.Hour, "give up on the whole run after this long (the unrun cases are reported not run, exit 3)")
	fs.Var(&faults, "fault", "with no --config: switch on a fault of the embedded reference server (repeatable; see 'smartconform serve -h')")
	latency := fs.Duration("latency", 0, "with no --config: delay each answer of the embedded reference server (e.g. 100ms), as a remote server would")
	concurrency := fs.Int("concurrency", engine.DefaultConcurrency, "how many cases of a target run at once (verdicts do not depend on it)")
	parallelTargets := fs.Int("parallel-targets", engine.DefaultParallelTargets, "with a configuration listing several targets: how many are tested at once")
	rate := fs.Float64("rate", 0, "at most this many requests per second to the target (0: no cap); a 429 with Retry-After is waited out")
	failOn := fs.String("fail-on", "must", "what makes the exit code 1: must (a failed case), should (also a warning), never (report only; an incomplete run still exits 3)")
	waiversPath := fs.String("waivers", "", "YAML file of known failures (id, reason, expires: YYYY-MM-DD): shown as waived, not failing the run until they expire")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify the target's TLS certificate (explicit opt-in; stamped on every report, and the results then say nothing about the certificate)")
	verbose := fs.Bool("v", false, "also stream Ginkgo's own reporter to stderr")
	noColor := fs.Bool("no-color", false, "no colour on the console (also NO_COLOR, and always off when not a terminal or in CI)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	switch *profile {
	case "smart-v2", "smart-v1", "oauth":
	default:
		fmt.Fprintf(stderr, "smartconform run: --profile must be smart-v2, smart-v1 or oauth (got %q)\n", *profile)
		return exitUsage
	}
	switch *failOn {
	case "must", "should", "never":
	default:
		fmt.Fprintf(stderr, "smartconform run: --fail-on must be must, should or never (got %q)\n", *failOn)
		return exitUsage
	}
	if *concurrency < 1 || *parallelTargets < 1 || *rate < 0 {
		fmt.Fprintln(stderr, "smartconform run: --concurrency and --parallel-targets must be at least 1, --rate not negative")
		return exitUsage
	}
	var waivers []reporter.Waiver
	if *waiversPath != "" {
		var err error
		if waivers, err = reporter.LoadWaivers(*waiversPath); err != nil {
			fmt.Fprintf(stderr, "smartconform run: --waivers: %v\n", err)
			return exitUsage
		}
	}
	var targets []*config.Target
	reference := *cfgPath == ""
	if reference {
		fset, err := refserver.ParseFaults(faults)
		if err != nil {
			fmt.Fprintf(stderr, "smartconform run: --fault: %v\n", err)
			return exitUsage
		}
		// Over TLS, as a real server is, so the transport cases are judged.
		srv, err := refserver.Start(refserver.Options{Faults: fset, Latency: *latency, TLS: true})
		if err != nil {
			fmt.Fprintf(stderr, "smartconform run: starting the reference server: %v\n", err)
			return exitIncomplete
		}
		defer srv.Close()
		tg, err := config.ForReference("smartconform reference server", srv)
		if err != nil {
			fmt.Fprintf(stderr, "smartconform run: the reference server's JWKS-URL client: %v\n", err)
			return exitIncomplete
		}
		targets = []*config.Target{tg}
		fmt.Fprintf(stdout, "No --config given: testing the embedded reference server at %s", srv.BaseURL)
		if len(faults) > 0 {
			fmt.Fprintf(stdout, " with faults %v", []string(faults))
		}
		fmt.Fprintln(stdout)
	} else {
		if len(faults) > 0 || *latency > 0 {
			fmt.Fprintln(stderr, "smartconform run: --fault and --latency apply only to the embedded reference server (no --config)")
			return exitUsage
		}
		var err error
		if targets, err = config.LoadAll(*cfgPath); err != nil {
			fmt.Fprintf(stderr, "smartconform run: %v\n", err)
			return exitUsage
		}
	}
	if *insecure {
		for _, t := range targets {
			t.Insecure = true
		}
	}
	for _, t := range targets {
		if t.Insecure {
			fmt.Fprintf(stderr, "smartconform run: WARNING: TLS certificate verification is off for %s; every report says so\n", t.Name)
		}
	}
	// SIGINT or SIGTERM ends the run early: unfinished cases are reported
	// as not run, the reports are written, and the exit code is 3.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := engine.Options{
		Version: version, Profile: *profile, Strict: *strict, ParallelTargets: *parallelTargets,
		LabelFilter: *labels, Focus: focus, Timeout: *timeout, Context: ctx,
		Concurrency: *concurrency, Rate: *rate, FailOn: *failOn, Waivers: waivers,
		Progress: stdout, Color: useColor(stdout, *noColor),
		Reference: reference, Faults: faults,
	}
	if *verbose {
		o.GinkgoOutput = stderr
	}
	start := time.Now()
	reps, err := engine.RunTargets(targets, o)
	if err != nil {
		var ue *engine.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "smartconform run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "smartconform run: %v\n", err)
		return exitIncomplete
	}
	if len(reps) == 1 {
		rep := reps[0]
		if err := writeReports(*out, rep); err != nil {
			fmt.Fprintf(stderr, "smartconform run: writing reports: %v\n", err)
			return exitIncomplete
		}
		if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
			if err := appendStepSummary(path, rep); err != nil {
				fmt.Fprintf(stderr, "smartconform run: GITHUB_STEP_SUMMARY: %v\n", err)
			}
		}
		reporter.PrintDetails(stdout, rep)
		fmt.Fprintf(stdout, "\nReports: %s\n", filepath.Join(*out, "{junit.xml,report.html,report.json}"))
		fmt.Fprintln(stdout, reporter.VerdictLine(rep))
		fmt.Fprintln(stdout, reporter.SummaryLine(rep))
		return rep.Summary.ExitCode
	}
	combined, err := writeTargetReports(*out, reps, elapsedMs(start))
	if err != nil {
		fmt.Fprintf(stderr, "smartconform run: writing reports: %v\n", err)
		return exitIncomplete
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		for _, rep := range reps {
			if rep.Summary.ExitCode != 0 {
				if err := appendStepSummary(path, rep); err != nil {
					fmt.Fprintf(stderr, "smartconform run: GITHUB_STEP_SUMMARY: %v\n", err)
				}
			}
		}
	}
	fmt.Fprintf(stdout, "\n%-40s %-16s %s\n", "TARGET", "VERDICT", "PASSED/FAILED/SKIPPED")
	for _, t := range combined.Targets {
		s := t.Summary
		fmt.Fprintf(stdout, "%-40s %-16s %d/%d/%d  %s\n", t.Name, s.Verdict, s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived, filepath.Join(*out, t.Dir, "report.html"))
	}
	s := combined.Summary
	fmt.Fprintf(stdout, "\nReports: %s, one directory per target under %s\n", filepath.Join(*out, "{index.html,summary.json,junit.xml}"), filepath.Join(*out, "targets"))
	fmt.Fprintf(stdout, "verdict: %s (exit %d) over %d targets\n", s.Verdict, s.ExitCode, len(reps))
	fmt.Fprintf(stdout, "smartconform: %d passed, %d failed, %d skipped\n", s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived)
	return s.ExitCode
}

func elapsedMs(since time.Time) float64 { return float64(time.Since(since).Microseconds()) / 1000 }

// writeTargetReports writes each target's reports under DIR/targets/<slug>/
// and the combined index.html, summary.json and junit.xml (one testsuite
// per target) in DIR.
func writeTargetReports(dir string, reps []*reporter.Report, durationMs float64) (*reporter.Combined, error) {
	var dirs []string
	used := map[string]bool{}
	for i, rep := range reps {
		slug := slugify(rep.Target.Name)
		for used[slug] {
			slug = fmt.Sprintf("%s-%d", slugify(rep.Target.Name), i+1)
		}
		used[slug] = true
		rel := filepath.Join("targets", slug)
		if err := writeReports(filepath.Join(dir, rel), rep); err != nil {
			return nil, err
		}
		dirs = append(dirs, rel)
	}
	c := reporter.Combine(reps, dirs, durationMs)
	for name, write := range map[string]func(io.Writer) error{
		"summary.json": func(w io.Writer) error { return reporter.WriteCombinedJSON(w, c) },
		"index.html":   func(w io.Writer) error { return reporter.WriteCombinedHTML(w, c) },
		"junit.xml":    func(w io.Writer) error { return reporter.WriteJUnitTargets(w, reps) },
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// slugify makes a directory name of a target name.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "target"
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// writeReports writes the three reports into dir.
func writeReports(dir string, rep *reporter.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer, *reporter.Report) error{
		"junit.xml":   reporter.WriteJUnit,
		"report.json": reporter.WriteJSON,
		"report.html": reporter.WriteHTML,
	} {
		if err := writeFile(filepath.Join(dir, name), func(w io.Writer) error { return write(w, rep) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes through a temporary file, so a report is whole or absent.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// useColor: only on a terminal, never with NO_COLOR or in CI.
func useColor(w io.Writer, off bool) bool {
	if off || os.Getenv("NO_COLOR") != "" || os.Getenv("CI") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
