package engine

import (
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartconform/smartconform/fixtures"
)

var (
	foreignMu   sync.Mutex
	foreignKeys = map[jose.SignatureAlgorithm]fixtures.SigningKey{}
)

// ForeignKey is a key registered nowhere, generated once per process (RSA
// key generation is slow, and the detection matrix runs the suite often).
func ForeignKey(alg jose.SignatureAlgorithm) (fixtures.SigningKey, error) {
	foreignMu.Lock()
	defer foreignMu.Unlock()
	if k, ok := foreignKeys[alg]; ok {
		return k, nil
	}
	k, err := fixtures.NewSigningKey(alg, "smartconform-foreign")
	if err == nil {
		foreignKeys[alg] = k
	}
	return k, err
}

// SkewMargin is how far past or ahead a time claim is set when it must be
// refused: RFC 7519 lets a server allow "a few minutes" of clock skew, and
// common libraries default to five, so 15 minutes is beyond any of them.
const SkewMargin = 15 * time.Minute
