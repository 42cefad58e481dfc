package engine

import (
	"github.com/smartconform/smartconform/fixtures"
)

// AssertionCase is one row of a table of private_key_jwt negative cases
// that differ only in how the valid assertion (or its request) is spoiled:
// each sends the spoiled request after the method's baseline is accepted,
// and judges that it is refused.
type AssertionCase struct {
	Meta
	// Sends returns, for each request the case sends (usually one), the
	// mutations of the client's valid assertion. It is called when the case
	// runs, so time claims are relative to then.
	Sends func() [][]fixtures.Mutation
	// Request, if set, spoils the request instead of (or as well as) the
	// assertion: a form parameter removed or replaced.
	Request func(Request) Request
	// Rejection is how the answer must look; nil: InvalidClient at the
	// case's level under the run's profile.
	Rejection *Rejection
	// ProvenBy names the reference-server fault this case is proven to catch
	// (the detection matrix, `smartconform mutants`, checks it).
	ProvenBy string
}

// Spoil returns a Sends that sends one assertion with muts applied.
func Spoil(muts ...fixtures.Mutation) func() [][]fixtures.Mutation {
	return func() [][]fixtures.Mutation { return [][]fixtures.Mutation{muts} }
}

// provenBy maps case IDs declared in tables to their fault.
var provenBy = map[string]string{}

// ProvenBy returns, for every case declared in an AssertionCases table, the
// reference-server fault it names as its proof.
func ProvenBy() map[string]string {
	out := make(map[string]string, len(provenBy))
	for k, v := range provenBy {
		out[k] = v
	}
	return out
}

// AssertionCases declares each row as a case of method private_key_jwt.
func AssertionCases(rows ...AssertionCase) {
	for _, row := range rows {
		row := row
		row.Method, row.Negative = PrivateKeyJWT, true
		provenBy[row.ID] = row.ProvenBy
		caseAt(2, row.Meta, func(t *T) {
			lvl := t.ProfileLevel()
			t.RequireBaseline(PrivateKeyJWT)
			x := InvalidClient.At(lvl)
			if row.Rejection != nil {
				x = *row.Rejection
			}
			sends := [][]fixtures.Mutation{nil}
			if row.Sends != nil {
				sends = row.Sends()
			}
			for _, muts := range sends {
				req := t.AssertionRequest(t.Assertion(muts...))
				if row.Request != nil {
					req = row.Request(req)
				}
				t.ExpectRejected(t.Do(req), x)
			}
		})
	}
}
