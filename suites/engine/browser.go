package engine

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/smartconform/smartconform/suites/config"
)

// The browser driver: a real headless Chromium follows the configured login
// script, in the manner of the OpenID Foundation suite's browser
// configuration (rules of a URL pattern and steps). The code is read by
// intercepting (CDP Fetch) the navigation to the redirect URI, which is
// never contacted. One Chromium process serves the whole process; each flow
// runs in its own browser context (its own cookies and storage), so flows
// run in parallel and never share a session.

// ChromiumMissing says why the configured Chromium cannot run, or "" when
// it can: `smartconform run` refuses a browser login without it.
func ChromiumMissing(path string) string {
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		return fmt.Sprintf("the browser login driver needs Chromium, and %s is not there (install Debian's chromium, set launch.login.chromium, or use login.driver: interactive and open the printed URL yourself)", path)
	}
	return ""
}

type sharedBrowser struct {
	ctx    context.Context
	cancel func()
	dir    string
}

var (
	browserMu sync.Mutex
	browsers  = map[string]*sharedBrowser{}
)

// trust is what the browser must trust beyond the system roots: the
// target's configured CA certificates (by SPKI hash, Chromium's
// --ignore-certificate-errors-spki-list), or nothing at all when the target
// is configured insecureSkipVerify.
type trust struct {
	spkis    string
	insecure bool
}

func trustFor(caPEM []byte, insecure bool) trust {
	var hashes []string
	for rest := caPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
			hashes = append(hashes, base64.StdEncoding.EncodeToString(sum[:]))
		}
	}
	return trust{spkis: strings.Join(hashes, ","), insecure: insecure}
}

// browserFor starts (once per process, path and trust) the headless Chromium.
func browserFor(path string, tr trust) (context.Context, error) {
	browserMu.Lock()
	defer browserMu.Unlock()
	key := fmt.Sprintf("%s|%s|%v", path, tr.spkis, tr.insecure)
	if b := browsers[key]; b != nil && b.ctx.Err() == nil {
		return b.ctx, nil
	}
	if why := ChromiumMissing(path); why != "" {
		return nil, &driverUnavailable{reason: why}
	}
	dir, err := os.MkdirTemp("", "smartconform-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1024, 900),
	}
	if tr.spkis != "" {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", tr.spkis))
	}
	if tr.insecure {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors", true))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(alloc)
	if err := chromedp.Do(bctx); err != nil {
		cancelB()
		cancelAlloc()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	browsers[key] = &sharedBrowser{ctx: bctx, dir: dir, cancel: func() { cancelB(); cancelAlloc(); _ = os.RemoveAll(dir) }}
	return bctx, nil
}

// CloseBrowsers stops the shared Chromium processes (at the end of a
// program or test binary; a later flow starts a new one).
func CloseBrowsers() {
	browserMu.Lock()
	defer browserMu.Unlock()
	for p, b := range browsers {
		b.cancel()
		delete(browsers, p)
	}
}

type browserDriver struct{}

func (browserDriver) prepare(ctx context.Context, f *flow) (string, func(), error) {
	if _, err := browserFor(f.launch.Chromium, f.trust); err != nil {
		return "", nil, err
	}
	return "", func() {}, nil
}

// sameEndpoint says whether u is the redirect URI (scheme, host, path),
// whatever its query.
func sameEndpoint(u, redirect string) bool {
	a, err1 := url.Parse(u)
	b, err2 := url.Parse(redirect)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.Path == b.Path
}

// fetchPattern is a CDP URL pattern for everything under the redirect
// URI's scheme, host and path.
func fetchPattern(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return redirect + "*"
	}
	u.RawQuery, u.Fragment = "", ""
	esc := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return esc.Replace(u.String()) + "*"
}

// maxRules bounds how many rule applications one flow makes (a script
// that loops on a page ends as an error, never a hang).
const maxRules = 12

func (browserDriver) run(ctx context.Context, f *flow) (*flowEnd, error) {
	bctx, err := browserFor(f.launch.Chromium, f.trust)
	if err != nil {
		return nil, err
	}
	tab, cancelTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	// The tab outlives ctx by a little: every step below is bounded by the
	// step timeout and the loop checks ctx, so a flow that runs out of time
	// still leaves its screenshot.
	defer cancelTab()

	caught := make(chan string, 1)
	var navs atomic.Int64
	paused := chromedp.Events(tab, fetch.RequestPaused)
	navigated := chromedp.Events(tab, page.FrameNavigated)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			u := ev.Request.URL + ev.Request.URLFragment
			if sameEndpoint(u, f.redirectURI) {
				select {
				case caught <- u:
				default:
				}
				_, _ = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonAborted})
				continue
			}
			_, _ = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range navigated {
			if err != nil {
				return
			}
			if ev.Frame != nil && ev.Frame.ParentID == "" {
				navs.Add(1)
			}
		}
	}()
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: fetchPattern(f.redirectURI)}}}); err != nil {
		return nil, fmt.Errorf("the browser did not accept request interception: %w", err)
	}
	step := f.launch.StepTimeout
	bounded := func(d time.Duration) (context.Context, context.CancelFunc) { return context.WithTimeout(tab, d) }
	done := func() (string, bool) {
		select {
		case u := <-caught:
			return u, true
		default:
			return "", false
		}
	}
	fail := func(format string, a ...any) (*flowEnd, error) {
		if u, ok := done(); ok { // the redirect came after all
			return &flowEnd{redirect: u}, nil
		}
		msg := fmt.Sprintf(format, a...)
		loc := location(tab, time.Second)
		shot := screenshot(tab, f)
		f.note("Login script failed", "BROWSER", loc, msg)
		return nil, &scriptError{msg: fmt.Sprintf("%s, on the page %s", msg, pageOnly(loc)), screenshot: shot}
	}

	nctx, ncancel := bounded(step)
	_, _ = chromedp.Call(nctx, page.Navigate, page.NavigateParams{URL: f.authURL})
	ncancel()
	applied := 0
	for {
		if u, ok := done(); ok {
			return &flowEnd{redirect: u}, nil
		}
		if ctx.Err() != nil {
			return fail("the flow did not finish within launch.login.timeout (%s)", f.launch.Timeout)
		}
		if u, ok := waitReady(tab, caught, step); ok {
			return &flowEnd{redirect: u}, nil
		}
		loc := location(tab, step)
		rule := matchRule(tab, f.launch.Script, loc, step)
		if rule == nil {
			// Nothing to do on this page: give it a moment to move on by
			// itself (a script or meta refresh), then call it the end.
			before := navs.Load()
			deadline := time.Now().Add(step / 10)
			for time.Now().Before(deadline) && navs.Load() == before {
				if u, ok := done(); ok {
					return &flowEnd{redirect: u}, nil
				}
				time.Sleep(50 * time.Millisecond)
			}
			if navs.Load() != before {
				continue
			}
			if u, ok := done(); ok {
				return &flowEnd{redirect: u}, nil
			}
			f.note("No rule of the login script applies: the flow ends here", "BROWSER", loc, "")
			return &flowEnd{stoppedAt: loc}, nil
		}
		applied++
		if applied > maxRules {
			return fail("the login script applied %d rules without reaching the redirect URI (does a rule loop on one page?)", maxRules)
		}
		before := navs.Load()
		for i, st := range rule.Steps {
			if _, ok := done(); ok {
				break
			}
			sctx, scancel := bounded(step)
			err := runStep(sctx, st)
			scancel()
			f.note("Browser: "+describeStep(st), "BROWSER", loc, errText(err))
			if err != nil {
				if u, ok := done(); ok {
					return &flowEnd{redirect: u}, nil
				}
				return fail("step %d of the rule for %s (%s) failed: %v", i+1, rule.Match, describeStep(st), err)
			}
		}
		// Wait for the page to change (or the redirect) before the next rule.
		deadline := time.Now().Add(step)
		for time.Now().Before(deadline) && navs.Load() == before {
			if u, ok := done(); ok {
				return &flowEnd{redirect: u}, nil
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out (launch.login.stepTimeout)"
	}
	return err.Error()
}

func describeStep(st config.Step) string {
	switch {
	case st.Fill != "":
		return "fill " + st.Fill + " with " + st.ValueFrom
	case st.Click != "":
		return "click " + st.Click
	case st.WaitFor != "":
		return "wait for " + st.WaitFor
	}
	return "wait for a URL matching " + st.WaitURL.String()
}

func runStep(ctx context.Context, st config.Step) error {
	switch {
	case st.Fill != "":
		// Set through the native value setter and announce it with input and
		// change events, as typing does (pages built on frameworks listen).
		sel, _ := json.Marshal(st.Fill)
		val, _ := json.Marshal(st.Value)
		js := `(() => { const el = document.querySelector(` + string(sel) + `); if (!el) return false; el.focus();
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(el, ` + string(val) + `);
  el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`
		if err := chromedp.Do(ctx, chromedp.WaitVisible(st.Fill)); err != nil {
			return err
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && !ok {
			err = errors.New("the field is gone")
		}
		return err
	case st.Click != "":
		return chromedp.Do(ctx, chromedp.WaitVisible(st.Click), chromedp.Click(st.Click))
	case st.WaitFor != "":
		return chromedp.Do(ctx, chromedp.WaitVisible(st.WaitFor))
	}
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && st.WaitURL.MatchString(loc) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitReady waits for the document to be loaded (or the redirect).
func waitReady(tab context.Context, caught chan string, d time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	for {
		select {
		case u := <-caught:
			return u, true
		default:
		}
		if s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`)); err == nil && s == "complete" {
			return "", false
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func location(tab context.Context, d time.Duration) string {
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + errText(err) + ")"
	}
	return loc
}

// matchRule is the first rule whose pattern matches the page URL and whose
// present selector (if any) is on the page.
func matchRule(tab context.Context, rules []config.Rule, loc string, d time.Duration) *config.Rule {
	for i := range rules {
		r := &rules[i]
		if !r.Match.MatchString(loc) {
			continue
		}
		if r.Present == "" {
			return r
		}
		sel, _ := json.Marshal(r.Present)
		ctx, cancel := context.WithTimeout(tab, d)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+string(sel)+`) !== null`))
		cancel()
		if err == nil && ok {
			return r
		}
	}
	return nil
}

// screenshot saves the page as evidence of a failed script and returns the
// file's path ("" if it could not be taken).
func screenshot(tab context.Context, f *flow) string {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return ""
	}
	dir := f.launch.EvidenceDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "smartconform-evidence")
	}
	if os.MkdirAll(dir, 0o700) != nil {
		return ""
	}
	out, err := os.CreateTemp(dir, f.caseID+"-login-*.png")
	if err != nil {
		return ""
	}
	defer out.Close()
	if _, err := out.Write(png); err != nil {
		return ""
	}
	f.note("Screenshot of the page where the login script failed", "BROWSER", "file://"+out.Name(), "")
	return out.Name()
}

// pageOnly is a URL without its query, for short messages (the evidence
// keeps the whole URL, redacted).
func pageOnly(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	pu.RawQuery, pu.Fragment = "", ""
	return pu.String()
}
