package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// runReference runs the whole suite against a fresh reference server.
func runReference(strict bool, faults ...string) (*reporter.Report, error) {
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
	tg, err := config.ForReference("reference", srv)
	if err != nil {
		return nil, err
	}
	return engine.Run(engine.Options{Target: tg, Version: version, Strict: strict, Reference: true, Faults: faults})
}

// cmdMutants prints the detection matrix: each fault of the reference server
// → the cases that failed. A fault is detected when its target cases fail
// (its SHOULD-level cases warn); a false failure is a case that does not
// pass against the conformant server.
func cmdMutants(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("mutants", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
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
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tDETECTED\tFAILED CASES\tOTHER CHANGES")
	none := "none"
	if len(falseFailures) > 0 {
		none = strings.Join(falseFailures, ", ")
	}
	fmt.Fprintf(tw, "(conformant server)\t-\t%s\t-\n", none)
	detected, stray := 0, 0
	names := refserver.FaultNames()
	for _, name := range names {
		f := refserver.Faults[name]
		rep, err := runReference(false, name)
		if err != nil {
			fmt.Fprintf(stderr, "smartconform mutants: %s: %v\n", name, err)
			return exitIncomplete
		}
		var failed, warned, other []string
		ok := true
		for _, c := range rep.Cases {
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
