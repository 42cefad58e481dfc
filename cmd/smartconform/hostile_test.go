package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

const (
	hostileRequestTimeout = time.Second
	hostileWallMargin     = 10 * time.Second
	hostileMaxRSSKiB      = 150 << 10
)

// hostileRow is one line of the hostile table: a behaviour of the target at
// some endpoints, and what the affected cases must say about it.
type hostileRow struct {
	behaviour string
	at        fixtures.HostileEndpoints
	focus     []string       // limits the run (slow behaviours at the token endpoint)
	says      *regexp.Regexp // every failed or errored case says what the server did
}

func (r hostileRow) name() string {
	if r.at == fixtures.HostileToken {
		return r.behaviour + "@token"
	}
	return r.behaviour + "@discovery"
}

// The positive cases of every method, plus one token-response case: enough
// to see a slow token endpoint without waiting for every case.
var tokenFocus = []string{"ASYM-POS-01", "SYM-BASIC-01", "SYM-POST-01", "TRESP-01"}

func hostileRows() []hostileRow {
	says := map[string]string{
		fixtures.HostileHang:           `(?i)timeout|deadline`,
		fixtures.HostileDrip:           `(?i)timeout|deadline`,
		fixtures.HostileHugeBody:       `(?i)larger than|too large`,
		fixtures.HostileRedirectOther:  `(?i)redirect`,
		fixtures.HostileRedirectLoop:   `(?i)redirect`,
		fixtures.HostileHTML:           `(?i)text/html|invalid character '<'`,
		fixtures.HostileInvalidJSON:    `(?i)invalid character|JSON`,
		fixtures.HostileWrongTypes:     `(?i)token_endpoint is a number|access_token|capabilities: <map|status is not a success: 200`,
		fixtures.HostileHugeHeader:     `(?i)header`,
		fixtures.HostileReset:          `(?i)reset|EOF|could not be read`,
		fixtures.HostileExpiredCert:    `(?i)certificate has expired`,
		fixtures.HostileSelfSignedCert: `(?i)certificate signed by unknown authority`,
		fixtures.HostileWrongHostCert:  `(?i)certificate is (valid for|not valid)`,
		fixtures.HostileServerError:    `500`,
	}
	var rows []hostileRow
	for _, b := range fixtures.HostileBehaviours {
		rows = append(rows, hostileRow{behaviour: b, at: fixtures.HostileBoth, says: regexp.MustCompile(says[b])})
	}
	for _, b := range fixtures.HostileBehaviours {
		if fixtures.IsCertBehaviour(b) {
			continue // the certificate is the whole server's
		}
		row := hostileRow{behaviour: b, at: fixtures.HostileToken, says: regexp.MustCompile(says[b])}
		if b == fixtures.HostileHang || b == fixtures.HostileDrip {
			row.focus = tokenFocus
		}
		rows = append(rows, row)
	}
	return rows
}

type hostileResult struct {
	row      hostileRow
	outcome  string
	exit     int
	wall     time.Duration
	bound    time.Duration
	rssKiB   int64
	other    string
	problems []string
}

// TestHostileTargets runs the real binary against each behaviour of the
// hostile target and checks the run ends, in time and bounded memory, with
// valid reports, exit 1 or 3, failed or errored cases that say what the
// server did, and no credential sent to another origin.
func TestHostileTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary about 25 times")
	}
	creds, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	rows := hostileRows()
	results := make([]*hostileResult, len(rows))
	var mu sync.Mutex
	t.Run("rows", func(t *testing.T) {
		for i, row := range rows {
			t.Run(row.name(), func(t *testing.T) {
				t.Parallel()
				res := runHostile(t, row, creds)
				mu.Lock()
				results[i] = res
				mu.Unlock()
				for _, p := range res.problems {
					t.Error(p)
				}
			})
		}
	})
	table := hostileTable(results)
	t.Log("\n" + table)
	if os.Getenv("SMARTCONFORM_HOSTILE_TABLE") == "1" {
		fmt.Print(table)
	}
}

func runHostile(t *testing.T, row hostileRow, creds refserver.Credentials) *hostileResult {
	res := &hostileResult{row: row, outcome: "-", exit: -1}
	h, err := fixtures.StartHostile(fixtures.HostileOptions{Behaviour: row.behaviour, Endpoints: row.at})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "target.yaml")
	if err := config.WriteForServer(cfg, "hostile "+row.name(), h.BaseURL, creds, h.CACertPEM, config.ReferenceLogin(true)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	timeoutRE := regexp.MustCompile(`(?m)^(\s*requestTimeout:).*$`)
	if !timeoutRE.Match(raw) {
		t.Fatalf("no requestTimeout in the written configuration:\n%s", raw)
	}
	raw = timeoutRE.ReplaceAll(raw, []byte("${1} "+hostileRequestTimeout.String()))
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	args := []string{"run", "--config", cfg, "--out", out, "--no-color"}
	for _, f := range row.focus {
		args = append(args, "--focus", f)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A hung child is killed well after any bound this test accepts.
	killer := time.AfterFunc(3*time.Minute, func() { _ = cmd.Process.Kill() })
	waitErr := cmd.Wait()
	killer.Stop()
	res.wall = time.Since(start)
	res.exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.rssKiB = ru.Maxrss
	}
	res.other = fmt.Sprintf("%d req", h.Other.Requests())
	if c := h.Other.Credentials(); len(c) > 0 {
		res.other += " LEAKED " + strings.Join(c, ",")
	}
	bad := func(format string, a ...any) { res.problems = append(res.problems, fmt.Sprintf(format, a...)) }

	if res.exit != exitFailed && res.exit != exitIncomplete {
		bad("exit %d (%v), want 1 or 3\nstdout:\n%s\nstderr:\n%s", res.exit, waitErr, tail(stdout.String()), tail(stderr.String()))
	}
	for _, crash := range []string{"panic:", "goroutine ", "fatal error:"} {
		if strings.Contains(stderr.String(), crash) || strings.Contains(stdout.String(), crash) {
			bad("the run crashed (%q):\n%s", crash, tail(stderr.String()))
		}
	}
	if res.rssKiB > hostileMaxRSSKiB {
		bad("peak RSS %d KiB > %d KiB", res.rssKiB, hostileMaxRSSKiB)
	}
	if n := h.Other.Requests(); n > 0 {
		bad("the harness followed a redirect to another origin (%d requests there)", n)
	}
	if c := h.Other.Credentials(); len(c) > 0 {
		bad("credentials reached another origin: %v", c)
	}

	rep, err := reporter.ReadJSON(filepath.Join(out, "report.json"))
	if err != nil {
		bad("report.json: %v", err)
		return res
	}
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	var doc struct {
		XMLName xml.Name
		Tests   int `xml:"tests,attr"`
	}
	if err != nil || xml.Unmarshal(junit, &doc) != nil || doc.Tests != rep.Summary.Total {
		bad("junit.xml missing or invalid (%v, tests=%d, total=%d)", err, doc.Tests, rep.Summary.Total)
	}
	if html, err := os.ReadFile(filepath.Join(out, "report.html")); err != nil || !bytes.Contains(html, []byte("</html>")) {
		bad("report.html missing or cut (%v)", err)
	}
	if rep.Summary.ExitCode != res.exit {
		bad("report says exit %d, the process exited %d", rep.Summary.ExitCode, res.exit)
	}

	requests := 4 // the shared discovery and up to three baselines are not in any case's evidence
	affected := 0
	for _, c := range rep.Cases {
		requests += len(c.Exchanges)
		if c.Status == reporter.Passed || c.Status == reporter.Warned {
			if row.at&fixtures.HostileToken != 0 && c.Area != "discovery" && len(c.Exchanges) > 0 {
				bad("%s passed against a hostile token endpoint", c.ID)
			}
		}
		if c.Status != reporter.Failed && c.Status != reporter.Errored {
			continue
		}
		affected++
		if strings.HasPrefix(c.Reason, "harness error") {
			bad("%s: %s", c.ID, c.Reason)
		}
		if text := caseText(c); !row.says.MatchString(text) {
			bad("%s (%s) does not say what the server did (want /%s/): %s", c.ID, c.Status, row.says, firstN(text, 600))
		}
	}
	if affected == 0 {
		bad("no case failed or errored")
	}
	res.bound = hostileRequestTimeout*time.Duration(requests) + hostileWallMargin
	if res.wall > res.bound {
		bad("wall time %v > %v (request timeout × %d requests + %v)", res.wall, res.bound, requests, hostileWallMargin)
	}
	s := rep.Summary
	res.outcome = fmt.Sprintf("%s: %d failed, %d error, %d not run, %d passed", s.Verdict, s.Failed, s.Errors, s.NotRun, s.Passed+s.Warned)
	return res
}

// caseText is everything a case says: its reason, findings and the errors
// and answers of its exchanges.
func caseText(c reporter.Case) string {
	var b strings.Builder
	b.WriteString(c.Reason)
	for _, f := range c.Findings {
		fmt.Fprintf(&b, "\n%s: %s", f.Check, f.Actual)
	}
	for _, ex := range c.Exchanges {
		fmt.Fprintf(&b, "\n%s %d %s", ex.Label, ex.Status, ex.Error)
		for _, hd := range ex.ResponseHeaders {
			if strings.EqualFold(hd.Name, "Content-Type") {
				b.WriteString(" " + hd.Value)
			}
		}
	}
	return b.String()
}

func hostileTable(results []*hostileResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %-58s %4s %8s %8s %8s  %s\n", "BEHAVIOUR", "OUTCOME", "EXIT", "WALL", "BOUND", "PEAK RSS", "OTHER ORIGIN")
	sorted := append([]*hostileResult(nil), results...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i] != nil && sorted[j] == nil })
	for _, r := range sorted {
		if r == nil {
			continue
		}
		verdict := "ok"
		if len(r.problems) > 0 {
			verdict = fmt.Sprintf("FAIL (%d problems)", len(r.problems))
		}
		other := ""
		if r.row.behaviour == fixtures.HostileRedirectOther {
			other = r.other
		}
		fmt.Fprintf(&b, "%-28s %-58s %4d %7.1fs %7.0fs %6.1fMB  %-14s %s\n", r.row.name(), r.outcome, r.exit,
			r.wall.Seconds(), r.bound.Seconds(), float64(r.rssKiB)/1024, other, verdict)
	}
	return b.String()
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
