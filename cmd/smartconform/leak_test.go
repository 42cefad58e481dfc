package main

import (
	"bytes"
	"testing"

	"github.com/smartconform/smartconform/fixtures"
	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
)

// TestNoTokenLeaksFromOddBodies points the CLI at a token endpoint that
// issues tokens in shapes a JSON-only redactor misses — a token response
// cut inside a string, one over the harness's body cap, an HTML page quoting
// it — and scans stdout, stderr and every report for the seeded tokens, raw
// and escaped. Every case sends to that endpoint, so each token passes
// through findings, evidence and hints many times over.
func TestNoTokenLeaksFromOddBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary several times")
	}
	creds, err := refserver.SharedCredentials()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range fixtures.HostileLeakBehaviours {
		t.Run(b, func(t *testing.T) {
			h, err := fixtures.StartHostile(fixtures.HostileOptions{Behaviour: b, Endpoints: fixtures.HostileToken})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			code, outputs := scanRun(t, "leak "+b, h.BaseURL, creds, h.CACertPEM, config.ReferenceLogin(true))
			if code != exitFailed && code != exitIncomplete {
				t.Fatalf("exit %d, want 1 or 3\n%s", code, tail(string(outputs["stderr"])))
			}
			// The harness did see the tokens: the evidence shows the bodies.
			if !bytes.Contains(outputs["report.json"], []byte("access_token")) {
				t.Fatalf("report.json quotes no token response at all; the test proves nothing")
			}
			for _, tok := range h.SeededTokens {
				for _, form := range secretForms(tok) {
					for name, text := range outputs {
						if bytes.Contains(text, []byte(form)) {
							t.Errorf("%s: seeded token %q (as %q) is in %s", b, tok[:14]+"…", form[:min(len(form), 14)]+"…", name)
						}
					}
				}
			}
		})
	}
}
