package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// TestMain lets a test run the real command as a child process
// (SMARTCONFORM_AS_MAIN=1), e.g. `serve`, which blocks until signalled.
func TestMain(m *testing.M) {
	if os.Getenv("SMARTCONFORM_AS_MAIN") == "1" {
		main()
		return
	}
	if os.Getenv("SMARTCONFORM_BENCH_TENANTS") != "" {
		serveTenantsChild() // bench (f), (g): the tenants in a process of their own
		return
	}
	os.Exit(m.Run())
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// readReports reads the three reports and checks they agree with each other.
func readReports(t *testing.T, dir string) *reporter.Report {
	t.Helper()
	rep, err := reporter.ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	validateJUnit(t, filepath.Join(dir, "junit.xml"))
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	if doc.Tests != rep.Summary.Total || doc.Failures != rep.Summary.Failed || doc.Errors != rep.Summary.Errors {
		t.Errorf("junit counts %d/%d/%d, json summary %+v", doc.Tests, doc.Failures, doc.Errors, rep.Summary)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if !strings.HasPrefix(c.Name, "[") {
				t.Errorf("junit testcase name without a case ID: %q", c.Name)
			}
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Cases {
		if !bytes.Contains(html, []byte(`id="`+c.ID+`"`)) {
			t.Errorf("report.html has no anchor for %s", c.ID)
		}
	}
	return rep
}

func status(rep *reporter.Report, id string) reporter.Status {
	for _, c := range rep.Cases {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

func TestRunAgainstEmbeddedReferenceServerExits0(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	rep := readReports(t, dir)
	for _, c := range rep.Cases {
		if c.Status != reporter.Passed {
			t.Errorf("%s is %s", c.ID, c.Status)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "smartconform: ") || !strings.Contains(last, " passed, 0 failed, 0 skipped") {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(out, "PASS    ASYM-KID-01") {
		t.Errorf("no progress line per case:\n%s", out)
	}
	if strings.Contains(out, "\r") {
		t.Error("progress output rewrites lines")
	}
}

func TestRunWithFaultExits1AndReportsTheCaseInAllThreeReports(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := runCLI(t, "run", "--out", dir, "--fault", "accept-expired", "--no-browser")
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	rep := readReports(t, dir)
	if status(rep, "ASYM-EXP-01") != reporter.Failed || rep.Summary.Failed != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if !bytes.Contains(junit, []byte(`name="[ASYM-EXP-01] An expired assertion is rejected"`)) || !bytes.Contains(junit, []byte("<failure")) {
		t.Error("junit.xml does not show the failed case")
	}
	if !strings.Contains(out, "FAIL    ASYM-EXP-01") || !strings.Contains(out, "hint:") {
		t.Errorf("console does not detail the failure:\n%s", out)
	}
}

// The acceptance path: `serve --fault accept-expired --write-config f.yaml`
// in one process, `run --config f.yaml` in another.
func TestServeWriteConfigThenRunConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "f.yaml")
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--fault", "accept-expired", "--auto-approve", "--write-config", cfg)
	cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Serving") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	out := filepath.Join(dir, "report")
	code, stdoutText, errs := runCLI(t, "run", "--config", cfg, "--out", out)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s\n%s", code, stdoutText, errs)
	}
	// serve --auto-approve writes the follow login driver: no browser.
	if raw, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(raw), "driver: follow") {
		t.Errorf("the written configuration does not use the follow driver (%v):\n%s", err, raw)
	}
	rep := readReports(t, out)
	for _, c := range rep.Cases {
		want := reporter.Passed
		switch {
		case c.ID == "ASYM-EXP-01":
			want = reporter.Failed
		case strings.HasPrefix(c.ID, "TLS-"), c.ID == "DISC-TLS-01":
			want = reporter.Skipped // serve without --tls: a plain-HTTP loopback target
		case strings.HasPrefix(c.ID, "JWKS-"), strings.HasPrefix(c.ID, "RS-"), c.ID == "REVOKE-02":
			want = reporter.Skipped // the written configuration has no trust: section (no JWKS URL client, no FHIR server named)
		}
		if c.Status != want {
			t.Errorf("%s is %s, want %s", c.ID, c.Status, want)
		}
	}
	// The secrets written for the client are never in the reports.
	for _, name := range []string{"f.basic.secret", "f.post.secret"} {
		secret, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"junit.xml", "report.json", "report.html"} {
			raw, _ := os.ReadFile(filepath.Join(out, r))
			if bytes.Contains(raw, bytes.TrimSpace(secret)) {
				t.Errorf("%s leaks the secret in %s", r, name)
			}
		}
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigurationErrorsExit2NamingTheKey(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":      {"version: 1\ntarget:\n  fhirBaseUrl: http://127.0.0.1:1/fhir\n  fhirBase: x\n", "fhirBase"},
		"inline secret":    {"version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir'}\nclients:\n  client_secret_basic: {clientId: a, secret: hunter2}\n", "inline secrets"},
		"unset variable":   {"version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir'}\nclients:\n  CLIENT_SECRET_BASIC: {clientId: a, secret: {env: SMARTCONFORM_TEST_UNSET_VAR}}\n", "clients.client_secret_basic.secret: environment variable SMARTCONFORM_TEST_UNSET_VAR is not set"},
		"missing key file": {"version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir'}\nclients:\n  private_key_jwt: {clientId: a, keys: [{keyFile: nope.jwk, kid: k, alg: RS384}]}\n", "clients.private_key_jwt.keys[0]"},
		"no target":        {"version: 1\n", "target: set fhirBaseUrl"},
		"bad timeout":      {"version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir', requestTimeout: soon}\n", "target.requestTimeout"},
		"twice":            {"version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir'}\nclients:\n  none: {clientId: a}\n  NONE: {clientId: b}\n", "clients.none"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errs := runCLI(t, "run", "--config", writeConfig(t, tc.yaml), "--out", t.TempDir())
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, errs, tc.want)
			}
		})
	}
	if code, _, _ := runCLI(t, "run", "--config", "/nonexistent/smartconform.yaml"); code != exitUsage {
		t.Errorf("missing config file: exit %d", code)
	}
	if code, _, _ := runCLI(t, "run", "--label-filter", "((("); code != exitUsage {
		t.Errorf("bad label filter: exit %d", code)
	}
	if code, _, _ := runCLI(t, "run", "--label-filter", "no-such-label"); code != exitUsage {
		t.Errorf("empty selection: exit %d", code)
	}
	if code, _, _ := runCLI(t, "run", "--bogus"); code != exitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
	if code, _, _ := runCLI(t, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

// A target that does not answer is never a green or empty report: every
// case is an error, the reports are written, and the exit code is 3.
func TestUnreachableTargetExits3WithEveryCaseAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep := runIncomplete(t, "gone", "http://"+addr+"/fhir")
	if rep.Summary.Passed != 0 || rep.Summary.Total < 10 || rep.Summary.Verdict != "incomplete" {
		t.Errorf("summary %+v", rep.Summary)
	}
	for _, c := range rep.Cases {
		if c.Status != reporter.Errored {
			t.Errorf("%s is %s: %s", c.ID, c.Status, c.Reason)
		}
	}
}

func TestListShowsTheCatalogue(t *testing.T) {
	code, out, _ := runCLI(t, "list")
	if code != exitOK || !strings.Contains(out, "ASYM-BEARER-01") || !strings.Contains(out, "RFC 6749 §5.2") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "list", "--json", "--label-filter", "negative")
	var cases []listedCase
	if code != exitOK || json.Unmarshal([]byte(out), &cases) != nil || len(cases) == 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	refRE := regexp.MustCompile(`^https://(www\.rfc-editor\.org/rfc/rfc\d+#section-[0-9A-Z.]+|hl7\.org/fhir/smart-app-launch/STU2\.2/[a-z-]+\.html(#[a-z0-9-]+)?)$`)
	for _, c := range cases {
		if c.Polarity != "negative" || c.Requirement == "" || len(c.Refs) == 0 {
			t.Errorf("%+v", c)
		}
		for _, r := range c.Refs {
			if !refRE.MatchString(r.URL) {
				t.Errorf("%s: spec reference URL %q has an unexpected shape", c.ID, r.URL)
			}
		}
	}
}

// The whole matrix (every fault, every case) is judged by the suites
// package's TestEachFaultFailsExactlyItsTargets; here the command itself
// runs on a sample: a token-endpoint fault, a sweep's fault, a JWKS-URL
// fault and a launch fault.
func TestMutantsDetectsEveryFault(t *testing.T) {
	sample := []string{"accept-expired", "skip-www-authenticate", "jwks-fetch-post", "pkce-plain-accepted"}
	args := []string{"mutants"}
	for _, f := range sample {
		args = append(args, "--fault", f)
	}
	code, out, errs := runCLI(t, args...)
	want := fmt.Sprintf("detection: %d/%d faults detected, 0 false failures on the conformant server, 0 faults with unexpected side effects", len(sample), len(sample))
	if code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want the line %q\n%s\n%s", code, want, out, errs)
	}
	if code, _, _ := runCLI(t, "mutants", "--fault", "no-such-fault"); code != exitUsage {
		t.Errorf("mutants --fault no-such-fault: exit %d, want %d", code, exitUsage)
	}
}

// A server whose discovery document is missing: the discovery case fails,
// every case that needs the token endpoint is an error, exit 3.
func TestFailedDiscoveryIsIncompleteNeverGreen(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	rep := runIncomplete(t, "no discovery", srv.URL+"/fhir")
	if status(rep, "DISC-WK-01") != reporter.Failed || status(rep, "ASYM-KID-01") != reporter.Errored || rep.Summary.Passed != 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "Discovery failed") {
		t.Errorf("notes %v", rep.Notes)
	}
}

// runIncomplete runs against a configuration for the reference clients at
// baseURL, requires exit 3, and returns the reports (checked to agree).
func runIncomplete(t *testing.T, name, baseURL string) *reporter.Report {
	t.Helper()
	creds, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := config.WriteForServer(cfg, name, baseURL, creds, nil, config.ReferenceLogin(true)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	code, stdout, _ := runCLI(t, "run", "--config", cfg, "--out", out)
	if code != exitIncomplete {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	return readReports(t, out)
}
