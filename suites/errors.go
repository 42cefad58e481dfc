package suites

import (
	"fmt"
	. "github.com/smartconform/smartconform/suites/engine"

	. "github.com/onsi/gomega"
)

// Error responses beyond what every negative case checks (RFC 6749 §5.2).
var _ = Area(80, "errors", "Error responses", func() {

	// refused sends a valid request with an unknown grant_type: a refusal
	// every server gives, whatever its validation order.
	refused := func(t *T) *Response {
		_, r := t.AnyValidRequest()
		r = WithForm(r, "grant_type", "urn:smartconform:unknown-grant")
		r.Label = "Token request (unknown grant_type)"
		resp := t.Do(r)
		if resp.Status < 400 {
			t.NotRun(fmt.Sprintf("the request was not refused (%s; see TEP-GT-02)", DescribeAnswer(resp)))
		}
		return resp
	}

	Case(Meta{
		ID:          "ERR-CACHE-01",
		Title:       "Error responses forbid caching",
		Requirement: "An error response from the token endpoint should carry Cache-Control: no-store and Pragma: no-cache.",
		Level:       SHOULD, Negative: true,
		Refs:   []Ref{refRFC6749Error, refRFC6749Token},
		Policy: "AMB-ERR-3: RFC 6749 mandates no-store for responses with tokens or credentials and shows it on its error example; on errors it is a SHOULD.",
		Hint:   "Only successful token responses get the cache headers. Set Cache-Control: no-store and Pragma: no-cache on every token endpoint response.",
	}, func(t *T) {
		r := refused(t)
		t.ExpectNoStore(SHOULD, r)
	})

	Case(Meta{
		ID:          "ERR-DESC-01",
		Title:       "Error responses explain themselves",
		Requirement: "An error response from the token endpoint should include an error_description or an error_uri.",
		Level:       SHOULD, Negative: true,
		Refs: []Ref{refBSIssue, refRFC6749Error},
		Hint: "Errors carry only the code. SMART Backend Services asks for error_description or error_uri, which is what integrators need to fix a request.",
	}, func(t *T) {
		r := refused(t)
		t.Should("error_description or error_uri", "a non-empty string in one of them (SMART Backend Services)", r.Str("error_description")+r.Str("error_uri"), Not(BeEmpty()))
	})
})
