package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/smartconform/smartconform/reporter"
)

const (
	actionPath   = "../../.github/actions/smartconform/action.yml"
	workflowPath = "../../.github/workflows/ci.yml"
)

type ghStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
	Sh   string            `yaml:"shell"`
}

type ghAction struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Steps []ghStep `yaml:"steps"`
	} `yaml:"runs"`
}

type ghWorkflow struct {
	Name string         `yaml:"name"`
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		RunsOn string   `yaml:"runs-on"`
		Steps  []ghStep `yaml:"steps"`
	} `yaml:"jobs"`
}

func loadYAML(t *testing.T, path string, v any) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return raw
}

// checkPinned: every third-party action is pinned by a full commit SHA with
// a "# vN" comment naming its version; local actions (./) are exempt.
func checkPinned(t *testing.T, path string, raw []byte) {
	t.Helper()
	pinned := regexp.MustCompile(`^\s*(-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s+v\d+(\.\d+)*\s*$`)
	n := 0
	for i, line := range strings.Split(string(raw), "\n") {
		if !regexp.MustCompile(`^\s*(-\s+)?uses:`).MatchString(line) || strings.Contains(line, "uses: ./") {
			continue
		}
		n++
		if !pinned.MatchString(line) {
			t.Errorf("%s:%d: not pinned by a full SHA with a # vN comment: %s", path, i+1, strings.TrimSpace(line))
		}
	}
	if n == 0 {
		t.Errorf("%s: no third-party action found (the check would be vacuous)", path)
	}
}

func stepByID(steps []ghStep, id string) *ghStep {
	for i := range steps {
		if steps[i].ID == id {
			return &steps[i]
		}
	}
	return nil
}

func TestCompositeActionShape(t *testing.T) {
	var a ghAction
	raw := loadYAML(t, actionPath, &a)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Fatalf("name %q, description %q, runs.using %q", a.Name, a.Description, a.Runs.Using)
	}
	for _, in := range []string{"config", "label-filter", "focus", "profile", "shard", "strict", "fail-on", "output-dir", "version"} {
		if _, ok := a.Inputs[in]; !ok {
			t.Errorf("input %q is missing", in)
		} else if a.Inputs[in].Required || a.Inputs[in].Description == "" {
			t.Errorf("input %q should be optional and described", in)
		}
	}
	if a.Inputs["config"].Default != "" || a.Inputs["fail-on"].Default != "must" || a.Inputs["strict"].Default != "false" {
		t.Error("defaults: config empty (reference server), fail-on must, strict false")
	}
	runStep := stepByID(a.Runs.Steps, "run")
	if runStep == nil {
		t.Fatal("no step with id run")
	}
	for _, out := range []string{"verdict", "passed", "failed", "warned", "skipped", "errors", "report-dir", "exit-code"} {
		o, ok := a.Outputs[out]
		if !ok {
			t.Errorf("output %q is missing", out)
			continue
		}
		if o.Value != "${{ steps.run.outputs."+out+" }}" {
			t.Errorf("output %q has value %q", out, o.Value)
		}
	}
	for out := range a.Outputs {
		if !strings.Contains(runStep.Run, `"`+out+`=`) && !strings.Contains(runStep.Run, `"`+out+`=\(`) {
			t.Errorf("output %q is never written to $GITHUB_OUTPUT by the run step", out)
		}
	}
	// Every input is used, and only through env: an ${{ }} expression in a
	// script would let an input's text run as shell.
	all := string(raw)
	for in := range a.Inputs {
		if !strings.Contains(all, "inputs."+in+" }}") && !strings.Contains(all, "inputs."+in+" ||") {
			t.Errorf("input %q is never used", in)
		}
	}
	var uploads int
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script; pass it through env", s.Name)
		}
		if s.Run != "" && s.Sh != "bash" {
			t.Errorf("step %q: a composite run step needs shell: bash", s.Name)
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			uploads++
			if s.If != "always()" {
				t.Errorf("the upload step runs if %q, want always()", s.If)
			}
		}
	}
	if uploads != 1 {
		t.Errorf("%d upload-artifact steps, want 1", uploads)
	}
	if !strings.Contains(runStep.Run, "set +e") {
		t.Error("the run step must not stop at smartconform's non-zero exit (set +e)")
	}
	last := a.Runs.Steps[len(a.Runs.Steps)-1]
	if !strings.Contains(last.Run, `exit "${SC_EXIT`) || last.Env["SC_EXIT"] != "${{ steps.run.outputs.exit-code }}" {
		t.Errorf("the last step must exit with smartconform's exit code: %+v", last)
	}
	checkPinned(t, actionPath, raw)

	// The flags the action passes exist in the CLI.
	_, help, _ := runCLI(t, "help", "run")
	for _, flag := range []string{"--config", "--label-filter", "--strict", "--fail-on", "--waivers", "--out", "--profile", "--focus"} {
		if !strings.Contains(runStep.Run, flag) {
			t.Errorf("the run step does not pass %s", flag)
		}
		if !strings.Contains(help, "  "+flag) {
			t.Errorf("smartconform run has no %s flag, which the action passes", flag)
		}
	}
}

func TestWorkflowRunsTheActionAgainstTheReferenceServer(t *testing.T) {
	var w ghWorkflow
	raw := loadYAML(t, workflowPath, &w)
	if len(w.On) == 0 || len(w.Jobs) == 0 {
		t.Fatalf("workflow has no triggers or jobs: %+v", w)
	}
	found := false
	for name, job := range w.Jobs {
		if job.RunsOn == "" {
			t.Errorf("job %s has no runs-on", name)
		}
		for i, s := range job.Steps {
			if s.Uses != "./.github/actions/smartconform" {
				continue
			}
			found = true
			if _, ok := s.With["config"]; ok {
				t.Errorf("job %s: the action must run with no config (the embedded reference server)", name)
			}
			if i == 0 || !strings.HasPrefix(job.Steps[0].Uses, "actions/checkout@") {
				t.Errorf("job %s: a local action needs the repository checked out first", name)
			}
			if s.With["artifact-name"] == "" || s.With["artifact-name"] == "smartconform-report" {
				t.Errorf("job %s: give the action's artifact a name of its own (smartconform-report is the test job's)", name)
			}
			if s.ID == "" {
				t.Errorf("job %s: the action step needs an id to check its outputs", name)
			} else if !strings.Contains(string(raw), "steps."+s.ID+".outputs.verdict") {
				t.Errorf("job %s: nothing checks the action's verdict output", name)
			}
		}
	}
	if !found {
		t.Error("no job uses ./.github/actions/smartconform")
	}
	checkPinned(t, workflowPath, raw)
}

// TestActionRunStepScript runs the action's own "Run smartconform" script
// with bash as GitHub would (bash -eo pipefail), with smartconform being this
// test binary, and checks what it writes to $GITHUB_OUTPUT against the
// report.json it produced.
func TestActionRunStepScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		// GitHub's runners have jq; the action itself needs nothing else.
		t.Skip("jq is not installed (apt-get install -y jq): the action's run step reads report.json with it")
	}
	var a ghAction
	loadYAML(t, actionPath, &a)
	step := stepByID(a.Runs.Steps, "run")
	if step == nil {
		t.Fatal("no step with id run")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nSMARTCONFORM_AS_MAIN=1 exec " + strconv.Quote(self) + ` "$@"` + "\n"
	if err := os.WriteFile(filepath.Join(bin, "smartconform"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(script, []byte(step.Run), 0o644); err != nil {
		t.Fatal(err)
	}

	multi := startTenants(t, 3, map[int][]string{1: {"accept-expired"}})
	for _, tc := range []struct {
		name, failOn, labels, config, focus string
		wantExit                            string
	}{
		{"reference server", "must", "", "", "", "0"},
		{"label filter", "never", "area:discovery", "", "", "0"},
		{"focus", "must", "", "", `\[DISC-` + "\n" + `\[TRESP-01\]`, "0"},
		{"bad fail-on", "sometimes", "", "", "", "2"},
		{"several targets", "must", "", multi, "", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			outFile := filepath.Join(work, "github_output")
			summaryFile := filepath.Join(work, "summary.md")
			cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", script)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+summaryFile, "GITHUB_ACTIONS=true",
				"SC_CONFIG="+tc.config, "SC_LABEL_FILTER="+tc.labels, "SC_STRICT=false", "SC_FAIL_ON="+tc.failOn,
				"SC_FOCUS="+tc.focus, "SC_PROFILE=smart-v2", "SC_SHARD=",
				"SC_WAIVERS=", "SC_OUT=out dir")
			if tc.config == "" {
				cmd.Env = append(cmd.Env, "SMARTCONFORM_NO_BROWSER=true") // the reference server approves at once: no browser per flow
			}
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stdout
			if err := cmd.Run(); err != nil {
				t.Fatalf("the run step itself failed (it must exit 0 and leave the code to the last step): %v\n%s", err, stdout.String())
			}
			raw, err := os.ReadFile(outFile)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			sc := bufio.NewScanner(bytes.NewReader(raw))
			for sc.Scan() {
				k, v, ok := strings.Cut(sc.Text(), "=")
				if !ok {
					t.Fatalf("malformed $GITHUB_OUTPUT line %q", sc.Text())
				}
				got[k] = v
			}
			if got["exit-code"] != tc.wantExit {
				t.Fatalf("exit-code=%q, want %s\n%s", got["exit-code"], tc.wantExit, stdout.String())
			}
			if got["report-dir"] != filepath.Join(work, "out dir") {
				t.Errorf("report-dir=%q", got["report-dir"])
			}
			if tc.wantExit == "2" {
				if got["verdict"] != "error" || !strings.Contains(stdout.String(), "::error") {
					t.Errorf("a usage error should give verdict=error and an ::error annotation: %v\n%s", got, stdout.String())
				}
				return
			}
			summary, _ := os.ReadFile(summaryFile)
			if tc.config != "" {
				// Several targets: the outputs add up summary.json's targets,
				// the job summary has the overall table, and each failure
				// is an annotation titled with its case ID.
				var c reporter.Combined
				raw, err := os.ReadFile(filepath.Join(work, "out dir", "summary.json"))
				if err != nil || json.Unmarshal(raw, &c) != nil {
					t.Fatalf("summary.json: %v", err)
				}
				var sum reporter.Summary
				for _, tr := range c.Targets {
					sum.Passed += tr.Summary.Passed
					sum.Failed += tr.Summary.Failed
					sum.Skipped += tr.Summary.Skipped
					sum.Total += tr.Summary.Total
				}
				for k, v := range map[string]int{"passed": sum.Passed, "failed": sum.Failed, "skipped": sum.Skipped, "total": sum.Total} {
					if got[k] != strconv.Itoa(v) {
						t.Errorf("output %s=%q, the targets add up to %d", k, got[k], v)
					}
				}
				if got["verdict"] != "non-conformant" || got["failed"] != "1" {
					t.Errorf("outputs %v", got)
				}
				for _, want := range []string{`smartconform: non\-conformant \(1 non\-conformant\, 2 conformant of 3 targets\)`, "| **All** |", "| Target | Verdict |", "| tenant ", "ASYM-EXP-01"} {
					if !strings.Contains(string(summary), want) {
						t.Errorf("job summary lacks %q:\n%s", want, summary)
					}
				}
				if !strings.Contains(stdout.String(), "::error title=ASYM-EXP-01 (tenant ") {
					t.Errorf("no annotation for the failure:\n%s", stdout.String())
				}
				return
			}
			if !strings.Contains(string(summary), "smartconform: conformant") {
				t.Errorf("a green run leaves no job summary saying so:\n%s", summary)
			}
			rep, err := reporter.ReadJSON(filepath.Join(work, "out dir", "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.focus != "" && (len(rep.Cases) == 0 || slices.ContainsFunc(rep.Cases, func(c reporter.Case) bool { return !strings.HasPrefix(c.ID, "DISC-") && c.ID != "TRESP-01" })) {
				t.Errorf("the focus input did not reach smartconform: %d cases", len(rep.Cases))
			}
			s := rep.Summary
			want := map[string]string{"verdict": s.Verdict, "passed": strconv.Itoa(s.Passed), "failed": strconv.Itoa(s.Failed),
				"warned": strconv.Itoa(s.Warned), "waived": strconv.Itoa(s.Waived), "skipped": strconv.Itoa(s.Skipped),
				"not-run": strconv.Itoa(s.NotRun), "errors": strconv.Itoa(s.Errors), "total": strconv.Itoa(s.Total)}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("output %s=%q, report.json says %q", k, got[k], v)
				}
			}
			if rep.Run.FailOn != tc.failOn || rep.Run.LabelFilter != tc.labels {
				t.Errorf("the inputs did not reach smartconform: failOn %q, labelFilter %q", rep.Run.FailOn, rep.Run.LabelFilter)
			}
			if tc.labels != "" && !slices.ContainsFunc(rep.Cases, func(c reporter.Case) bool { return c.Area == "discovery" }) {
				t.Error("the label filter selected no discovery case")
			}
		})
	}
}
