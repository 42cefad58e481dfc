package suites_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/reporter"
	_ "github.com/smartconform/smartconform/suites" // registers the cases
	"github.com/smartconform/smartconform/suites/config"
	"github.com/smartconform/smartconform/suites/engine"
)

// throttled fronts a reference server and answers 429 (Retry-After: 1) to
// the first request of each kind that match says to throttle.
func throttled(t *testing.T, match func(r *http.Request) bool) (*refserver.Server, string, *int) {
	t.Helper()
	srv, err := refserver.Start(refserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	seen := map[string]bool{}
	n := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !seen[r.URL.Path] && match(r)
		seen[r.URL.Path] = true
		if first {
			n++
		}
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"slow_down"}`, http.StatusTooManyRequests)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return srv, front.URL, &n
}

// A 429 on discovery (a GET, no assertion) is waited out and sent again:
// the run passes, after at least the Retry-After.
func TestA429IsWaitedOutNotJudged(t *testing.T) {
	srv, front, n := throttled(t, func(r *http.Request) bool { return r.Method == http.MethodGet })
	tg := config.ForServer("throttled", front+refserver.FHIRPath, srv.Creds, nil)
	tg.TokenURL = srv.TokenURL // the token endpoint (and so every aud) is the server's own
	start := time.Now()
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Focus: []string{"DISC-WK-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if *n != 1 || rep.Cases[0].Status != reporter.Passed || time.Since(start) < time.Second {
		t.Errorf("throttled %d times, case %s %s, took %s", *n, rep.Cases[0].Status, rep.Cases[0].Reason, time.Since(start))
	}
	if len(rep.Cases[0].Exchanges) != 2 || rep.Cases[0].Exchanges[0].Status != 429 {
		t.Errorf("the 429 and the second request are both evidence: %+v", rep.Cases[0].Exchanges)
	}
}

// A 429 on a request carrying an assertion is never answered by sending the
// same assertion again (a replay): the case is an error that says so.
func TestA429OnAnAssertionIsNotReplayed(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	srv, err := refserver.Start(refserver.Options{Middleware: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if r.Method == http.MethodPost {
				posts++
			}
			second := r.Method == http.MethodPost && posts == 2 // the first POST is the run's baseline
			mu.Unlock()
			if second {
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"error":"slow_down"}`, http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tg := config.ForServer("throttled", srv.BaseURL, srv.Creds, nil)
	rep, err := engine.Run(engine.Options{Target: tg, Version: "test", Concurrency: 1, Focus: []string{"ASYM-EXP-01"}})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cases[0]
	if c.Status != reporter.Errored || !strings.Contains(c.Reason, "replay") {
		t.Fatalf("case is %s (%s), want an error saying a resend would be a replay", c.Status, c.Reason)
	}
	if len(c.Exchanges) != 1 || c.Exchanges[0].Status != http.StatusTooManyRequests || posts != 2 {
		t.Errorf("the assertion was sent again: %d exchanges, %d POSTs", len(c.Exchanges), posts)
	}
}

// --rate spaces the requests to a target.
func TestRateSpacesRequests(t *testing.T) {
	srv, err := refserver.Start(refserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	start := time.Now()
	rep, err := engine.Run(engine.Options{Target: config.ForServer("r", srv.BaseURL, srv.Creds, nil), Version: "test", Rate: 20, Concurrency: 8,
		Focus: []string{"ASYM-KID-01", "ASYM-EXP-01", "ASYM-SIG-01", "ASYM-AUD-01", "DISC-WK-01"}})
	if err != nil {
		t.Fatal(err)
	}
	requests := 0
	for _, c := range rep.Cases {
		requests += len(c.Exchanges)
	}
	requests += 2 // discovery and the baseline, sent once per run
	if min := time.Duration(requests-1) * time.Second / 20; time.Since(start) < min {
		t.Errorf("%d requests at 20/s took %s, less than %s", requests, time.Since(start), min)
	}
}
