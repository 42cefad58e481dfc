package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

func TestWaiversAndFailOn(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.yaml")
	os.WriteFile(valid, []byte("waivers:\n  - id: ASYM-EXP-01\n    reason: ACME-123 clock check lands in 4.2\n    expires: 2999-12-31\n"), 0o600)
	expired := filepath.Join(dir, "expired.yaml")
	os.WriteFile(expired, []byte("waivers:\n  - id: ASYM-EXP-01\n    reason: ACME-123\n    expires: 2020-01-01\n"), 0o600)

	out := filepath.Join(dir, "w1")
	code, stdout, _ := runCLI(t, "run", "--no-browser", "--fault", "accept-expired", "--waivers", valid, "--out", out)
	if code != exitOK {
		t.Fatalf("a waived failure fails the run: exit %d\n%s", code, stdout)
	}
	rep := readReports(t, out)
	if status(rep, "ASYM-EXP-01") != reporter.Waived || rep.Summary.Waived != 1 || !strings.Contains(stdout, "WAIVED  ASYM-EXP-01") {
		t.Errorf("the waived case is not shown as waived: %+v", rep.Summary)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !bytes.Contains(html, []byte("ACME-123 clock check lands in 4.2")) {
		t.Error("report.html does not show the waiver's reason")
	}

	code, stdout, _ = runCLI(t, "run", "--no-browser", "--fault", "accept-expired", "--waivers", expired, "--out", filepath.Join(dir, "w2"))
	if code != exitFailed || !strings.Contains(stdout, "expired on 2020-01-01") {
		t.Errorf("an expired waiver must fail the run: exit %d\n%s", code, stdout)
	}

	if code, _, _ := runCLI(t, "run", "--no-browser", "--fault", "accept-expired", "--fail-on", "never", "--out", filepath.Join(dir, "w3")); code != exitOK {
		t.Errorf("--fail-on never: exit %d", code)
	}
	if code, _, _ := runCLI(t, "run", "--no-browser", "--fault", "bearer-header-400", "--fail-on", "should", "--out", filepath.Join(dir, "w4")); code != exitFailed {
		t.Errorf("--fail-on should with a warning: exit %d", code)
	}
	if code, _, _ := runCLI(t, "run", "--no-browser", "--fault", "bearer-header-400", "--out", filepath.Join(dir, "w5")); code != exitOK {
		t.Errorf("a warning alone: exit %d", code)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("waivers:\n  - id: ASYM-EXP-01\n"), 0o600)
	if code, _, errs := runCLI(t, "run", "--waivers", bad); code != exitUsage || !strings.Contains(errs, "reason is required") {
		t.Errorf("bad waivers file: exit %d %s", code, errs)
	}
}

func TestReportReRendersFromJSON(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	if code, _, _ := runCLI(t, "run", "--no-browser", "--fault", "accept-expired", "--out", first); code != exitFailed {
		t.Fatal("setup run")
	}
	again := filepath.Join(dir, "again")
	code, stdout, errs := runCLI(t, "report", "--from", filepath.Join(first, "report.json"), "--out", again)
	if code != exitOK {
		t.Fatalf("exit %d %s %s", code, stdout, errs)
	}
	for _, name := range []string{"junit.xml", "report.json", "report.html"} {
		a, _ := os.ReadFile(filepath.Join(first, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s re-rendered from JSON differs from the original", name)
		}
	}
	if code, _, _ := runCLI(t, "report", "--from", filepath.Join(dir, "missing.json")); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
}

// SIGINT in the middle of a run: partial reports, the unfinished cases not
// run, exit 3. --timeout does the same.
func TestInterruptAndTimeoutWritePartialReportsAndExit3(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		signal bool
		reason string
	}{
		{"sigint", nil, true, "interrupted"},
		{"sigterm", nil, true, "interrupted"},
		{"timeout", []string{"--timeout", "1500ms"}, false, "--timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			args := append([]string{"run", "--no-browser", "--latency", "150ms", "--concurrency", "2", "--out", out}, tc.args...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.signal {
				time.Sleep(1500 * time.Millisecond)
				sig := syscall.SIGINT
				if tc.name == "sigterm" {
					sig = syscall.SIGTERM
				}
				_ = cmd.Process.Signal(sig)
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != exitIncomplete {
				t.Fatalf("exit %d (%v)\n%s", code, err, stdout.String())
			}
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("took %s to stop", took)
			}
			rep := readReports(t, out)
			var notRun int
			for _, c := range rep.Cases {
				if c.Status == reporter.Errored && strings.Contains(c.Reason, tc.reason) {
					notRun++
				}
			}
			if notRun == 0 || rep.Summary.Passed == 0 || rep.Summary.Verdict != "incomplete" {
				t.Errorf("want some passed and some not run (%s): %+v", tc.reason, rep.Summary)
			}
		})
	}
}

func TestGitHubStepSummaryIsWritten(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if code, _, _ := runCLI(t, "run", "--no-browser", "--fault", "accept-expired", "--out", filepath.Join(dir, "r")); code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ASYM-EXP-01", "exit code **1**", "An expired assertion is rejected"} {
		if !bytes.Contains(bytes.ToLower(md), bytes.ToLower([]byte(want))) {
			t.Errorf("job summary lacks %q:\n%s", want, md)
		}
	}
}

// Certificate verification is on by default; skipping it takes an explicit
// flag, and every report says it was skipped.
func TestTLSVerificationOnByDefaultAndSkippingIsStamped(t *testing.T) {
	creds, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.Start(refserver.Options{TLS: true, Credentials: &creds, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	// No CA file: the server's self-signed certificate is not trusted.
	if err := config.WriteForServer(cfg, "untrusted", srv.BaseURL, creds, nil, config.ReferenceLogin(true)); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCLI(t, "run", "--config", cfg, "--out", filepath.Join(dir, "a"))
	rep := readReports(t, filepath.Join(dir, "a"))
	if code != exitIncomplete || rep.Summary.Passed != 0 || !strings.Contains(stdout, "certificate") {
		t.Fatalf("an untrusted certificate must stop the run: exit %d %+v\n%s", code, rep.Summary, stdout)
	}
	code, _, errs := runCLI(t, "run", "--config", cfg, "--insecure-skip-verify", "--out", filepath.Join(dir, "b"))
	rep = readReports(t, filepath.Join(dir, "b"))
	if code != exitOK || !rep.Target.InsecureSkipVerify || !strings.Contains(errs, "verification is off") {
		t.Fatalf("--insecure-skip-verify: exit %d %+v %s", code, rep.Summary, errs)
	}
	for _, name := range []string{"report.html", "junit.xml", "report.json"} {
		raw, _ := os.ReadFile(filepath.Join(dir, "b", name))
		if !bytes.Contains(bytes.ToLower(raw), []byte("insecureskipverify")) && !bytes.Contains(bytes.ToLower(raw), []byte("verification was switched off")) {
			t.Errorf("%s does not say certificate verification was skipped", name)
		}
	}
}

// A configuration under which nothing can be judged (no client for the
// selected cases) exits 3 with a note, never 0.
func TestNothingJudgedIsIncomplete(t *testing.T) {
	srv, err := refserver.Start(refserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := writeConfig(t, "version: 1\ntarget:\n  fhirBaseUrl: "+srv.BaseURL+"\n")
	out := filepath.Join(t.TempDir(), "r")
	code, stdout, _ := runCLI(t, "run", "--config", cfg, "--out", out, "--label-filter", "method:private_key_jwt")
	if code != exitIncomplete || !strings.Contains(stdout, "No case could be judged") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	rep := readReports(t, out)
	if rep.Summary.Skipped != rep.Summary.Total || rep.Summary.Verdict != "incomplete" {
		t.Errorf("%+v", rep.Summary)
	}
}
