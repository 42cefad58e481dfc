package suites_test

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// launchGroup selects the authorization code flow cases.
const launchGroup = engine.LaunchGroup

func TestMain(m *testing.M) {
	code := m.Run()
	engine.CloseBrowsers()
	os.Exit(code)
}

// needChromium skips a browser test where Chromium is missing (CI installs it).
func needChromium(t *testing.T) {
	t.Helper()
	if why := engine.ChromiumMissing(""); why != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
}

// The whole launch group passes against the conformant reference server,
// driven through the real headless browser, and its verdicts at
// concurrency 8 equal those at concurrency 1.
func TestLaunchGroupThroughTheBrowser(t *testing.T) {
	needChromium(t)
	serial := runOn(t, engine.Options{LabelFilter: launchGroup, Concurrency: 1}, refserver.Options{})
	if len(serial.Cases) < 30 {
		t.Fatalf("the launch group has %d cases", len(serial.Cases))
	}
	for _, c := range serial.Cases {
		if c.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", c.ID, c.Status, c.Reason, c.Findings)
		}
	}
	concurrent := verdicts(runOn(t, engine.Options{LabelFilter: launchGroup, Concurrency: 8}, refserver.Options{}))
	for id, want := range verdicts(serial) {
		if concurrent[id] != want {
			t.Errorf("%s is %s serially, %s at concurrency 8", id, want, concurrent[id])
		}
	}
}

// formRE and inputRE read the reference server's login and consent forms
// the way a person's browser submits them.
var (
	formRE  = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	inputRE = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

// person plays the human at the browser for the interactive driver: for
// each URL the harness prints, it opens it with a cookie jar, signs in and
// approves; the browser then follows the redirect to the harness's
// loopback listener.
func person(t *testing.T, prompt io.Reader, base, user, password string, done chan<- int) {
	sc := bufio.NewScanner(prompt)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "http") {
			continue
		}
		n++
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		resp, err := c.Get(line)
		for step := 0; err == nil && step < 3; step++ {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := formRE.FindSubmatch(body)
			if m == nil {
				break // the listener's page, or an error page: nothing to submit
			}
			form := url.Values{}
			for _, in := range inputRE.FindAllSubmatch(body, -1) {
				form.Set(string(in[1]), html.UnescapeString(string(in[2])))
			}
			if strings.Contains(string(body), `id="username"`) {
				form.Set("username", user)
				form.Set("password", password)
			} else {
				form.Set("decision", "approve")
			}
			resp, err = c.PostForm(base+html.UnescapeString(string(m[1])), form)
		}
		if err != nil {
			t.Errorf("the person's browser: %v", err)
		}
	}
	done <- n
}

// The interactive driver prints the authorization URL and waits on its
// loopback redirect URI (RFC 8252 §7.3); a person (here an HTTP client
// with a cookie jar posting the login and consent forms) completes the
// flow, and the harness reads the code on its listener.
func TestInteractiveDriverGetsTheCodeOnItsLoopbackListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	c.RedirectURI = fmt.Sprintf("http://127.0.0.1:%d/smartconform/callback", port)
	c.RedirectURI2 = c.RedirectURI + "2"
	srv, err := refserver.Start(refserver.Options{Credentials: &c})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg := config.ForServer("interactive", srv.BaseURL, c, nil)
	if err := config.ResolveLogin(tg.Launch, config.LoginSpec{Driver: config.DriverInteractive, Timeout: "20s"}); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	tg.Launch.Prompt = pw
	done := make(chan int, 1)
	go person(t, pr, srv.URL, c.UserName, c.UserPassword, done)
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Reference: true, Concurrency: 2,
		LabelFilter: "LAUNCH-STANDALONE-01 || AUTHZ-AUD-02 || REFRESH-01"})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := <-done; n < 4 {
		t.Errorf("the harness printed %d authorization URLs, want at least 4 (baseline, standalone, aud, refresh)", n)
	}
	for _, cs := range rep.Cases {
		if cs.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", cs.ID, cs.Status, cs.Reason, cs.Findings)
		}
	}
}

// A login script that does not fit the pages ends the case as an error,
// with the page's URL and a screenshot as evidence, and the negative cases
// that need the flow are not run: never a pass, never a hang.
func TestFailingLoginScriptIsAnErrorWithAScreenshot(t *testing.T) {
	needChromium(t)
	srv, err := refserver.Start(refserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	tg := config.ForServer("bad script", srv.BaseURL, srv.Creds, nil)
	err = config.ResolveLogin(tg.Launch, config.LoginSpec{Driver: config.DriverBrowser, StepTimeout: "1s", EvidenceDir: dir,
		Script: []config.LoginRule{{Match: "/auth/", Present: "#username", Steps: []config.LoginStep{{Click: "#no-such-button"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Reference: true, LabelFilter: "LAUNCH-STANDALONE-01 || PKCE-VERIFIER-01"})
	if err != nil {
		t.Fatal(err)
	}
	v := verdicts(rep)
	if v["LAUNCH-STANDALONE-01"] != reporter.Errored || v["PKCE-VERIFIER-01"] != reporter.NotRun {
		t.Fatalf("verdicts %v", v)
	}
	c := rep.Cases[0]
	if !strings.Contains(c.Reason, "#no-such-button") || !strings.Contains(c.Reason, "/auth/authorize") || !strings.Contains(c.Reason, "screenshot: "+dir) {
		t.Errorf("reason %q does not name the step, the page and the screenshot", c.Reason)
	}
	shots, _ := os.ReadDir(dir)
	if len(shots) == 0 {
		t.Error("no screenshot was saved")
	}
	seen := false
	for _, ex := range c.Exchanges {
		seen = seen || (ex.Label == "Login script failed" && strings.Contains(ex.URL, "/auth/authorize"))
	}
	if !seen {
		t.Errorf("the evidence does not show where the script failed: %+v", c.Exchanges)
	}
}
