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
	reps, err := runReferences(strict, [][]string{faults})
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// mutantParallel is how many reference servers the detection matrix judges
// at once: the JWKS-URL cases spend most of their time waiting for a key set
// to go stale, so judging several servers side by side saves that time.
const mutantParallel = 16

// runReferences runs the whole suite against one fresh reference server per
// fault set, several at once, each over TLS so that every case (the
// transport ones too) is judged.
func runReferences(strict bool, sets [][]string) ([]*reporter.Report, error) {
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
			return nil, err
		}
		srv, err := refserver.Start(refserver.Options{Faults: fs, TLS: true})
		if err != nil {
			return nil, err
		}
		servers = append(servers, srv)
		tg, err := config.ForReference("reference "+strings.Join(faults, ","), srv)
		if err != nil {
			return nil, err
		}
		targets = append(targets, tg)
	}
	var flat []string
	if len(sets) == 1 {
		flat = sets[0]
	}
	reps, err := engine.RunTargets(targets, engine.Options{Version: version, Strict: strict, Reference: true, Faults: flat, ParallelTargets: mutantParallel})
	if err != nil {
		return nil, err
	}
	for i, rep := range reps {
		rep.Target.Faults = sets[i]
	}
	return reps, nil
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
	sets := make([][]string, len(names))
	for i, name := range names {
		sets[i] = []string{name}
	}
	reps, err := runReferences(false, sets)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform mutants: %v\n", err)
		return exitIncomplete
	}
	for i, name := range names {
		f := refserver.Faults[name]
		rep := reps[i]
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
