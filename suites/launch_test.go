package suites_test

import (
	"os"
	"testing"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/engine"
)

// launchGroup selects the authorization code flow cases.
const launchGroup = "area:launch || area:launch-client-auth || area:refresh || area:openid"

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
	serial := runAgainst(t, engine.Options{LabelFilter: launchGroup, Concurrency: 1})
	if len(serial.Cases) < 30 {
		t.Fatalf("the launch group has %d cases", len(serial.Cases))
	}
	for _, c := range serial.Cases {
		if c.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", c.ID, c.Status, c.Reason, c.Findings)
		}
	}
	concurrent := verdicts(runAgainst(t, engine.Options{LabelFilter: launchGroup, Concurrency: 8}))
	for id, want := range verdicts(serial) {
		if concurrent[id] != want {
			t.Errorf("%s is %s serially, %s at concurrency 8", id, want, concurrent[id])
		}
	}
}
