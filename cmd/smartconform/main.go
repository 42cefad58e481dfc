// Command smartconform drives a SMART on FHIR authorization server through
// conformance cases and writes JUnit, HTML and JSON reports.
//
//	smartconform run      [--config FILE] [--out DIR] [--label-filter EXPR] [--focus TEXT]... [--strict]
//	smartconform list     [--json] [--label-filter EXPR]
//	smartconform serve    [--addr HOST:PORT] [--fault NAME]... [--tls] [--write-config FILE]
//	smartconform mutants  (every fault of the reference server against the suite)
//	smartconform report   --from report.json [--out DIR]
//	smartconform keygen   [--alg RS384|ES384] [--kid KID] [--out DIR]
//	smartconform version
//
// Exit codes: 0 every selected MUST case passed; 1 a case failed; 2 usage or
// configuration error; 3 run incomplete (target unreachable, discovery
// failed, interrupted).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	_ "github.com/smartconform/smartconform/suites" // the case files register the catalogue
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitIncomplete = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `smartconform: conformance tests for SMART on FHIR authorization servers

Usage:
  smartconform run [flags]      run the cases against a target (default: the embedded reference server)
  smartconform list [flags]     list the case catalogue
  smartconform serve [flags]    run the reference authorization server
  smartconform mutants          run the suite against every fault of the reference server
  smartconform report --from F  re-render HTML and JUnit from a saved report.json
  smartconform keygen           make a private_key_jwt key and the public JWKS to register
  smartconform version          print the version

Run 'smartconform COMMAND -h' for a command's flags.
Exit codes: 0 conformant, 1 non-conformant, 2 usage or configuration error, 3 run incomplete.
`

// run is main without the process: testable, with its exit code returned.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "list":
		return cmdList(rest, stdout, stderr)
	case "serve":
		return cmdServe(rest, stdout, stderr)
	case "mutants":
		return cmdMutants(rest, stdout, stderr)
	case "report":
		return cmdReport(rest, stdout, stderr)
	case "keygen":
		return cmdKeygen(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "smartconform %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "smartconform: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlags is a command's own flag set (never flag.CommandLine, where
// importing Ginkgo registers its -ginkgo.* flags).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("smartconform "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags; it returns an exit code when the command must stop.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
