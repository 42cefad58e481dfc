package suites

import (
	"net/url"

	. "github.com/smartconform/smartconform/suites/engine"
)

// Public clients (token_endpoint_auth_method none).
var _ = Area(40, "public-client", "Public clients", func() {

	Case(Meta{
		ID:          "PUB-CC-01",
		Title:       "A public client cannot use client_credentials",
		Requirement: "A client_credentials request from a public client, carrying only its client_id, gets no token: the grant is for confidential clients only.",
		Level:       MUST, Method: AuthNone, Negative: true,
		Refs:   []Ref{refRFC6749Grant, RFC(6749, "2.2"), refRFC6749Error},
		Policy: "TEP-GT-04: 400 or 401, with unauthorized_client or invalid_client.",
		Hint:   "The server issues client_credentials tokens to a client that proved nothing but its client_id; anyone can send a client_id.",
	}, func(t *T) {
		t.RequireClient(AuthNone)
		t.ExpectRejected(t.Do(Request{
			Label: "Token request (public client, client_id only)", URL: t.TokenURL(),
			Form: url.Values{"grant_type": {"client_credentials"}, "scope": {t.Target().Scope}, "client_id": {t.Target().Public.ClientID}},
		}), Rejection{Statuses: []int{400, 401}, Codes: []string{"unauthorized_client", "invalid_client"}})
	})
})
