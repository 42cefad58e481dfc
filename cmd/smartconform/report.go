package main

import (
	"fmt"
	"io"

	"github.com/smartconform/smartconform/reporter"
)

// cmdReport re-renders HTML and JUnit (and a copy of the JSON) from a saved
// report.json, e.g. after a newer smartconform improved the HTML.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", stderr)
	from := fs.String("from", "", "a report.json written by 'smartconform run' (required)")
	out := fs.String("out", "./smartconform-report", "directory for junit.xml, report.html and report.json")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *from == "" {
		fmt.Fprintln(stderr, "smartconform report: --from is required")
		return exitUsage
	}
	rep, err := reporter.ReadJSON(*from)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform report: %v\n", err)
		return exitUsage
	}
	if err := writeReports(*out, rep); err != nil {
		fmt.Fprintf(stderr, "smartconform report: %v\n", err)
		return exitIncomplete
	}
	fmt.Fprintf(stdout, "Re-rendered %s into %s\n", *from, *out)
	fmt.Fprintln(stdout, reporter.SummaryLine(rep))
	return exitOK
}
