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

	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// runFlags are the flags of `smartconform run`.
type runFlags struct {
	cfgPath, out, labels, profile, failOn, waiversPath, shard string
	focus, faults                                             []string
	strict, insecure, verbose, noColor, quiet, showSkipped    bool
	noBrowser                                                 bool
	timeout, latency, heartbeat                               time.Duration
	concurrency, parallelTargets                              int
	rate                                                      float64
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [flags]",
		Short: "Run the cases against a target (default: the embedded reference server)",
		Long: `Run the selected cases against the target(s) of --config, or, without
--config, against the embedded reference authorization server (a self-test).

Writes junit.xml, report.html and report.json into --out (a configuration
listing several targets: one directory per target under --out/targets and a
combined index.html, summary.json and junit.xml). Nothing is started and no
directory is made until every flag, filter and path is valid.

The console prints one line per case as it finishes (skipped cases are
counted, not listed, unless --show-skipped), a heartbeat naming the cases
still running when none has finished for --heartbeat, the details of each
failure, and the closing lines: the verdict, the counts, and
"smartconform: N passed, N failed, N skipped".

Exit codes: 0 conformant (or report-only under --fail-on never),
1 non-conformant, 2 usage or configuration error, 3 incomplete (a case could
not be judged: unreachable target, failed discovery, interrupted).`,
		Example: `  # Self-test: the embedded reference server, which passes every case
  smartconform run

  # A real server; SHOULD-level warnings fail the run too
  smartconform run --config target.yaml --out report --fail-on should

  # Only the negative private_key_jwt cases, quietly
  smartconform run --config target.yaml --label-filter 'method:private_key_jwt && negative' --quiet

  # The same through the environment (a flag on the command line wins)
  SMARTCONFORM_CONFIG=target.yaml SMARTCONFORM_FAIL_ON=should smartconform run

  # The second of four shards of a many-target configuration, then merge
  smartconform run --config tenants.yaml --shard 2/4 --out shard-2
  smartconform report merge --out report shard-1 shard-2 shard-3 shard-4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("strict") && cmd.Flags().Changed("fail-on") && f.failOn != "should" {
				return usagef("--strict is --fail-on should; it contradicts --fail-on %s", f.failOn)
			}
			return code(cmdRun(f, stdout, stderr))
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.cfgPath, "config", "", "target configuration file (YAML); without it, the embedded reference server is started and tested")
	fl.StringVar(&f.out, "out", "./smartconform-report", "directory for junit.xml, report.html and report.json")
	fl.StringVar(&f.labels, "label-filter", "", "Ginkgo label filter, e.g. 'method:private_key_jwt && negative' (labels: case ID, area:X, method:X, positive, negative, level:must, level:should, level:na, sweep; levels follow --profile)")
	fl.StringArrayVar(&f.focus, "focus", nil, "run only cases whose ID or title matches this regular expression (repeatable)")
	fl.StringVar(&f.failOn, "fail-on", "must", "what makes the exit code 1: must (a failed case), should (also a warning), never (report only; an incomplete run still exits 3)")
	fl.BoolVar(&f.strict, "strict", false, "the same as --fail-on should: SHOULD-level warnings fail the run")
	fl.StringVar(&f.profile, "profile", "smart-v2", "reading of the specs where they disagree: smart-v2, smart-v1 or oauth")
	fl.StringVar(&f.waiversPath, "waivers", "", "YAML file of known failures (id, reason, expires: YYYY-MM-DD): shown as waived, not failing the run until they expire")
	fl.StringVar(&f.shard, "shard", "", "K/N: test only the K-th of N shares of the configuration's targets (target number i, counted from 0, goes to shard i mod N + 1); merge the shards' --out directories with 'smartconform report merge'")
	fl.BoolVar(&f.quiet, "quiet", false, "print only failures, errors and the closing lines")
	fl.BoolVar(&f.showSkipped, "show-skipped", false, "print a line for each skipped case too (by default they are counted)")
	fl.DurationVar(&f.heartbeat, "heartbeat", 10*time.Second, "when no case has finished for this long, name the cases still running (0: never)")
	fl.DurationVar(&f.timeout, "timeout", time.Hour, "give up on the whole run after this long (the unrun cases are reported not run, exit 3)")
	fl.StringArrayVar(&f.faults, "fault", nil, "with no --config: switch on a fault of the embedded reference server (repeatable; see 'smartconform help serve')")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "with no --config: the embedded reference server approves authorization requests at once and the launch flows follow its redirects over HTTP, so Chromium is not needed (its login and consent pages are then not driven)")
	fl.DurationVar(&f.latency, "latency", 0, "with no --config: delay each answer of the embedded reference server (e.g. 100ms), as a remote server would")
	fl.IntVar(&f.concurrency, "concurrency", engine.DefaultConcurrency, "how many cases of a target run at once (verdicts do not depend on it)")
	fl.IntVar(&f.parallelTargets, "parallel-targets", engine.DefaultParallelTargets, "with a configuration listing several targets: how many are tested at once")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many requests per second to the target (0: no cap); a 429 with Retry-After is waited out")
	fl.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the target's TLS certificate (explicit opt-in; stamped on every report, and the results then say nothing about the certificate)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also stream Ginkgo's own reporter to stderr")
	fl.BoolVar(&f.noColor, "no-color", false, "no colour on the console (also NO_COLOR, and always off when not a terminal or in CI)")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("waivers", "yaml", "yml")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeValues("must", "should", "never"))
	_ = cmd.RegisterFlagCompletionFunc("profile", completeValues("smart-v2", "smart-v1", "oauth"))
	_ = cmd.RegisterFlagCompletionFunc("fault", completeValues(refserver.FaultNames()...))
	return withEnvHelp(cmd)
}

// plan is a validated run: everything checked, nothing started.
type plan struct {
	f         *runFlags
	waivers   []reporter.Waiver
	selected  []engine.Meta
	targets   []*config.Target // nil for the reference server (started later)
	faultSet  refserver.FaultSet
	shard     shardSpec
	sharded   bool
	indexes   []int    // each target's index in the configuration (sharded runs)
	dirs      []string // each target's report directory, relative to --out
	reference bool
	total     int // targets in the configuration (before sharding)
}

// validate checks every flag, the filter, the configuration and the output
// path, and starts nothing. Its error is a usage error (exit 2).
func validate(f *runFlags) (*plan, error) {
	p := &plan{f: f, reference: f.cfgPath == ""}
	switch f.profile {
	case "smart-v2", "smart-v1", "oauth":
	default:
		return nil, usagef("--profile must be smart-v2, smart-v1 or oauth (got %q)", f.profile)
	}
	if f.strict {
		f.failOn = "should" // --strict is --fail-on should
	}
	switch f.failOn {
	case "must", "should", "never":
	default:
		return nil, usagef("--fail-on must be must, should or never (got %q)", f.failOn)
	}
	if f.concurrency < 1 || f.parallelTargets < 1 || f.rate < 0 || f.heartbeat < 0 || f.timeout < 0 {
		return nil, usagef("--concurrency and --parallel-targets must be at least 1; --rate, --heartbeat and --timeout not negative")
	}
	if f.shard != "" {
		s, err := parseShard(f.shard)
		if err != nil {
			return nil, usagef("--shard: %v", err)
		}
		if p.reference {
			return nil, usagef("--shard splits the targets of a --config; the embedded reference server is one target")
		}
		p.shard, p.sharded = s, true
	}
	if f.waiversPath != "" {
		var err error
		if p.waivers, err = reporter.LoadWaivers(f.waiversPath); err != nil {
			return nil, usagef("--waivers: %v", err)
		}
	}
	// The label filter and focus, through the engine's own selection.
	sel, err := engine.Select(engine.Options{LabelFilter: f.labels, Focus: f.focus})
	if err != nil {
		return nil, usagef("%s", oneLine(stripANSI(err.Error())))
	}
	if len(sel) == 0 {
		return nil, usagef("the label filter and focus select no case (see 'smartconform list --label-filter ...')")
	}
	p.selected = sel
	if p.reference {
		fset, err := refserver.ParseFaults(f.faults)
		if err != nil {
			return nil, usagef("--fault: %v", err)
		}
		p.faultSet = fset
	} else {
		if len(f.faults) > 0 || f.latency > 0 || f.noBrowser {
			return nil, usagef("--fault, --latency and --no-browser apply only to the embedded reference server (no --config)")
		}
		targets, err := config.LoadAll(f.cfgPath)
		if err != nil {
			return nil, usagef("%v", err)
		}
		p.dirs = targetDirs(targets)
		p.total = len(targets)
		for i, t := range targets {
			if !p.sharded || p.shard.has(i) {
				p.targets = append(p.targets, t)
				p.indexes = append(p.indexes, i)
			}
		}
		if p.sharded {
			var dirs []string
			for _, i := range p.indexes {
				dirs = append(dirs, p.dirs[i])
			}
			p.dirs = dirs
		}
	}
	if err := checkOutDir(f.out); err != nil {
		return nil, usagef("--out: %v", err)
	}
	return p, nil
}

// oneLine keeps the first informative lines of a multi-line error (Ginkgo's
// label filter errors come as a framed block) joined on one line.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// checkOutDir: dir is a directory, or can be made (its nearest existing
// ancestor is a writable directory). Nothing is created.
func checkOutDir(dir string) error {
	p := filepath.Clean(dir)
	for {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a directory", p)
			}
			if err := syscall.Access(p, 2 /* W_OK */); err != nil {
				return fmt.Errorf("%s is not writable", p)
			}
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("%s cannot be created", dir)
		}
		p = parent
	}
}

func cmdRun(f *runFlags, stdout, stderr io.Writer) int {
	p, err := validate(f)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "smartconform run: %s\nsee 'smartconform help run'\n", ue.msg)
			return exitUsage
		}
		fmt.Fprintf(stderr, "smartconform run: %v\n", err)
		return exitUsage
	}
	targets := p.targets
	if p.reference {
		// Over TLS, as a real server is, so the transport cases are judged.
		srv, err := refserver.Start(refserver.Options{Faults: p.faultSet, Latency: f.latency, TLS: true, AutoApprove: f.noBrowser})
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
		if len(f.faults) > 0 {
			fmt.Fprintf(stdout, " with faults %v", f.faults)
		}
		fmt.Fprintln(stdout)
	}
	if f.insecure {
		for _, t := range targets {
			t.Insecure = true
		}
	}
	defer engine.CloseBrowsers()
	if !launchPreflight(targets, p.reference, f.out, stderr) {
		return exitUsage
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
		Version: version, Profile: f.profile, ParallelTargets: f.parallelTargets,
		LabelFilter: f.labels, Focus: f.focus, Timeout: f.timeout, Context: ctx,
		Concurrency: f.concurrency, Rate: f.rate, FailOn: f.failOn, Waivers: p.waivers,
		Reference: p.reference, Faults: f.faults,
	}
	if f.verbose {
		o.GinkgoOutput = stderr
	}
	con := newConsole(stdout, f, len(p.selected), len(targets))
	o.CaseStarted, o.CaseFinished = con.started, con.finished
	if !p.sharded && len(targets) == 1 {
		return runOne(ctx, targets[0], o, p, con, stdout, stderr)
	}
	if p.sharded {
		fmt.Fprintf(stdout, "Shard %d/%d: %d of the configuration's targets\n", p.shard.k, p.shard.n, len(targets))
	}
	return runMany(targets, o, p, con, stdout, stderr)
}

// runOne runs one target: its three reports in --out.
func runOne(ctx context.Context, target *config.Target, o engine.Options, p *plan, con *console, stdout, stderr io.Writer) int {
	f := p.f
	// One clear message for a target that cannot be tested at all, rather
	// than the same error once per case; the run still goes on, so the
	// reports record every case.
	if err := engine.Preflight(ctx, target, o); err != nil {
		var ue *engine.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "smartconform run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "smartconform run: %v\n", err)
		fmt.Fprintln(stderr, "smartconform run: the cases that need the server cannot be judged; the reports record each one (exit 3)")
		con.collapse("the target cannot be tested (the pre-flight check above says why)")
	}
	con.startHeartbeat()
	var rep *reporter.Report
	err := engine.RunTargetsFunc([]*config.Target{target}, o, func(_ int, r *reporter.Report) error {
		rep = r
		return nil
	})
	con.stop()
	if err != nil {
		return runError(err, stderr)
	}
	con.finish()
	if err := writeReports(f.out, rep); err != nil {
		fmt.Fprintf(stderr, "smartconform run: writing reports: %v\n", err)
		return exitIncomplete
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendStepSummary(path, rep); err != nil {
			fmt.Fprintf(stderr, "smartconform run: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if inGitHubActions() {
		if err := reporter.WriteAnnotations(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "smartconform run: annotations: %v\n", err)
		}
	}
	printDetails(stdout, rep, con.opts, con.collapsedReason())
	fmt.Fprintf(stdout, "\nReports: %s\n", filepath.Join(f.out, "{junit.xml,report.html,report.json}"))
	reporter.WriteClosing(stdout, rep)
	return rep.Summary.ExitCode
}

// runMany runs several targets (or a shard of them): each target's reports
// are written as it is judged, and only its summary is kept.
func runMany(targets []*config.Target, o engine.Options, p *plan, con *console, stdout, stderr io.Writer) int {
	f := p.f
	start := time.Now()
	cw, err := newCombinedWriter(f.out, len(targets))
	if err != nil {
		fmt.Fprintf(stderr, "smartconform run: %v\n", err)
		return exitIncomplete
	}
	defer cw.abort()
	con.startHeartbeat()
	err = engine.RunTargetsFunc(targets, o, func(i int, rep *reporter.Report) error {
		if err := cw.add(rep, p.dirs[i]); err != nil {
			return err
		}
		con.target(i, rep, filepath.Join(f.out, p.dirs[i], "report.html"))
		if inGitHubActions() {
			var b strings.Builder
			writeAnnotations(&b, rep, rep.Target.Name, f.failOn)
			io.WriteString(con.w, b.String())
		}
		return nil
	})
	con.stop()
	if err != nil {
		return runError(err, stderr)
	}
	var man *shardManifest
	if p.sharded {
		man = &shardManifest{Shard: p.shard.k, Of: p.shard.n, TotalTargets: p.total, FailOn: f.failOn}
		man.Targets = make([]shardTarget, len(targets))
		for j := range targets {
			man.Targets[j] = shardTarget{Index: p.indexes[j], Name: targets[j].Name, Dir: p.dirs[j]}
		}
	}
	c, err := cw.finish(elapsedMs(start), f.failOn, man)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform run: writing reports: %v\n", err)
		return exitIncomplete
	}
	return closeCombined(c, cw, f.out, f.failOn, stdout, stderr)
}

func runError(err error, stderr io.Writer) int {
	var ue *engine.UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "smartconform run: %s\n", oneLine(stripANSI(err.Error())))
		return exitUsage
	}
	fmt.Fprintf(stderr, "smartconform run: %v\n", err)
	return exitIncomplete
}

func elapsedMs(since time.Time) float64 { return float64(time.Since(since).Microseconds()) / 1000 }

// targetDirs gives each target of a configuration its report directory,
// targets/<slug>, from the whole list, so that every shard of a run names a
// target's directory the same way.
func targetDirs(targets []*config.Target) []string {
	used := map[string]bool{}
	dirs := make([]string, len(targets))
	for i, t := range targets {
		slug := slugify(t.Name)
		for used[slug] {
			slug = fmt.Sprintf("%s-%d", slugify(t.Name), i+1)
		}
		used[slug] = true
		dirs[i] = filepath.Join("targets", slug)
	}
	return dirs
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
		s = strings.TrimRight(s[:60], "-")
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
