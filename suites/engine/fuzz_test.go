package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// fuzzT is a case handle outside Ginkgo, for the judge helpers (which only
// record findings).
func fuzzT() *T {
	e := &env{opts: Options{Target: &config.Target{Name: "fuzz", RequestTimeout: time.Second}}, redactor: reporter.NewRedactor("fuzz-secret-value")}
	return &T{ctx: context.Background(), Meta: Meta{ID: "FUZZ-01", Level: MUST}, env: e, rec: &caseRecord{}}
}

// FuzzJudgeResponse: any token or error response body, with any status and
// media type, is decoded as send decodes it and judged by the token and
// rejection helpers without a panic; findings are redacted strings.
func FuzzJudgeResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"at","token_type":"Bearer","expires_in":300,"scope":"system/*.rs"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if len(body) > MaxBodyBytes {
			return
		}
		r := &Response{Status: status, Header: http.Header{"Content-Type": {contentType}, "Cache-Control": {contentType}}, Body: body}
		r.JSON, r.JSONErr = ParseObject(body)
		if (r.JSON == nil) == (r.JSONErr == nil) {
			t.Fatalf("ParseObject: object %v and error %v", r.JSON, r.JSONErr)
		}
		ft := fuzzT()
		ft.ExpectToken(r)
		ft.ExpectRejected(r, InvalidClient)
		ft.ExpectRejected(r, Rejection{HeaderScheme: "Basic", Statuses: []int{401}, Codes: []string{"invalid_client"}, Level: SHOULD})
		_ = DescribeAnswer(r)
		_ = Directives(r.Header.Values("Cache-Control"))
		_ = r.MediaType()
		_ = r.Str("access_token")
		_ = JSONType(r.JSON["access_token"])
		red := ft.env.redactor.JSONBody(truncate(string(body), 64<<10))
		if strings.Contains(red, "fuzz-secret-value") {
			t.Fatal("a registered secret survived redaction")
		}
		for _, fd := range ft.rec.findings {
			if strings.Contains(fd.Actual, "fuzz-secret-value") {
				t.Fatal("a registered secret is in a finding")
			}
		}
	})
}

// The discovery fuzzer serves each input from one local server.
var (
	discMu     sync.Mutex
	discBody   []byte
	discCT     string
	discStatus int
)

// FuzzDiscovery: any discovery answer, fetched and read as a run reads it,
// gives a document with a string token endpoint or an error; never a panic.
func FuzzDiscovery(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"token_endpoint":"https://example.org/token","capabilities":["client-confidential-asymmetric"]}`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		discMu.Lock()
		body, ct, st := discBody, discCT, discStatus
		discMu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(st)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 200 || status > 599 || len(body) > MaxBodyBytes+1024 || strings.ContainsAny(contentType, "\r\n\x00") {
			return
		}
		discMu.Lock()
		discBody, discCT, discStatus = body, contentType, status
		discMu.Unlock()
		o := Options{Target: &config.Target{Name: "fuzz", BaseURL: srv.URL + "/fhir", RequestTimeout: 5 * time.Second}, Version: "fuzz"}
		c, err := newHTTPClient(o)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{opts: o, client: c, redactor: reporter.NewRedactor()}
		d, err := e.discovery(context.Background())
		switch {
		case err != nil && d != nil:
			t.Fatal("a document and an error")
		case err == nil && (d == nil || d.TokenURL == ""):
			t.Fatal("no document and no error")
		case err == nil:
			for _, m := range []string{"capabilities", "token_endpoint_auth_methods_supported", "grant_types_supported"} {
				_ = d.StringList(m)
			}
		}
	})
}
