package suites_test

import (
	"net"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// The JWKS-URL group runs with the reference server fetching the key set
// from the harness's own listener, rotation and cache expiry included, and
// every case passes.
func TestJWKSURLGroupAgainstTheReferenceServer(t *testing.T) {
	start := time.Now()
	rep := runAgainst(t, engine.Options{LabelFilter: "area:jwks-url"})
	t.Logf("JWKS-URL group: %d cases in %s", len(rep.Cases), time.Since(start).Round(time.Millisecond))
	if len(rep.Cases) < 12 {
		t.Fatalf("only %d JWKS-URL cases", len(rep.Cases))
	}
	for _, c := range rep.Cases {
		if c.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", c.ID, c.Status, c.Reason, c.Findings)
		}
		fetched := false
		for _, ex := range c.Exchanges {
			if ex.Method == "GET" && ex.Status == 200 && len(ex.Label) > 0 && ex.Label[:3] == "Key" {
				fetched = true
			}
		}
		if c.ID == "JWKS-FETCH-01" && !fetched {
			t.Errorf("%s: no fetch recorded as evidence", c.ID)
		}
	}
}

// The new groups against each new fault are judged by
// TestEachFaultFailsExactlyItsTargets (every fault, the whole catalogue);
// that the new groups all pass against the conformant server, by
// TestConformantReferenceServerPassesEveryCase.

// A JWKS host configured as for a remote server (a listen address and the
// public URL, not a ready-made listener) serves the set: the engine opens
// the listener itself, answers TLS and plain HTTP on it, and closes it.
func TestJWKSHostFromListenAddress(t *testing.T) {
	srv, err := refserver.Start(refserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg, err := config.ForReference("listen", srv)
	if err != nil {
		t.Fatal(err)
	}
	j := tg.Trust.JWKS
	j.Listen = j.Listener.Addr().String()
	j.Listener.Close() // the engine listens on j.Listen itself
	j.Listener = nil
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Reference: true, LabelFilter: "JWKS-REG-01 || JWKS-JKU-02"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Cases {
		if c.Status != reporter.Passed {
			t.Errorf("%s: %s %s %+v", c.ID, c.Status, c.Reason, c.Findings)
		}
	}
	if c, err := net.Dial("tcp", j.Listen); err == nil {
		c.Close()
		t.Error("the JWKS listener is still open after the run")
	}
}
