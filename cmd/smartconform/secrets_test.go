package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
)

// Fault sets that make cases fail with evidence around the secrets: tokens
// issued where they must not be, secrets accepted wrongly, assertions
// replayed or sent as Bearer, token responses in odd shapes.
var secretScanFaults = [][]string{
	nil,
	{"accept-bearer-header", "accept-any-basic-secret", "accept-any-post-secret", "accept-replayed-jti", "token-response-text-plain", "omit-cache-headers"},
	{"basic-wins-over-body-secret", "accept-public-client-credentials", "issue-refresh-token", "expires-in-string", "accept-expired", "server-error-on-malformed-basic"},
	{"accept-unknown-kid", "accept-alg-none", "hmac-with-public-key", "accept-missing-jti", "accept-client-id-mismatch", "bare-errors", "error-not-json"},
}

// secretForms are the spellings of a value a renderer could produce: raw,
// JSON-escaped (with and without HTML escaping), HTML-escaped, URL-encoded.
func secretForms(v string) []string {
	forms := []string{v, html.EscapeString(v), url.QueryEscape(v)}
	j, _ := json.Marshal(v)
	forms = append(forms, strings.Trim(string(j), `"`))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	forms = append(forms, strings.Trim(strings.TrimSpace(b.String()), `"`))
	return forms
}

// TestNoSecretInAnyOutput runs the CLI (verbose, so Ginkgo's own failure
// messages are printed too) against reference servers with faults that make
// failures, and scans every byte of stdout, stderr and every report for the
// client secrets, the Basic credentials, the private key material, every
// access or refresh token the server issued and every assertion signature it
// received.
func TestNoSecretInAnyOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary several times")
	}
	creds, err := refserver.NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	static := map[string]string{
		"basic secret":     creds.BasicSecret,
		"post secret":      creds.PostSecret,
		"encoded secret":   creds.BasicEncSecret,
		"login password":   creds.UserPassword,
		"basic header":     strings.TrimPrefix(basicHeader(creds.BasicID, creds.BasicSecret), "Basic "),
		"enc basic header": strings.TrimPrefix(basicHeader(creds.BasicEncID, creds.BasicEncSecret), "Basic "),
	}
	for _, k := range creds.AsymKeys {
		raw, err := json.Marshal(k.JWK)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if s, ok := m[member].(string); ok {
				static[k.KID+" private "+member] = s
			}
		}
	}
	if len(static) < 8 {
		t.Fatalf("too few seeded secrets: %v", len(static))
	}
	for _, faults := range secretScanFaults {
		name := "no faults"
		if len(faults) > 0 {
			name = strings.Join(faults, "+")
		}
		t.Run(name, func(t *testing.T) {
			fs := refserver.FaultSet{}
			for _, f := range faults {
				if _, ok := refserver.Faults[f]; !ok {
					t.Logf("fault %s is not in the catalogue; skipped", f)
					continue
				}
				fs[f] = true
			}
			// The conformant run drives the login pages in the browser (the
			// password is typed there); the token-endpoint faults need no
			// browser: the server approves at once.
			auto := len(faults) > 0
			srv, err := refserver.Start(refserver.Options{Faults: fs, Credentials: &creds, AutoApprove: auto})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			issued, err := srv.RecordIssued()
			if err != nil {
				t.Fatal(err)
			}
			code, outputs := scanRun(t, "secret scan", srv.BaseURL, creds, nil, config.ReferenceLogin(auto))
			if code != exitOK && code != exitFailed && code != exitIncomplete {
				t.Fatalf("exit %d\n%s", code, tail(string(outputs["stderr"])))
			}
			if len(faults) > 0 && code == exitOK {
				t.Errorf("faults %v made no failure", faults)
			}

			secrets := map[string]string{}
			for k, v := range static {
				secrets[k] = v
			}
			tokens := issued.Tokens()
			if len(tokens) == 0 {
				t.Fatal("the reference server issued no token: nothing to look for")
			}
			for i, tok := range tokens {
				secrets["issued token "+strconv.Itoa(i)] = tok
			}
			sigs := 0
			for _, a := range issued.Assertions() {
				parts := strings.Split(a, ".")
				if len(parts) == 3 && len(parts[2]) >= 16 {
					secrets["assertion signature "+strconv.Itoa(sigs)] = parts[2]
					sigs++
				}
			}
			if sigs == 0 {
				t.Fatal("the reference server received no signed assertion: nothing to look for")
			}

			// Controls: the scan reads the real outputs, and the assertions
			// recorded are those the harness sent (their signed part, which
			// is not secret, is kept in the evidence).
			all := bytes.Join([][]byte{outputs["stdout"], outputs["report.json"]}, nil)
			if !bytes.Contains(all, []byte(creds.BasicID)) {
				t.Error("control: the Basic client id is in no output; is the scan reading the reports?")
			}
			signedSeen := false
			for _, a := range issued.Assertions() {
				if i := strings.LastIndexByte(a, '.'); i > 0 && bytes.Contains(outputs["report.json"], []byte(a[:i])) {
					signedSeen = true
					break
				}
			}
			if !signedSeen {
				t.Error("control: no recorded assertion's header and claims are in report.json")
			}
			leaks := 0
			for where, raw := range outputs {
				for what, v := range secrets {
					for _, form := range secretForms(v) {
						if len(form) >= 8 && bytes.Contains(raw, []byte(form)) {
							leaks++
							t.Errorf("%s holds the %s (%d bytes)", where, what, len(v))
							break
						}
					}
				}
			}
			t.Logf("exit %d; scanned %d outputs for %d secrets (%d tokens, %d signatures): %d leaks", code, len(outputs), len(secrets), len(tokens), sigs, leaks)
		})
	}
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// scanRun writes the configuration of a target (login: how its flows are
// driven), runs `smartconform run -v` on it in a child process, and returns
// the exit code and every output: stdout, stderr and each file of the
// report directory (junit.xml, report.json and report.html must be there).
func scanRun(t *testing.T, name, baseURL string, creds refserver.Credentials, caPEM []byte, login config.LoginSpec) (int, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "target.yaml")
	if err := config.WriteForServer(cfg, name, baseURL, creds, caPEM, login); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	cmd := exec.Command(os.Args[0], "run", "--config", cfg, "--out", out, "-v")
	cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	outputs := map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		outputs[e.Name()] = raw
	}
	for _, want := range []string{"junit.xml", "report.json", "report.html"} {
		if _, ok := outputs[want]; !ok {
			t.Errorf("%s was not written (exit %d)\n%s", want, cmd.ProcessState.ExitCode(), tail(stderr.String()))
		}
	}
	return cmd.ProcessState.ExitCode(), outputs
}
