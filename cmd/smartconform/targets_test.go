package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// startTenants starts n reference servers (a tenant each, told apart by
// port) and writes a configuration whose targets entry is a URL template
// with the ports as tenants; faulty names the tenants started with faults.
func startTenants(t *testing.T, n int, faulty map[int][]string) string {
	t.Helper()
	dir := t.TempDir()
	creds, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	for i := 0; i < n; i++ {
		fs, _ := refserver.ParseFaults(faulty[i])
		srv, err := refserver.Start(refserver.Options{Faults: fs, Credentials: &creds, AutoApprove: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		ports = append(ports, u.Port())
	}
	// Write one configuration, then turn its single target into a template.
	single := filepath.Join(dir, "one.yaml")
	if err := config.WriteForServer(single, "x", "http://127.0.0.1:1/fhir", creds, nil, config.ReferenceLogin(true)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(single)
	text := string(raw)
	i := strings.Index(text, "target:")
	j := strings.Index(text, "clients:")
	if i < 0 || j < 0 {
		t.Fatalf("unexpected written config:\n%s", text)
	}
	tmpl := fmt.Sprintf("targets:\n  - name: \"tenant {tenant}\"\n    fhirBaseUrl: \"http://127.0.0.1:{tenant}/fhir\"\n    tenants: [%s]\n", strings.Join(ports, ", "))
	multi := filepath.Join(dir, "many.yaml")
	os.WriteFile(multi, []byte(text[:i]+tmpl+text[j:]), 0o600)
	return multi
}

func TestManyTargetsFromATenantTemplate(t *testing.T) {
	cfg := startTenants(t, 3, map[int][]string{1: {"accept-expired"}})
	out := filepath.Join(t.TempDir(), "r")
	code, stdout, errs := runCLI(t, "run", "--config", cfg, "--out", out, "--parallel-targets", "2")
	if code != exitFailed {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errs)
	}
	var c reporter.Combined
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if len(c.Targets) != 3 || c.Summary.ExitCode != 1 || c.Targets[1].Summary.Failed != 1 || c.Targets[0].Summary.Failed != 0 || c.Targets[2].Summary.Failed != 0 {
		t.Errorf("combined summary %+v", c)
	}
	for _, tr := range c.Targets {
		rep := readReports(t, filepath.Join(out, tr.Dir))
		if rep.Target.Name != tr.Name || rep.Summary != tr.Summary {
			t.Errorf("%s: per-target report disagrees with the summary", tr.Name)
		}
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	raw, _ = os.ReadFile(filepath.Join(out, "junit.xml"))
	if err := xml.Unmarshal(raw, &doc); err != nil || len(doc.Suites) != 3 || doc.Tests != c.Summary.Total {
		t.Errorf("combined junit: %v %+v", err, doc)
	}
	validateJUnit(t, filepath.Join(out, "junit.xml"))
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout, "[2/3] non-conformant tenant") || !strings.HasSuffix(strings.TrimSpace(stdout), fmt.Sprintf("smartconform: %d passed, 1 failed, %d skipped", c.Summary.Passed+c.Summary.Warned, c.Summary.Skipped+c.Summary.NotRun+c.Summary.Waived)) {
		t.Errorf("console:\n%s", stdout)
	}
}

// validateJUnit checks a JUnit file against the Jenkins xUnit schema.
func validateJUnit(t *testing.T, path string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed: run `make tools`")
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", "../../.github/junit-10.xsd", path).CombinedOutput(); err != nil {
		t.Errorf("%s is not valid JUnit: %v\n%s", path, err, out)
	}
}
