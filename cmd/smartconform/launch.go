package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// launchPreflight prepares the targets' authorization code flows: failed
// login scripts leave their screenshots beside the reports, and a
// configuration whose browser login cannot start (no Chromium) is a usage
// error, said in one line, before anything runs. The embedded reference
// server's launch cases are skipped with that reason instead.
func launchPreflight(targets []*config.Target, reference bool, out string, stderr io.Writer) bool {
	for _, t := range targets {
		l := t.Launch
		if l == nil {
			continue
		}
		if l.EvidenceDir == "" {
			l.EvidenceDir = filepath.Join(out, "evidence")
		}
		if l.Driver != config.DriverBrowser || reference {
			continue
		}
		if why := engine.ChromiumMissing(l.Chromium); why != "" {
			fmt.Fprintf(stderr, "smartconform run: %s: %s\n", t.Name, why)
			return false
		}
	}
	return true
}
