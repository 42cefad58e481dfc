// Command smartconform drives a SMART on FHIR authorization server through
// conformance cases and writes JUnit, HTML and JSON reports.
//
//	smartconform run      [--config FILE] [--out DIR] [--label-filter EXPR] [--focus TEXT]... [--fail-on must|should|never] [--shard K/N]
//	smartconform list     [--json] [--label-filter EXPR]
//	smartconform serve    [--addr HOST:PORT] [--fault NAME]... [--tls] [--write-config FILE]
//	smartconform mutants  (every fault of the reference server against the suite)
//	smartconform report   --from report.json [--out DIR]
//	smartconform report merge --out DIR SHARD-DIR...
//	smartconform keygen   [--alg RS384|ES384] [--kid KID] [--out DIR] [--force]
//	smartconform completion bash|zsh|fish|powershell
//	smartconform version
//
// Every flag can also be set as an environment variable SMARTCONFORM_<FLAG>
// (upper case, dashes as underscores: --fail-on is SMARTCONFORM_FAIL_ON); a
// flag on the command line wins over the variable.
//
// Exit codes: 0 every selected MUST case passed; 1 a case failed; 2 usage or
// configuration error; 3 run incomplete (target unreachable, discovery
// failed, interrupted).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	_ "github.com/smartconform/smartconform/suites" // the case files register the catalogue
)

// The CLI is built on cobra (github.com/spf13/cobra) rather than the
// standard flag package: GNU-style --flags, per-command help with examples,
// `help CMD`, shell completion and "did you mean" suggestions are what users
// of kubectl, gh, golangci-lint and trivy expect, and cobra is the
// maintained library those tools use for exactly that.

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitIncomplete = 3
)

// envPrefix names the environment variable of each flag: --fail-on is
// SMARTCONFORM_FAIL_ON.
const envPrefix = "SMARTCONFORM_"

func main() {
	defaultGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGC lets the heap grow to three times what is live before the
// garbage collector runs (GOGC=200) unless GOGC is set. A run allocates
// its evidence and reports at a high rate while keeping little live (the
// evidence of the targets in flight): with Go's default of 100 the
// collector took some 15 % of a many-target run's CPU. Measured on bench
// (f) (README, Performance): 13 % less CPU at 250 tenants, peak RSS 303 ->
// 418 MB at 1000. GOGC and GOMEMLIMIT work as in every Go program.
func defaultGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// envName is the environment variable that sets a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// exitCode carries a command's exit code out of cobra.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// usageError is a mistake in how a command was called: one line on stderr,
// then "see 'smartconform help CMD'", exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// code wraps a command's exit code as cobra's error (nil for 0).
func code(c int) error {
	if c == exitOK {
		return nil
	}
	return exitCode(c)
}

// run is main without the process: testable, with its exit code returned.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Usage()
		return exitUsage
	}
	root.SetArgs(normalizeArgs(root, args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	name := "smartconform"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	msg := stripANSI(err.Error())
	fmt.Fprintf(stderr, "%s: %s\n", name, strings.TrimSpace(msg))
	help := "smartconform help"
	if cmd != nil && cmd != root {
		help = "smartconform help " + strings.TrimPrefix(cmd.CommandPath(), "smartconform ")
	}
	fmt.Fprintf(stderr, "see '%s'\n", help)
	return exitUsage
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// stripANSI removes terminal colour codes (Ginkgo's error formatter adds
// them to its label filter syntax errors, whatever NO_COLOR says): an error
// message is read in logs and files, never only on a terminal.
func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "smartconform",
		Short: "Conformance tests for SMART on FHIR authorization servers",
		Long: `smartconform: conformance tests for SMART on FHIR authorization servers.

It drives a target authorization server through positive and negative cases,
judges every answer against the specs it cites, and writes JUnit, HTML and
JSON reports.

Every flag can also be set in the environment as SMARTCONFORM_<FLAG> (upper
case, dashes as underscores: --fail-on is SMARTCONFORM_FAIL_ON). A flag on
the command line wins over the variable, the variable over the default.

Exit codes: 0 conformant, 1 non-conformant, 2 usage or configuration error,
3 run incomplete.`,
		Example: `  smartconform run                                # self-test against the embedded reference server
  smartconform run --config target.yaml --out report
  smartconform help run`,
		Version:           version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd) },
	}
	root.SetVersionTemplate("smartconform {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(
		newRunCmd(stdout, stderr),
		newListCmd(stdout, stderr),
		newServeCmd(stdout, stderr),
		newMutantsCmd(stdout, stderr),
		newReportCmd(stdout, stderr),
		newKeygenCmd(stdout, stderr),
		&cobra.Command{
			Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintf(stdout, "smartconform %s\n", version)
				return nil
			},
		},
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(flagError)
	}
	return root
}

// flagError turns pflag's error into one line, with a suggestion for a
// mistyped flag.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := suggestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", s)
		}
	}
	return &usageError{msg}
}

// suggestFlag is the nearest flag name to a mistyped one (edit distance at
// most 2, or a prefix), or "".
func suggestFlag(cmd *cobra.Command, typed string) string {
	best, bestD := "", 3
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		d := levenshtein(typed, f.Name)
		if strings.HasPrefix(f.Name, typed) && len(typed) >= 3 {
			d = 1
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// applyEnv sets each flag not given on the command line from its
// SMARTCONFORM_<FLAG> environment variable. A repeatable flag takes one
// value per line of the variable.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			values = nil
			for _, line := range strings.Split(v, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					values = append(values, line)
				}
			}
		}
		for _, one := range values {
			if e := cmd.Flags().Set(f.Name, one); e != nil {
				err = usagef("%s=%q: %v", envName(f.Name), v, e)
				return
			}
		}
	})
	return err
}

// normalizeArgs accepts the single-dash long flags of earlier versions
// (-config FILE, -fail-on=should): a "-name" of two letters or more becomes
// "--name" (the only shorthands are -h and -v). Arguments after "--" are
// left alone.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// completeValues offers fixed values for a flag in shell completion.
func completeValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	sort.Strings(values)
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// envHelp is the help text's closing note on environment variables.
func envHelp(cmd *cobra.Command) string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			names = append(names, envName(f.Name))
		}
	})
	if len(names) == 0 {
		return ""
	}
	return "\nEnvironment: every flag can be set as SMARTCONFORM_<FLAG> (" + names[0] + ", …); the command line wins.\n"
}

// withEnvHelp appends envHelp to a command's usage.
func withEnvHelp(cmd *cobra.Command) *cobra.Command {
	cmd.SetUsageTemplate(cmd.UsageTemplate() + `{{with envhelp .}}{{.}}{{end}}`)
	return cmd
}

func init() {
	cobra.AddTemplateFunc("envhelp", envHelp)
}
