package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// testEnv is an env whose target answers every request with status and a
// §5.2-looking body.
func testEnv(t *testing.T, status int) (*env, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"nope"}`))
	}))
	t.Cleanup(srv.Close)
	o := Options{Target: &config.Target{Name: "test", RequestTimeout: 5 * time.Second}, Profile: ProfileSMARTv2}
	e := &env{opts: o, redactor: reporter.NewRedactor(), limiter: newLimiter(0), records: map[string]*caseRecord{}}
	var err error
	if e.client, err = newHTTPClient(o); err != nil {
		t.Fatal(err)
	}
	return e, srv.URL + "/token"
}

// A 5xx fails a case at every level: in ExpectRejected and ExpectToken
// whatever the rejection's level, and in a case body that judges the answer
// itself (the engine fails it for any 5xx no helper judged). The hint says
// the server crashed.
func TestServerErrorFailsAtEveryLevel(t *testing.T) {
	e, u := testEnv(t, http.StatusInternalServerError)
	should := Meta{ID: "TEST-SHOULD-01", Level: SHOULD, Hint: "the case's own hint"}
	for name, body := range map[string]func(t *T){
		"ExpectRejected at SHOULD": func(t *T) {
			t.ExpectRejected(t.Do(Request{Label: "Token request", URL: u}), Rejection{Statuses: []int{400}, Level: SHOULD})
		},
		"ExpectToken": func(t *T) { t.ExpectToken(t.Do(Request{Label: "Token request", URL: u})) },
		"a case body's own Should": func(t *T) {
			r := t.Do(Request{Label: "Token request", URL: u})
			t.Should("answer", "200", DescribeAnswer(r), Equal("200"))
		},
		"an answer no check looks at": func(t *T) { t.Do(Request{Label: "Probe request", URL: u}) },
	} {
		rec := e.execute(context.Background(), should, body)
		if rec.outcome != judged || rec.failure == "" {
			t.Errorf("%s: outcome %d, failure %q: a 500 must fail a SHOULD case", name, rec.outcome, rec.failure)
			continue
		}
		for _, strict := range []bool{false, true} {
			if h := rec.hint(strict); !strings.Contains(h, "answered 500") {
				t.Errorf("%s (strict %v): hint %q", name, strict, h)
			}
		}
		n := 0
		for i, f := range rec.findings {
			if rec.causes[i].kind == BehaviourServerError {
				n++
				if f.Level != string(MUST) {
					t.Errorf("%s: the 5xx finding is %s", name, f.Level)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d server-error findings, want exactly 1: %+v", name, n, rec.findings)
		}
	}
}

// A refusal with the wrong status warns or fails with the status hint; a
// token to a negative case gets the case's own hint.
func TestHintIsChosenByBehaviour(t *testing.T) {
	e, u := testEnv(t, http.StatusForbidden)
	m := Meta{ID: "TEST-MUST-01", Level: MUST, Hint: "own", Hints: map[string]string{BehaviourCode: "code override"}}
	rec := e.execute(context.Background(), m, func(t *T) {
		t.ExpectRejected(t.Do(Request{Label: "Token request", URL: u}), Rejection{Statuses: []int{400}, Codes: []string{"invalid_request"}})
	})
	// 403 warns (status), invalid_client warns (code): a warned case, and
	// the status explains more than the code.
	if rec.failure != "" || !strings.Contains(rec.hint(false), "answered 403") {
		t.Errorf("403: failure %q, hint %q", rec.failure, rec.hint(false))
	}
	// A refusal with a code that does not fit warns with the case's
	// override for that behaviour.
	bad, u400 := testEnv(t, http.StatusBadRequest)
	rec = bad.execute(context.Background(), m, func(t *T) {
		t.ExpectRejected(t.Do(Request{Label: "Token request", URL: u400}), Rejection{Statuses: []int{400}, Codes: []string{"invalid_request"}})
	})
	if rec.failure != "" || rec.hint(false) != "code override" {
		t.Errorf("wrong code: failure %q, hint %q", rec.failure, rec.hint(false))
	}
	issued := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"bearer"}`))
	}))
	defer issued.Close()
	rec = e.execute(context.Background(), m, func(t *T) {
		t.ExpectRejected(t.Do(Request{Label: "Token request", URL: issued.URL}), InvalidClient)
	})
	if rec.failure == "" || rec.hint(false) != "own" {
		t.Errorf("issued: failure %q, hint %q", rec.failure, rec.hint(false))
	}
}
