package suites_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// trustFaults are the faults of the trust chain (faults_trust.go).
var trustFaults = []string{
	refserver.FaultJWKSURLUnsupported, refserver.FaultJWKSRejectRegisteredJKU, refserver.FaultJWKSFetchPOST, refserver.FaultJWKSFetchNoAccept,
	refserver.FaultJWKSNoRefetch, refserver.FaultJWKSCacheTooLong, refserver.FaultJWKSDuplicateKID, refserver.FaultJWKSFetchError,
	refserver.FaultJWKSHTTPJKU, refserver.FaultFetchX5U,
	refserver.FaultTokenUnpublishedKey, refserver.FaultTokenIssSlash, refserver.FaultTokenExpMismatch, refserver.FaultTokenScopeClaim,
	refserver.FaultJWKSURIPrivate, refserver.FaultOIDCConfigMismatch,
	refserver.FaultIntrospectExp, refserver.FaultIntrospectGarbage400, refserver.FaultIntrospectAnonymous, refserver.FaultIntrospectCallerAsCID,
	refserver.FaultRevokeNoop, refserver.FaultRevokeUnknown400,
	refserver.FaultFHIRNoToken, refserver.FaultFHIRAnyOpaque, refserver.FaultFHIRSkipSig, refserver.FaultFHIRIgnoresScope,
	refserver.FaultFHIRCaseScheme, refserver.FaultFHIRRejectValid,
	refserver.FaultDiscoveryUnknownCap, refserver.FaultDiscoveryOIDCNoJWKS, refserver.FaultDiscoveryScopeUnused, refserver.FaultMetadataOAuthURIs,
}

// trustAreas select the new groups.
const trustAreas = "area:jwks-url || area:issued-tokens || area:introspection || area:revocation || area:resource-server || area:discovery-metadata"

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

// The new groups pass against the conformant server, and each new fault
// fails exactly its cases (the others keep their verdicts, or are not run
// where the fault lists them so).
func TestTrustFaultsFailExactlyTheirCases(t *testing.T) {
	base := verdicts(runAgainst(t, engine.Options{LabelFilter: trustAreas}))
	for id, st := range base {
		if st != reporter.Passed && !slices.Contains([]string{"DISC-TLS-01"}, id) {
			t.Errorf("conformant server: %s is %s", id, st)
		}
	}
	all := runMany(t, false, trustAreas, trustFaults)
	for _, name := range trustFaults {
		f := refserver.Faults[name]
		t.Run(name, func(t *testing.T) {
			got := all[name]
			for id, want := range base {
				switch {
				case slices.Contains(f.Targets, id):
					want = reporter.Failed
				case slices.Contains(f.NotRun, id):
					want = reporter.NotRun
				case slices.Contains(f.Warns, id):
					want = reporter.Warned
				}
				if got[id] != want {
					t.Errorf("%s: %s is %s, want %s", name, id, got[id], want)
				}
			}
		})
	}
}

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
