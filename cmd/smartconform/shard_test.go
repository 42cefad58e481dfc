package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smartconform/smartconform/reporter"
)

func readCombined(t *testing.T, dir string) reporter.Combined {
	t.Helper()
	var c reporter.Combined
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// Times and the fingerprints of redacted values (each run gets its own
// tokens) differ between two runs; nothing else may.
var junitTimes = regexp.MustCompile(` (time|timestamp)="[^"]*"|hmac:[0-9a-f]+`)

// junitWithoutTimes is a JUnit file with its times taken out (two runs
// never take the same time).
func junitWithoutTimes(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return junitTimes.ReplaceAllString(string(raw), "")
}

// Four shards of a 40-target run, merged, give what the unsharded run
// gives: the same targets in the same order, each with the same verdict and
// cases, the same combined summary.json and junit.xml, and the same exit
// code.
func TestShardsMergedEqualTheUnshardedRun(t *testing.T) {
	faulty := map[int][]string{5: {"accept-expired"}, 22: {"bearer-header-400"}, 39: {"accept-expired"}}
	cfg := startTenants(t, 40, faulty)
	// The discovery and private_key_jwt cases keep the test short; the
	// selection is the same for every run.
	sel := []string{"--quiet", "--focus", `\[DISC-`, "--focus", `\[ASYM-`}
	work := t.TempDir()
	whole := filepath.Join(work, "whole")
	code, out, errs := runCLI(t, append([]string{"run", "--config", cfg, "--out", whole}, sel...)...)
	if code != exitFailed {
		t.Fatalf("unsharded: exit %d\n%s\n%s", code, out, errs)
	}
	var shards []string
	for k := 1; k <= 4; k++ {
		dir := filepath.Join(work, fmt.Sprintf("shard-%d", k))
		shards = append(shards, dir)
		code, out, errs := runCLI(t, append([]string{"run", "--config", cfg, "--out", dir, "--shard", fmt.Sprintf("%d/4", k)}, sel...)...)
		wantShard := exitOK
		if k == 2 || k == 4 { // targets 5 and 39 (index mod 4 = 1 and 3)
			wantShard = exitFailed
		}
		if code != wantShard {
			t.Fatalf("shard %d/4: exit %d, want %d\n%s\n%s", k, code, wantShard, out, errs)
		}
		if c := readCombined(t, dir); len(c.Targets) != 10 {
			t.Fatalf("shard %d/4 has %d targets", k, len(c.Targets))
		}
	}
	merged := filepath.Join(work, "merged")
	// Out of order on the command line: merge puts them back.
	code, out, errs = runCLI(t, append([]string{"report", "merge", "--out", merged}, shards[3], shards[1], shards[0], shards[2])...)
	if code != exitFailed {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, errs)
	}
	if !regexp.MustCompile(`smartconform: \d+ passed, 2 failed, \d+ skipped$`).MatchString(strings.TrimSpace(out)) {
		t.Errorf("merge console:\n%s", out)
	}
	a, b := readCombined(t, whole), readCombined(t, merged)
	if len(a.Targets) != 40 || len(b.Targets) != 40 {
		t.Fatalf("%d and %d targets", len(a.Targets), len(b.Targets))
	}
	if a.Summary != b.Summary {
		t.Errorf("combined summary:\nunsharded %+v\nmerged    %+v", a.Summary, b.Summary)
	}
	for i := range a.Targets {
		ta, tb := a.Targets[i], b.Targets[i]
		if ta.Name != tb.Name || ta.Dir != tb.Dir || ta.Summary != tb.Summary || ta.TokenEndpoint != tb.TokenEndpoint {
			t.Errorf("target %d:\nunsharded %+v\nmerged    %+v", i, ta, tb)
			continue
		}
		ra, rb := readReports(t, filepath.Join(whole, ta.Dir)), readReports(t, filepath.Join(merged, tb.Dir))
		if len(ra.Cases) != len(rb.Cases) {
			t.Errorf("%s: %d and %d cases", ta.Name, len(ra.Cases), len(rb.Cases))
			continue
		}
		for j := range ra.Cases {
			if ra.Cases[j].ID != rb.Cases[j].ID || ra.Cases[j].Status != rb.Cases[j].Status {
				t.Errorf("%s: %s %s, merged %s %s", ta.Name, ra.Cases[j].ID, ra.Cases[j].Status, rb.Cases[j].ID, rb.Cases[j].Status)
			}
		}
		if rb.Target.TokenEndpoint == "" {
			t.Errorf("%s: the discovered token endpoint is not in the report", ta.Name)
		}
	}
	if ja, jb := junitWithoutTimes(t, filepath.Join(whole, "junit.xml")), junitWithoutTimes(t, filepath.Join(merged, "junit.xml")); ja != jb {
		t.Errorf("the merged junit.xml differs from the unsharded one (times aside): %s", firstDiff(ja, jb))
	}
	validateJUnit(t, filepath.Join(merged, "junit.xml"))
	if _, err := os.Stat(filepath.Join(merged, "index.html")); err != nil {
		t.Error(err)
	}
	if a.Targets[5].Summary.Verdict != reporter.VerdictNonConformant || a.Targets[22].Summary.Warned != 1 {
		t.Errorf("the faulty tenants: %+v / %+v", a.Targets[5].Summary, a.Targets[22].Summary)
	}

	// A shard missing, or given twice, is refused.
	if code, _, errs := runCLI(t, "report", "merge", "--out", t.TempDir(), shards[0], shards[1], shards[2]); code != exitUsage || !strings.Contains(errs, "shard 4/4 missing") {
		t.Errorf("a missing shard: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "report", "merge", "--out", t.TempDir(), shards[0], shards[0], shards[1], shards[2], shards[3]); code != exitUsage || !strings.Contains(errs, "twice") {
		t.Errorf("a shard twice: exit %d %s", code, errs)
	}
}

func TestShardSpec(t *testing.T) {
	for _, bad := range []string{"0/4", "5/4", "1/0", "a/b", "2", "1/4/2", "-1/4"} {
		if _, err := parseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every target in exactly one shard.
	for n := 1; n <= 5; n++ {
		for i := 0; i < 23; i++ {
			in := 0
			for k := 1; k <= n; k++ {
				if (shardSpec{k, n}).has(i) {
					in++
				}
			}
			if in != 1 {
				t.Errorf("target %d is in %d of %d shards", i, in, n)
			}
		}
	}
}

func firstDiff(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(0, i-200)
			return fmt.Sprintf("at %d:\n%s\n----\n%s", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
		}
	}
	return fmt.Sprintf("lengths %d %d", len(a), len(b))
}

// A shard.json naming a directory outside targets/ is refused: merge
// never reads or writes outside the shards and --out.
func TestMergeRefusesADirectoryOutsideTargets(t *testing.T) {
	dir := t.TempDir()
	man := `{"shard":1,"of":1,"totalTargets":1,"failOn":"must","targets":[{"index":0,"name":"x","dir":"../../etc"}]}`
	os.WriteFile(filepath.Join(dir, "shard.json"), []byte(man), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	if code, _, errs := runCLI(t, "report", "merge", "--out", out, dir); code != exitUsage || !strings.Contains(errs, "not targets/<name>") {
		t.Errorf("exit %d %s", code, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("merge wrote anyway")
	}
}

func TestTargetDirsAreWhatMergeAccepts(t *testing.T) {
	for _, name := range []string{"Acme t001", "", "ÄÖÜ", strings.Repeat("ab ", 40), "x/../../y", "tenant 1", "tenant-1", "tenant 1"} {
		slug := slugify(name)
		for _, dir := range []string{"targets/" + slug, fmt.Sprintf("targets/%s-%d", slug, 7)} {
			if !targetDirRE.MatchString(dir) {
				t.Errorf("%q gives %q, which merge refuses", name, dir)
			}
		}
	}
}
