package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/config"
)

// PreflightError says why a target cannot be tested at all: it did not
// answer, or its discovery document gives no token endpoint and none is
// configured. Every case that needs the server would end with this same
// reason; the CLI says it once.
type PreflightError struct {
	Target string
	// Unreachable: no HTTP answer at all (connection refused, DNS, TLS,
	// timeout), as opposed to an answer that is not a usable discovery.
	Unreachable bool
	Err         error
}

func (e *PreflightError) Error() string {
	if e.Unreachable {
		return fmt.Sprintf("target %s is unreachable: %v", e.Target, e.Err)
	}
	return fmt.Sprintf("target %s: discovery failed: %v", e.Target, e.Err)
}

// Preflight fetches tg's discovery document once, as the run's first case
// would, with the run's TLS settings and rate cap. It returns nil when the
// target answers with a usable discovery document (or, when discovery fails
// but the token endpoint is configured, when the target answers at all), a
// *PreflightError otherwise, and a *UsageError for a configuration that
// cannot make an HTTP client.
func Preflight(ctx context.Context, tg *config.Target, o Options) error {
	o.Target = tg
	e := &env{opts: o, records: map[string]*caseRecord{}, baselines: map[string]*baseline{}, limiter: newLimiter(o.Rate)}
	e.redactor = reporter.NewRedactor(tg.Secrets()...)
	client, err := newHTTPClient(o)
	if err != nil {
		return &UsageError{fmt.Errorf("target %s: %w", tg.Name, err)}
	}
	e.client = client
	defer client.GetClient().CloseIdleConnections()
	if ctx == nil {
		ctx = context.Background()
	}
	_, derr := e.discovery(ctx)
	if derr == nil {
		return nil
	}
	// Did anything answer? A transport error leaves no response.
	if tg.BaseURL != "" {
		if _, _, serr := e.send(ctx, Request{Label: "Preflight", Method: "GET", URL: e.discoveryURL()}); serr != nil {
			if errors.Is(serr, context.Canceled) {
				return serr
			}
			return &PreflightError{Target: tg.Name, Unreachable: true, Err: errors.New(e.redactor.Text(serr.Error()))}
		}
	}
	if tg.TokenURL != "" {
		return nil // discovery is judged by its own case; the token endpoint is known
	}
	return &PreflightError{Target: tg.Name, Err: derr}
}
