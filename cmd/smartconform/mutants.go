package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// runReference runs the whole suite against a fresh reference server that
// approves authorization requests at once (the launch flows follow its
// redirects over HTTP, without a browser).
func runReference(strict bool, faults ...string) (*reporter.Report, error) {
	var rep *reporter.Report
	err := runReferences(strict, 1, [][]string{faults}, func(_ int, r *reporter.Report) { rep = r })
	return rep, err
}

// mutantParallel is how many reference servers the detection matrix judges
// at once: the JWKS-URL cases spend most of their time waiting for a key set
// to go stale, so judging several servers side by side saves that time.
const mutantParallel = 16

// runReferences runs the whole catalogue against one fresh reference server
// per fault set, several at once, each over TLS so that every case (the
// transport ones too) is judged; each report goes to each as it is judged,
// in order. The servers approve authorization requests at once
// (refserver.Options.AutoApprove): the matrix judges the cases, not the
// login driver, which `smartconform run` and its own tests drive through
// the reference server's pages in a browser.
func runReferences(strict bool, parallel int, sets [][]string, each func(i int, rep *reporter.Report)) error {
	var targets []*config.Target
	var servers []*refserver.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, faults := range sets {
		fs, err := refserver.ParseFaults(faults)
		if err != nil {
			return err
		}
		srv, err := refserver.Start(refserver.Options{Faults: fs, TLS: true, AutoApprove: true})
		if err != nil {
			return err
		}
		servers = append(servers, srv)
		tg, err := config.ForReference("reference "+strings.Join(faults, ","), srv)
		if err != nil {
			return err
		}
		targets = append(targets, tg)
	}
	var flat []string
	if len(sets) == 1 {
		flat = sets[0]
	}
	o := engine.Options{Version: version, Strict: strict, Reference: true, Faults: flat, ParallelTargets: parallel}
	return engine.RunTargetsFunc(targets, o, func(i int, rep *reporter.Report) error {
		rep.Target.Faults = sets[i]
		each(i, rep)
		return nil
	})
}

func newMutantsCmd(stdout, stderr io.Writer) *cobra.Command {
	var only []string
	cmd := &cobra.Command{
		Use:   "mutants",
		Short: "Run the suite against every fault of the reference server",
		Long: `Run the whole suite against the conformant reference server, then against
each of its faults, and print the detection matrix: each fault → the cases
that failed. A fault is detected when exactly its target cases fail (its
SHOULD-level cases warn). Progress (one line per fault as it finishes) goes
to stderr; the matrix and the closing "detection:" line to stdout. Exit 0
when every fault is detected with no false failure and no side effect.

Every fault is judged on the whole catalogue. The reference servers approve
authorization requests at once, so the launch flows follow their redirects
over HTTP without a browser: the matrix judges the cases, not the login
driver (smartconform run drives the reference server's login pages in
headless Chromium).`,
		Example: "  smartconform mutants\n  smartconform mutants --fault accept-expired --fault skip-www-authenticate",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return code(cmdMutants(only, stdout, stderr))
		},
	}
	cmd.Flags().StringArrayVar(&only, "fault", nil, "judge only these faults (repeatable; default: every fault)")
	_ = cmd.RegisterFlagCompletionFunc("fault", completeValues(refserver.FaultNames()...))
	return withEnvHelp(cmd)
}

// cmdMutants prints the detection matrix: each fault of the reference server
// → the cases that failed. A fault is detected when its target cases fail
// (its SHOULD-level cases warn); a false failure is a case that does not
// pass against the conformant server. Every fault is judged on the whole
// catalogue, so a side effect anywhere is seen.
func cmdMutants(only []string, stdout, stderr io.Writer) int {
	defer engine.CloseBrowsers()
	start := time.Now()
	names := refserver.FaultNames()
	if len(only) > 0 {
		for _, n := range only {
			if _, ok := refserver.Faults[n]; !ok {
				fmt.Fprintf(stderr, "smartconform mutants: --fault: unknown fault %q\nsee 'smartconform serve --help' for the list\n", n)
				return exitUsage
			}
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(only, n) })
	}
	fmt.Fprintf(stderr, "mutants: the conformant server, then %d faults, %d at a time\n", len(names), mutantParallel)
	base, err := runReference(false)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform mutants: %v\n", err)
		return exitIncomplete
	}
	baseStatus := map[string]reporter.Status{}
	var falseFailures []string
	for _, c := range base.Cases {
		baseStatus[c.ID] = c.Status
		if c.Status != reporter.Passed {
			falseFailures = append(falseFailures, c.ID+" ("+string(c.Status)+")")
		}
	}
	width := len(fmt.Sprint(len(names)))
	fmt.Fprintf(stderr, "[%*d/%d] %-38s %d false failures (elapsed %s)\n", width, 0, len(names), "(conformant server)", len(falseFailures), time.Since(start).Round(time.Second))

	sets := make([][]string, len(names))
	for i, n := range names {
		sets[i] = []string{n}
	}
	reps := map[string]*reporter.Report{}
	err = runReferences(false, mutantParallel, sets, func(i int, rep *reporter.Report) {
		name := names[i]
		reps[name] = rep
		_, _, _, ok := judgeFault(refserver.Faults[name], baseStatus, rep)
		note := "detected"
		if !ok {
			note = "NOT DETECTED"
		}
		fmt.Fprintf(stderr, "[%*d/%d] %-38s %s (elapsed %s)\n", width, i+1, len(names), name, note, time.Since(start).Round(time.Second))
	})
	if err != nil {
		fmt.Fprintf(stderr, "smartconform mutants: %v\n", err)
		return exitIncomplete
	}

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tDETECTED\tFAILED CASES\tOTHER CHANGES")
	none := "none"
	if len(falseFailures) > 0 {
		none = strings.Join(falseFailures, ", ")
	}
	fmt.Fprintf(tw, "(conformant server)\t-\t%s\t-\n", none)
	detected, stray := 0, 0
	for _, name := range names {
		failed, warned, other, ok := judgeFault(refserver.Faults[name], baseStatus, reps[name])
		mark := "yes"
		if ok {
			detected++
		} else {
			mark = "NO"
		}
		if len(other) > 0 {
			stray++
		}
		cases := strings.Join(append(failed, warned...), ", ")
		if cases == "" {
			cases = "none"
		}
		otherText := strings.Join(other, ", ")
		if otherText == "" {
			otherText = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, mark, cases, otherText)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\ndetection: %d/%d faults detected, %d false failures on the conformant server, %d faults with unexpected side effects\n",
		detected, len(names), len(falseFailures), stray)
	if detected != len(names) || len(falseFailures) > 0 || stray > 0 {
		return exitFailed
	}
	return exitOK
}

// judgeFault compares a run under fault f with the conformant run: the
// cases that failed and warned, the changes f does not name (side effects),
// and whether f is detected.
func judgeFault(f refserver.Fault, baseStatus map[string]reporter.Status, rep *reporter.Report) (failed, warned, other []string, ok bool) {
	// A fault is detected only when it names at least one case, and every
	// case it names is in the catalogue with the status it must have: a
	// fault that names nothing, or a case that no longer exists, proves
	// nothing.
	ok = len(f.Targets)+len(f.Warns) > 0
	seen := map[string]bool{}
	for _, c := range rep.Cases {
		seen[c.ID] = true
		switch c.Status {
		case reporter.Failed:
			failed = append(failed, c.ID)
		case reporter.Warned:
			warned = append(warned, c.ID+" (warned)")
		}
		want := baseStatus[c.ID]
		switch {
		case slices.Contains(f.Targets, c.ID):
			want = reporter.Failed
		case slices.Contains(f.Warns, c.ID):
			want = reporter.Warned
		case slices.Contains(f.NotRun, c.ID):
			want = reporter.NotRun
			if c.Status == reporter.Skipped {
				want = reporter.Skipped // not judged either way: nothing left to judge
			}
		}
		if c.Status != want {
			if slices.Contains(f.Targets, c.ID) || slices.Contains(f.Warns, c.ID) {
				ok = false
			} else {
				other = append(other, fmt.Sprintf("%s %s→%s", c.ID, baseStatus[c.ID], c.Status))
			}
		}
	}
	for _, id := range append(append([]string(nil), f.Targets...), f.Warns...) {
		if !seen[id] {
			ok = false
			other = append(other, id+" is not in the catalogue")
		}
	}
	return failed, warned, other, ok
}
