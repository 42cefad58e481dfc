package config

import "net/url"

// LaunchSpec is the launch: section, for the SMART App Launch
// (authorization_code) cases:
//
//	launch:
//	  redirectUri: http://127.0.0.1/smartconform/callback   # registered for every client below
//	  redirectUri2: http://127.0.0.1/smartconform/callback2 # optional: a second registered URI
//	  launchUrl: http://127.0.0.1/smartconform/launch       # optional: the app's EHR launch URL
//	  launchStartUrl: https://ehr.example/launch/start      # optional: GET ?client_id=… starts an EHR launch
//	  scope: launch/patient openid fhirUser offline_access patient/*.rs
//	  publicClientId: my-public-app                         # optional: a public client (PKCE only)
//	  user:
//	    username: smart-user
//	    password: {file: smartconform.launch-user.secret}   # or {env: VARIABLE}; never inline
//
// The confidential clients of the clients: section (client_secret_basic,
// client_secret_post, private_key_jwt) are expected to be registered for the
// authorization_code grant with the same redirect URI.
type LaunchSpec struct {
	RedirectURI    string     `yaml:"redirectUri,omitempty"`
	RedirectURI2   string     `yaml:"redirectUri2,omitempty"`
	LaunchURL      string     `yaml:"launchUrl,omitempty"`
	LaunchStartURL string     `yaml:"launchStartUrl,omitempty"`
	Scope          string     `yaml:"scope,omitempty"`
	PublicClientID string     `yaml:"publicClientId,omitempty"`
	User           LaunchUser `yaml:"user,omitempty"`
}

// LaunchUser is the account the login page accepts.
type LaunchUser struct {
	Username string    `yaml:"username,omitempty"`
	Password SecretRef `yaml:"password,omitempty"`
}

// Launch is a resolved launch: section.
type Launch struct {
	RedirectURI    string
	RedirectURI2   string // "" if none
	LaunchURL      string // "" if none
	LaunchStartURL string // "" if none
	Scope          string
	PublicClientID string // "" if none
	Username       string
	Password       string
}

// DefaultLaunchScope is asked for when launch.scope is not set.
const DefaultLaunchScope = "launch/patient openid fhirUser offline_access patient/*.rs"

// resolveLaunch validates a launch: section (nil → nil).
func resolveLaunch(l *LaunchSpec, rel func(string) string, getenv func(string) string, bad func(string, string, ...any) error) (*Launch, error) {
	if l == nil {
		return nil, nil
	}
	out := &Launch{
		RedirectURI: l.RedirectURI, RedirectURI2: l.RedirectURI2, LaunchURL: l.LaunchURL, LaunchStartURL: l.LaunchStartURL,
		Scope: l.Scope, PublicClientID: l.PublicClientID, Username: l.User.Username,
	}
	if out.RedirectURI == "" {
		return nil, bad("launch.redirectUri", "is required")
	}
	for key, u := range map[string]string{"launch.redirectUri": l.RedirectURI, "launch.redirectUri2": l.RedirectURI2, "launch.launchUrl": l.LaunchURL, "launch.launchStartUrl": l.LaunchStartURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme == "" || pu.Host == "" || pu.Fragment != "" {
			return nil, bad(key, "must be an absolute URL without a fragment (got %q)", u)
		}
	}
	if out.Scope == "" {
		out.Scope = DefaultLaunchScope
	}
	if out.Username != "" {
		pw, err := readSecret(l.User.Password, rel, getenv)
		if err != nil {
			return nil, bad("launch.user.password", "%v", err)
		}
		out.Password = pw
	}
	return out, nil
}
