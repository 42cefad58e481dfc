package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/smartconform/smartconform/reporter"
)

// The browser test loads real HTML reports in Debian's chromium, headless,
// and checks what a reader sees: no console error and no CSP violation, the
// counters equal report.json's summary, a status filter hides and shows the
// right cases, and report.html#CASE-ID opens that case. It saves a
// screenshot of the failing report (to $SMARTCONFORM_SCREENSHOT if set).

const chromiumPath = "/usr/bin/chromium"

// findChromium returns the browser, or skips (fails in CI, which installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "chromium is not installed: run `make tools` or `apt-get install -y chromium` (Debian's package) for the browser test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: .ci/run installs it, so its absence is a failure)")
	}
	t.Skip(msg)
	return ""
}

// browserRun runs the suite against a fresh reference server with faults,
// writes the three reports into dir as `smartconform run` does, and returns
// the report read back from report.json (what the page must agree with).
func browserRun(t *testing.T, dir string, faults ...string) *reporter.Report {
	t.Helper()
	rep, err := runReference(false, faults...)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeReports(dir, rep); err != nil {
		t.Fatal(err)
	}
	back, err := reporter.ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// cspProbe runs before the page's own script (DevTools injects it, so the
// page's CSP does not apply to it) and records every CSP violation event.
const cspProbe = `window.__scCSP = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__scCSP.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline"));
});`

// tab is one browser tab with its console recorded.
type tab struct {
	ctx  context.Context
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func openTab(t *testing.T, browser context.Context, pageURL string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.msgs = append(tb.msgs, m)
			tb.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitReady(chromedp.CSS("#sc-counters"))); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}
	return tb
}

func eval[T any](t *testing.T, tb *tab, js string) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// problems returns the console errors, exceptions and CSP violations seen so
// far. It first logs a marker and waits until the marker arrives, so every
// message the page wrote before it has been received.
func (tb *tab) problems(t *testing.T) []string {
	t.Helper()
	marker := fmt.Sprintf("sc-sync-%d", time.Now().UnixNano())
	eval[chromedp.Void](t, tb, fmt.Sprintf("console.debug(%q)", marker))
	deadline := time.Now().Add(5 * time.Second)
	var out []string
	for {
		tb.mu.Lock()
		seen := slices.ContainsFunc(tb.msgs, func(m chromedp.ConsoleMessage) bool { return m.Text == marker })
		out = out[:0]
		for _, m := range tb.msgs {
			if m.Type == chromedp.ConsoleError || m.Type == "assert" || m.IsException() ||
				(m.Type == chromedp.ConsoleWarning && m.Source == "security") {
				out = append(out, fmt.Sprintf("console %s (%s): %s", m.Type, m.Source, m.Text))
			}
		}
		tb.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console marker never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, v := range eval[[]string](t, tb, "window.__scCSP") {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

type caseState struct {
	Status  string `json:"status"`
	Visible bool   `json:"visible"`
	Open    bool   `json:"open"`
}

const casesJS = `(() => {
  const r = {};
  document.querySelectorAll("article.case").forEach(a => {
    r[a.id] = {status: a.getAttribute("data-status"), visible: a.getClientRects().length > 0,
      open: !!a.querySelector("details.case-details").open};
  });
  return r;
})()`

const countersJS = `Object.fromEntries(Array.from(document.querySelectorAll("[data-counter]")).map(
  li => [li.getAttribute("data-counter"), Number(li.querySelector(".counter-n").textContent.trim())]))`

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

func TestHTMLReportInABrowser(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	okDir, badDir := filepath.Join(dir, "conformant"), filepath.Join(dir, "faulty")
	okRep := browserRun(t, okDir)
	if okRep.Summary.ExitCode != 0 || okRep.Summary.Failed != 0 {
		t.Fatalf("the conformant run is not clean: %+v", okRep.Summary)
	}
	faults := []string{"accept-expired", "skip-www-authenticate"}
	badRep := browserRun(t, badDir, faults...)
	if badRep.Summary.Failed == 0 || badRep.Summary.ExitCode == 0 {
		t.Fatalf("faults %v failed nothing: %+v", faults, badRep.Summary)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1080),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// Start the one browser now, so every tab below is a tab of it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}

	for _, tc := range []struct {
		name string
		dir  string
		rep  *reporter.Report
	}{{"conformant", okDir, okRep}, {"faulty", badDir, badRep}} {
		t.Run(tc.name+"/counters and console", func(t *testing.T) {
			tb := openTab(t, browser, fileURL(filepath.Join(tc.dir, "report.html")))
			s := tc.rep.Summary
			want := map[string]int{"passed": s.Passed, "warned": s.Warned, "failed": s.Failed, "waived": s.Waived,
				"skipped": s.Skipped, "notrun": s.NotRun, "error": s.Errors, "total": s.Total}
			got := eval[map[string]int](t, tb, countersJS)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("counters shown %v, report.json summary %v", got, want)
			}
			cases := eval[map[string]caseState](t, tb, casesJS)
			if len(cases) != len(tc.rep.Cases) {
				t.Errorf("the page shows %d cases, report.json has %d", len(cases), len(tc.rep.Cases))
			}
			for _, c := range tc.rep.Cases {
				st, ok := cases[c.ID]
				switch {
				case !ok:
					t.Errorf("%s is not on the page", c.ID)
				case st.Status != string(c.Status) || !st.Visible:
					t.Errorf("%s: page shows %+v, report.json says %s", c.ID, st, c.Status)
				case st.Open != (c.Status == reporter.Failed || c.Status == reporter.Errored):
					t.Errorf("%s (%s): open=%v; failures and errors open, the rest closed", c.ID, c.Status, st.Open)
				}
			}
			if p := tb.problems(t); len(p) > 0 {
				t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
			}
		})
	}

	t.Run("faulty/status filter", func(t *testing.T) {
		tb := openTab(t, browser, fileURL(filepath.Join(badDir, "report.html")))
		click := func(status string) {
			t.Helper()
			if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`[data-filter-status="`+status+`"]`))); err != nil {
				t.Fatalf("clicking the %s filter: %v", status, err)
			}
		}
		check := func(step string, hidden ...string) {
			t.Helper()
			n := 0
			for id, st := range eval[map[string]caseState](t, tb, casesJS) {
				if want := !slices.Contains(hidden, st.Status); st.Visible != want {
					t.Errorf("%s: %s (%s) visible=%v, want %v", step, id, st.Status, st.Visible, want)
				}
				if st.Visible {
					n++
				}
			}
			shown := eval[string](t, tb, `document.getElementById("sc-shown").textContent`)
			if !strings.HasPrefix(shown, fmt.Sprintf("Showing %d of %d ", n, len(badRep.Cases))) {
				t.Errorf("%s: %d cases visible, the page says %q", step, n, shown)
			}
		}
		check("before any click")
		click("failed")
		check("failed switched off", "failed")
		if p := eval[string](t, tb, `document.querySelector('[data-filter-status="failed"]').getAttribute("aria-pressed")`); p != "false" {
			t.Errorf("the failed chip's aria-pressed is %q after switching it off", p)
		}
		click("passed")
		check("failed and passed switched off", "failed", "passed")
		click("failed")
		check("failed back on", "passed")
		click("passed")
		check("all back on")

		// A link to a case hidden by the filters resets them and opens it.
		click("failed")
		check("failed switched off again", "failed")
		eval[chromedp.Void](t, tb, `location.hash = "#ASYM-EXP-01"`)
		time.Sleep(100 * time.Millisecond)
		if st := eval[map[string]caseState](t, tb, casesJS)["ASYM-EXP-01"]; !st.Visible || !st.Open || st.Status != "failed" {
			t.Errorf("after following #ASYM-EXP-01 with failures hidden: %+v", st)
		}
		if p := tb.problems(t); len(p) > 0 {
			t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
		}
	})

	t.Run("conformant/anchor opens its case", func(t *testing.T) {
		page := filepath.Join(okDir, "report.html")
		plain := openTab(t, browser, fileURL(page))
		if st := eval[map[string]caseState](t, plain, casesJS)["ASYM-EXP-01"]; st.Open || st.Status != "passed" {
			t.Fatalf("without an anchor, passed ASYM-EXP-01 should be closed: %+v", st)
		}
		tb := openTab(t, browser, fileURL(page)+"#ASYM-EXP-01")
		if st := eval[map[string]caseState](t, tb, casesJS)["ASYM-EXP-01"]; !st.Open || !st.Visible {
			t.Errorf("report.html#ASYM-EXP-01 did not open the case: %+v", st)
		}
		// Scrolled to it: in view (below the sticky toolbar), the page moved.
		pos := eval[[]float64](t, tb, `[document.getElementById("ASYM-EXP-01").getBoundingClientRect().top, innerHeight, scrollY]`)
		if pos[0] < 0 || pos[0] > pos[1]/2 || pos[2] == 0 {
			t.Errorf("report.html#ASYM-EXP-01 left the case at %.0fpx in a %.0fpx viewport scrolled %.0fpx", pos[0], pos[1], pos[2])
		}
		if p := tb.problems(t); len(p) > 0 {
			t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
		}
	})

	// The checks above would pass vacuously if the probes saw nothing: a page
	// that breaks its own CSP must be caught.
	t.Run("the probes catch a CSP violation", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(badDir, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		evil := strings.Replace(string(raw), "<main>", `<main><img src="https://example.invalid/x.png" alt=""><script>console.log("inline")</script>`, 1)
		p := filepath.Join(t.TempDir(), "tampered.html")
		if err := os.WriteFile(p, []byte(evil), 0o644); err != nil {
			t.Fatal(err)
		}
		probs := strings.Join(openTab(t, browser, fileURL(p)).problems(t), "\n")
		for _, want := range []string{"CSP violation: img-src", "CSP violation: script-src-elem", "console error"} {
			if !strings.Contains(probs, want) {
				t.Errorf("the tampered page's problems lack %q:\n%s", want, probs)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		tb := openTab(t, browser, fileURL(filepath.Join(badDir, "report.html")))
		png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		out := os.Getenv("SMARTCONFORM_SCREENSHOT")
		if out == "" {
			out = filepath.Join(t.TempDir(), "report.png")
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(png) < 10_000 || len(png) > 400<<10 {
			t.Errorf("screenshot is %d bytes, want a real page under 400 KB", len(png))
		}
		t.Logf("screenshot of the failing report: %s (%d KB)", out, len(png)>>10)
	})
}
