package main

import (
	"strings"
	"testing"
)

// A browser login without Chromium is a usage error said in one line that
// names the interactive alternative, before anything runs; a launch
// section's mistakes name their key.
func TestLaunchConfigurationErrorsExit2(t *testing.T) {
	const base = "version: 1\ntarget: {fhirBaseUrl: 'http://127.0.0.1:1/fhir'}\nlaunch:\n  redirectUri: http://127.0.0.1/cb\n  user: {username: u, password: {env: SMARTCONFORM_TEST_PW}}\n"
	t.Setenv("SMARTCONFORM_TEST_PW", "pw-value-123")
	for name, tc := range map[string]struct{ yaml, want string }{
		"no chromium":               {base + "  login:\n    driver: browser\n    chromium: /nonexistent/chromium\n    script: [{match: login, steps: [{click: '#login'}]}]\n", "use login.driver: interactive"},
		"inline password":           {base + "  login:\n    driver: browser\n    script: [{match: login, steps: [{fill: '#password', value: {text: hunter2}}]}]\n", "launch.login.script[0].steps[0].value"},
		"no script":                 {base + "  login: {driver: browser}\n", "launch.login.script"},
		"unknown driver":            {base + "  login: {driver: telepathy}\n", "launch.login.driver"},
		"interactive, not loopback": {strings.Replace(base, "http://127.0.0.1/cb", "https://app.example/cb", 1) + "  login: {driver: interactive}\n", "RFC 8252"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errs := runCLI(t, "run", "--config", writeConfig(t, tc.yaml), "--out", t.TempDir())
			// One line saying what is wrong, then at most the pointer to help.
			first, rest, _ := strings.Cut(strings.TrimSpace(errs), "\n")
			if code != exitUsage || !strings.Contains(first, tc.want) || (rest != "" && !strings.HasPrefix(rest, "see 'smartconform help")) {
				t.Errorf("exit %d, stderr %q; want exit 2 in one line naming %q", code, errs, tc.want)
			}
		})
	}
}
