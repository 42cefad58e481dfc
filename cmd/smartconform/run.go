package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites"
	"github.com/smartconform/smartconform/suites/config"
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
	var target *config.Target
	reference := *cfgPath == ""
	if reference {
		fset, err := fixtures.ParseFaults(faults)
		if err != nil {
			fmt.Fprintf(stderr, "smartconform run: --fault: %v\n", err)
			return exitUsage
		}
		srv, err := fixtures.Start(fixtures.Options{Faults: fset})
		if err != nil {
			fmt.Fprintf(stderr, "smartconform run: starting the reference server: %v\n", err)
			return exitIncomplete
		}
		defer srv.Close()
		target = config.ForServer("smartconform reference server", srv.BaseURL, srv.Creds, nil)
		fmt.Fprintf(stdout, "No --config given: testing the embedded reference server at %s", srv.BaseURL)
		if len(faults) > 0 {
			fmt.Fprintf(stdout, " with faults %v", []string(faults))
		}
		fmt.Fprintln(stdout)
	} else {
		if len(faults) > 0 {
			fmt.Fprintln(stderr, "smartconform run: --fault applies only to the embedded reference server (no --config)")
			return exitUsage
		}
		var err error
		if target, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintf(stderr, "smartconform run: %v\n", err)
			return exitUsage
		}
	}
	o := suites.Options{
		Target: target, Version: version, Profile: *profile, Strict: *strict,
		LabelFilter: *labels, Focus: focus, Timeout: *timeout,
		Progress: stdout, Color: useColor(stdout, *noColor),
		Reference: reference, Faults: faults,
	}
	if *verbose {
		o.GinkgoOutput = stderr
	}
	rep, err := suites.Run(o)
	if err != nil {
		var ue *suites.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "smartconform run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "smartconform run: %v\n", err)
		return exitIncomplete
	}
	if err := writeReports(*out, rep); err != nil {
		fmt.Fprintf(stderr, "smartconform run: writing reports: %v\n", err)
		return exitIncomplete
	}
	reporter.PrintDetails(stdout, rep)
	fmt.Fprintf(stdout, "\nReports: %s\n", filepath.Join(*out, "{junit.xml,report.html,report.json}"))
	fmt.Fprintln(stdout, reporter.VerdictLine(rep))
	fmt.Fprintln(stdout, reporter.SummaryLine(rep))
	return rep.Summary.ExitCode
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
