package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// The follow driver follows an auto-approving sandbox's redirects with a
// cookie jar, stops at the redirect URI without requesting it, stops on a
// page that does not redirect, and gives up after maxHops.
func TestFollowDriver(t *testing.T) {
	const redirect = "http://127.0.0.1:1/app/callback" // never requested: nothing listens there
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
		http.Redirect(w, r, "/approve?state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	mux.HandleFunc("/approve", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s1" {
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		http.Redirect(w, r, redirect+"?code=the-code-value&state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<p>log in</p>")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	run := func(path string) (*flowEnd, *flow, error) {
		f := &flow{caseID: "T", authURL: srv.URL + path, redirectURI: redirect, redactor: reporter.NewRedactor(),
			launch: &config.Launch{Driver: config.DriverFollow, MaxHops: 5, StepTimeout: 5 * time.Second}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		end, err := followDriver{}.run(ctx, f)
		return end, f, err
	}
	end, f, err := run("/authorize?state=xyz")
	if err != nil || !strings.Contains(end.redirect, "code=the-code-value") || !strings.Contains(end.redirect, "state=xyz") {
		t.Fatalf("got %+v, %v", end, err)
	}
	for _, ex := range f.evidence {
		if strings.Contains(ex.URL, "the-code-value") || strings.HasPrefix(ex.URL, redirect) {
			t.Errorf("evidence shows the code or a request to the redirect URI: %+v", ex)
		}
	}
	if end, _, err := run("/page"); err != nil || end.redirect != "" || !strings.Contains(end.stoppedAt, "200") {
		t.Errorf("a page that does not redirect: %+v, %v", end, err)
	}
	if _, _, err := run("/loop"); err == nil || !strings.Contains(err.Error(), "more than 5 redirects") {
		t.Errorf("a redirect loop: %v", err)
	}
}
