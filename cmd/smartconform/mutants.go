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

// runReference runs the whole suite against a fresh reference server.
func runReference(strict bool, faults ...string) (*reporter.Report, error) {
	return runReferenceFiltered(strict, "", faults...)
}

// runReferenceFiltered runs the cases a label filter selects ("" all).
func runReferenceFiltered(strict bool, filter string, faults ...string) (*reporter.Report, error) {
	fs, err := refserver.ParseFaults(faults)
	if err != nil {
		return nil, err
	}
	// Over TLS, so that every case (the transport ones too) is judged.
	srv, err := refserver.Start(refserver.Options{Faults: fs, TLS: true})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	return engine.Run(engine.Options{Target: config.ForServer("reference", srv.BaseURL, srv.Creds, srv.CACertPEM), Version: version, Strict: strict, Reference: true, Faults: faults, LabelFilter: filter})
}

// cmdMutants prints the detection matrix: each fault of the reference server
// → the cases that failed. A fault is detected when its target cases fail
// (its SHOULD-level cases warn); a false failure is a case that does not
// pass against the conformant server.
func newMutantsCmd(stdout, stderr io.Writer) *cobra.Command {
	return withEnvHelp(&cobra.Command{
		Use:   "mutants",
		Short: "Run the suite against every fault of the reference server",
		Long: `Run the whole suite against the conformant reference server, then against
each of its faults, and print the detection matrix: each fault → the cases
that failed. A fault is detected when exactly its target cases fail (its
SHOULD-level cases warn). Progress (one line per fault as it finishes) goes
to stderr; the matrix and the closing "detection:" line to stdout. Exit 0
when every fault is detected with no false failure and no side effect.`,
		Example: "  smartconform mutants",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return code(cmdMutants(stdout, stderr))
		},
	})
}

func cmdMutants(stdout, stderr io.Writer) int {
	defer engine.CloseBrowsers()
	start := time.Now()
	names := refserver.FaultNames()
	fmt.Fprintf(stderr, "mutants: the conformant server, then %d faults\n", len(names))
	base, err := runReference(false)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform mutants: %v\n", err)
		return exitIncomplete
	}
	baseStatus := map[string]reporter.Status{}
	launchIDs := map[string]bool{}
	if cat, err := engine.Catalogue(); err == nil {
		for _, m := range cat {
			launchIDs[m.ID] = engine.InLaunchGroup(m)
		}
	}
	var falseFailures []string
	for _, c := range base.Cases {
		baseStatus[c.ID] = c.Status
		if c.Status != reporter.Passed {
			falseFailures = append(falseFailures, c.ID+" ("+string(c.Status)+")")
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tDETECTED\tFAILED CASES\tOTHER CHANGES")
	none := "none"
	if len(falseFailures) > 0 {
		none = strings.Join(falseFailures, ", ")
	}
	fmt.Fprintf(tw, "(conformant server)\t-\t%s\t-\n", none)
	fmt.Fprintf(stderr, "[%*d/%d] %-34s %d false failures (%s, elapsed %s)\n", len(fmt.Sprint(len(names))), 0, len(names), "(conformant server)", len(falseFailures), time.Since(start).Round(10*time.Millisecond), time.Since(start).Round(time.Second))
	detected, stray := 0, 0
	for k, name := range names {
		t0 := time.Now()
		f := refserver.Faults[name]
		// The launch group (a browser flow per case) runs for the faults
		// that name one of its cases; the others leave it as it was.
		filter := "!(" + engine.LaunchGroup + ")"
		for _, id := range append(append(append([]string(nil), f.Targets...), f.NotRun...), f.Warns...) {
			if launchIDs[id] {
				filter = ""
			}
		}
		rep, err := runReferenceFiltered(false, filter, name)
		if err != nil {
			fmt.Fprintf(stderr, "smartconform mutants: %s: %v\n", name, err)
			return exitIncomplete
		}
		failed, warned, other, ok := judgeFault(f, baseStatus, rep)
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
		note := "detected"
		if !ok {
			note = "NOT DETECTED"
		}
		if len(other) > 0 {
			note += ", side effects: " + otherText
		}
		fmt.Fprintf(stderr, "[%*d/%d] %-34s %s (%s, elapsed %s)\n", len(fmt.Sprint(len(names))), k+1, len(names), name, note, time.Since(t0).Round(10*time.Millisecond), time.Since(start).Round(time.Second))
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
