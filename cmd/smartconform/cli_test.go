package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/engine"
)

func TestCompletionBash(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runCLI(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, "smartconform") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, code, len(out), errs)
		}
	}
	// The shell asks the binary for flag values through __complete.
	code, out, _ := runCLI(t, "__complete", "run", "--fail-on", "")
	if code != exitOK || !strings.Contains(out, "should") || !strings.Contains(out, "never") {
		t.Errorf("completing --fail-on: exit %d\n%s", code, out)
	}
}

func TestHelpRunShowsItsFlagsAndExamples(t *testing.T) {
	for _, args := range [][]string{{"help", "run"}, {"run", "--help"}, {"run", "-h"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, want := range []string{"smartconform run [flags]", "Examples:", "--config", "--fail-on", "--shard", "--quiet", "--show-skipped", "SMARTCONFORM_"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "Available Commands") {
			t.Errorf("%v printed the top-level usage", args)
		}
	}
	for _, cmd := range []string{"list", "serve", "mutants", "report", "keygen"} {
		if code, out, _ := runCLI(t, "help", cmd); code != exitOK || !strings.Contains(out, "Example") {
			t.Errorf("help %s: exit %d, no examples\n%s", cmd, code, out)
		}
	}
}

// A bad flag is one line naming it, a suggestion, and where to read more;
// never the whole usage.
func TestBadFlagIsOneLineWithASuggestion(t *testing.T) {
	code, out, errs := runCLI(t, "run", "--lable-filter", "negative")
	if code != exitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "--lable-filter") || !strings.Contains(lines[0], "did you mean --label-filter?") || lines[1] != "see 'smartconform help run'" {
		t.Errorf("stderr:\n%s", errs)
	}
	code, _, errs = runCLI(t, "rnu")
	if code != exitUsage || !strings.Contains(errs, "Did you mean this?") || !strings.Contains(errs, "run") {
		t.Errorf("mistyped command: exit %d\n%s", code, errs)
	}
	// The single-dash flags of earlier versions still work.
	code, _, errs = runCLI(t, "run", "-fail-on=sometimes")
	if code != exitUsage || !strings.Contains(errs, "--fail-on must be must, should or never") {
		t.Errorf("-fail-on: exit %d\n%s", code, errs)
	}
}

// Nothing starts (no reference server, no output directory) until every
// flag, filter and path is valid; and no error carries colour codes.
func TestNothingStartsBeforeEverythingIsValid(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	out := filepath.Join(dir, "never")
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	for name, args := range map[string][]string{
		"label filter":    {"run", "--out", out, "--label-filter", "((("},
		"empty selection": {"run", "--out", out, "--label-filter", "no-such-label"},
		"out is a file":   {"run", "--out", filepath.Join(file, "sub")},
		"fault":           {"run", "--out", out, "--fault", "no-such-fault"},
		"profile":         {"run", "--out", out, "--profile", "smart-v3"},
		"shard":           {"run", "--out", out, "--config", "x.yaml", "--shard", "5/4"},
		"strict vs never": {"run", "--out", out, "--strict", "--fail-on", "never"},
		"waivers":         {"run", "--out", out, "--waivers", filepath.Join(dir, "none.yaml")},
	} {
		code, stdout, errs := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d\n%s", name, code, errs)
		}
		if strings.Contains(stdout, "testing the embedded reference server") {
			t.Errorf("%s: the reference server was started before the flags were checked", name)
		}
		if strings.Contains(errs, "\x1b[") {
			t.Errorf("%s: ANSI codes in %q", name, errs)
		}
		if len(strings.Split(strings.TrimSpace(errs), "\n")) > 2 {
			t.Errorf("%s: more than one line and a pointer:\n%s", name, errs)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the output directory was made by a run that was refused")
	}
}

// SMARTCONFORM_FAIL_ON=should behaves as --fail-on should; a flag on the
// command line wins over the variable; --strict is --fail-on should.
func TestEnvironmentVariablesSetFlags(t *testing.T) {
	// bearer-header-400 makes ASYM-BEARER-01 warn (a SHOULD).
	base := []string{"run", "--fault", "bearer-header-400", "--focus", `\[ASYM-BEARER-01\]`, "--focus", `\[DISC-WK-01\]`}
	for _, tc := range []struct {
		name, env string
		args      []string
		exit      int
		failOn    string
	}{
		{"default", "", nil, exitOK, "must"},
		{"env should", "should", nil, exitFailed, "should"},
		{"flag wins", "should", []string{"--fail-on", "must"}, exitOK, "must"},
		{"strict", "", []string{"--strict"}, exitFailed, "should"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("SMARTCONFORM_FAIL_ON", tc.env)
			}
			dir := t.TempDir()
			code, out, errs := runCLI(t, append(append(append([]string(nil), base...), "--out", dir), tc.args...)...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.exit, out, errs)
			}
			rep := readReports(t, dir)
			if rep.Run.FailOn != tc.failOn || status(rep, "ASYM-BEARER-01") != reporter.Warned {
				t.Errorf("failOn %q, ASYM-BEARER-01 %s", rep.Run.FailOn, status(rep, "ASYM-BEARER-01"))
			}
		})
	}
	t.Setenv("SMARTCONFORM_CONCURRENCY", "many")
	if code, _, errs := runCLI(t, "run", "--out", t.TempDir()); code != exitUsage || !strings.Contains(errs, "SMARTCONFORM_CONCURRENCY") {
		t.Errorf("a bad variable: exit %d\n%s", code, errs)
	}
}

// The console: one line per case as it finishes, skipped cases counted
// and hidden unless --show-skipped, --quiet prints failures only.
func TestConsoleHidesSkipsAndQuietShowsFailuresOnly(t *testing.T) {
	code, out, _ := runCLI(t, "run", "--no-browser", "--out", t.TempDir(), "--profile", "oauth", "--fault", "accept-expired", "--quiet")
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "PASS  ") || !strings.Contains(out, "FAIL    ASYM-EXP-01") || !strings.Contains(out, "not shown") {
		t.Errorf("--quiet:\n%s", out)
	}
	if last := strings.TrimSpace(out)[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]; !strings.HasPrefix(last, "smartconform: ") {
		t.Errorf("last line %q", last)
	}
}

// An unreachable target is one message, not one "connection refused" per
// case; the reports still record every case (TestUnreachableTarget…).
func TestUnreachableTargetIsOneMessage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeConfig(t, "version: 1\ntarget:\n  fhirBaseUrl: http://"+addr+"/fhir\n")
	code, out, errs := runCLI(t, "run", "--config", cfg, "--out", t.TempDir())
	if code != exitIncomplete {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "is unreachable") {
		t.Errorf("no preflight message:\n%s", errs)
	}
	if n := strings.Count(out+errs, "connection refused"); n > 2 {
		t.Errorf("%d times 'connection refused':\n%s\n%s", n, out, errs)
	}
}

func TestHeartbeatNamesTheCasesStillRunning(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newConsole(&strings.Builder{}, &runFlags{heartbeat: 10 * time.Second, noColor: true}, 10, 1)
	c.now = func() time.Time { return now }
	c.last = now
	c.started(0, engine.Meta{ID: "SLOW-01"})
	c.started(0, engine.Meta{ID: "FAST-01"})
	now = now.Add(2 * time.Second)
	c.finished(0, reporter.Case{ID: "FAST-01", Status: reporter.Passed})
	now = now.Add(5 * time.Second)
	if line := c.heartbeat(); line != "" {
		t.Errorf("a heartbeat before --heartbeat passed: %q", line)
	}
	now = now.Add(6 * time.Second)
	line := c.heartbeat()
	if !strings.Contains(line, "still running: SLOW-01 13s") || strings.Contains(line, "FAST-01") || !strings.Contains(line, "no case finished for 11s") {
		t.Errorf("heartbeat %q", line)
	}
	if again := c.heartbeat(); again != "" {
		t.Errorf("a heartbeat at every tick: %q", again)
	}
}

// report --from refuses what it cannot render truthfully, with the reason.
func TestReportFromValidates(t *testing.T) {
	dir := t.TempDir()
	if code, _, _ := runCLI(t, "run", "--out", dir, "--focus", `\[DISC-`); code != exitOK {
		t.Fatal("run")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	write := func(name string, mutate func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(raw, &m)
		mutate(m)
		b, _ := json.Marshal(m)
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	if code, out, errs := runCLI(t, "report", "--from", filepath.Join(dir, "report.json"), "--out", t.TempDir()); code != exitOK {
		t.Fatalf("a genuine report: exit %d\n%s%s", code, out, errs)
	}
	for name, tc := range map[string]struct {
		path, want string
	}{
		"negative": {write("neg.json", func(m map[string]any) { m["summary"].(map[string]any)["passed"] = -5 }), "passed"},
		"disagree": {write("dis.json", func(m map[string]any) { m["summary"].(map[string]any)["failed"] = 3 }), "disagrees with the cases"},
		"schema":   {write("sch.json", func(m map[string]any) { m["cases"].([]any)[0].(map[string]any)["status"] = "great" }), "schema"},
		"summary.json": {write("summary.json", func(m map[string]any) {
			for k := range m {
				delete(m, k)
			}
			m["schemaVersion"], m["targets"], m["summary"] = doc["schemaVersion"], []any{}, map[string]any{}
		}), "summary.json of a run over several targets"},
	} {
		out := filepath.Join(t.TempDir(), "r")
		code, _, errs := runCLI(t, "report", "--from", tc.path, "--out", out)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming %q", name, code, errs, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: rendered anyway", name)
		}
	}
}

func TestKeygenStaysInsideOutAndNeverOverwrites(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "a", "b")
	for _, kid := range []string{"../../evil", "a/b", `a\b`, "..", ".hidden", "x..y", ""} {
		if kid == "" {
			continue
		}
		code, _, errs := runCLI(t, "keygen", "--kid", kid, "--out", out)
		if code != exitUsage || !strings.Contains(errs, "--kid") {
			t.Errorf("kid %q: exit %d %s", kid, code, errs)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(root, "*.json")); len(m) > 0 {
		t.Errorf("written outside --out: %v", m)
	}
	code, stdout, errs := runCLI(t, "keygen", "--kid", "k1", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errs)
	}
	if !regexp.MustCompile(`keyFile: /\S+/a/b/k1\.private\.jwk\.json`).MatchString(stdout) {
		t.Errorf("keyFile is not absolute:\n%s", stdout)
	}
	before, _ := os.ReadFile(filepath.Join(out, "k1.private.jwk.json"))
	if code, _, errs := runCLI(t, "keygen", "--kid", "k1", "--out", out); code != exitUsage || !strings.Contains(errs, "--force") {
		t.Errorf("a second keygen with the same kid: exit %d %s", code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "k1.private.jwk.json")); string(after) != string(before) {
		t.Error("the private key was overwritten")
	}
	if code, _, _ := runCLI(t, "keygen", "--kid", "k1", "--out", out, "--force"); code != exitOK {
		t.Error("--force did not overwrite")
	}
	// --config-dir: the printed keyFile is relative to the configuration's
	// directory, and the configuration loads with it.
	code, stdout, _ = runCLI(t, "keygen", "--kid", "k2", "--out", out, "--config-dir", root)
	if code != exitOK || !strings.Contains(stdout, "keyFile: "+filepath.Join("a", "b", "k2.private.jwk.json")) {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}

func TestGitHubAnnotations(t *testing.T) {
	rep := &reporter.Report{Cases: []reporter.Case{
		{ID: "ASYM-EXP-01", Title: "An expired assertion is rejected", Status: reporter.Failed, Requirement: "exp, 100%",
			Findings: []reporter.Finding{{Level: "MUST", Check: "status", Expected: "4xx", Actual: "200\nsecond line"}}},
		{ID: "ASYM-BEARER-01", Title: "Bearer", Status: reporter.Warned, Requirement: "401"},
		{ID: "DISC-WK-01", Title: "Discovery", Status: reporter.Passed},
	}}
	rep.Summarize()
	var b strings.Builder
	writeAnnotations(&b, rep, "tenant a,b", "must")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d annotations:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[0], "::error title=ASYM-EXP-01 (tenant a%2Cb)::FAILED ASYM-EXP-01") || !strings.Contains(lines[0], "100%25") || !strings.Contains(lines[0], "%0Asecond line") {
		t.Errorf("error annotation %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "::warning title=ASYM-BEARER-01 (tenant a%2Cb)::") {
		t.Errorf("warning annotation %q", lines[1])
	}
	b.Reset()
	writeAnnotations(&b, rep, "", "should")
	if !strings.Contains(b.String(), "::error title=ASYM-BEARER-01::") {
		t.Errorf("under --fail-on should a warning gates, so it is an error:\n%s", b.String())
	}
}
