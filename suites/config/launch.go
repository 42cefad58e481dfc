package config

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

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
//	  login:
//	    driver: browser            # browser, interactive or follow
//	    script:                    # browser: rules applied to the pages of the flow
//	      - match: /auth/authorize|/auth/login
//	        present: "#username"
//	        steps:
//	          - fill: "#username"
//	            value: {from: username}
//	          - fill: "#password"
//	            value: {from: password}
//	          - click: "#login"
//	      - match: /auth/consent
//	        present: "#approve"
//	        steps:
//	          - click: "#approve"
//
// The confidential clients of the clients: section (client_secret_basic,
// client_secret_post, private_key_jwt) are expected to be registered for the
// authorization_code grant with the same redirect URI.
//
// The authorization step (a person logging in and approving) is driven one
// of three ways (login.driver): browser (a headless Chromium following the
// login script; the navigation to the redirect URI is intercepted, so the
// redirect URI is never contacted), interactive (the authorization URL is
// printed and the code awaited on a loopback redirect URI, RFC 8252 §7.3) or
// follow (plain HTTP redirects, for sandboxes that approve without a login).
type LaunchSpec struct {
	RedirectURI    string     `yaml:"redirectUri,omitempty"`
	RedirectURI2   string     `yaml:"redirectUri2,omitempty"`
	LaunchURL      string     `yaml:"launchUrl,omitempty"`
	LaunchStartURL string     `yaml:"launchStartUrl,omitempty"`
	Scope          string     `yaml:"scope,omitempty"`
	PublicClientID string     `yaml:"publicClientId,omitempty"`
	User           LaunchUser `yaml:"user,omitempty"`
	// AuthorizeEndpoint overrides discovery's authorization_endpoint.
	AuthorizeEndpoint string `yaml:"authorizeEndpoint,omitempty"`
	// Aud is sent as aud (default: the FHIR base URL).
	Aud   string    `yaml:"aud,omitempty"`
	Login LoginSpec `yaml:"login,omitempty"`
}

// LaunchUser is the account the login page accepts.
type LaunchUser struct {
	Username string    `yaml:"username,omitempty"`
	Password SecretRef `yaml:"password,omitempty"`
}

// LoginSpec chooses and configures the driver of the authorization step.
type LoginSpec struct {
	Driver string `yaml:"driver,omitempty"` // browser, interactive or follow
	// Timeout bounds one whole authorization (default 60s; interactive 5m);
	// StepTimeout bounds each browser step (default 10s).
	Timeout     string      `yaml:"timeout,omitempty"`
	StepTimeout string      `yaml:"stepTimeout,omitempty"`
	Chromium    string      `yaml:"chromium,omitempty"` // default /usr/bin/chromium
	Script      []LoginRule `yaml:"script,omitempty"`
	MaxHops     int         `yaml:"maxHops,omitempty"`     // follow: redirects followed (default 10)
	EvidenceDir string      `yaml:"evidenceDir,omitempty"` // screenshots of failed scripts
}

// LoginRule applies to a page whose URL matches Match (a regular
// expression) and, if Present is set, that holds an element matching that
// CSS selector: its steps run in order.
type LoginRule struct {
	Match   string      `yaml:"match"`
	Present string      `yaml:"present,omitempty"`
	Steps   []LoginStep `yaml:"steps"`
}

// LoginStep is one action: exactly one of fill (with value), click,
// waitFor (a selector) or waitUrl (a regular expression over the URL).
type LoginStep struct {
	Fill    string    `yaml:"fill,omitempty"`
	Value   *ValueRef `yaml:"value,omitempty"`
	Click   string    `yaml:"click,omitempty"`
	WaitFor string    `yaml:"waitFor,omitempty"`
	WaitURL string    `yaml:"waitUrl,omitempty"`
}

// ValueRef is where a value typed into a page comes from: launch.user
// (from: username or password), an environment variable, a file, or, for
// what is not secret, text. Inline text is refused for password-like fields.
type ValueRef struct {
	From string `yaml:"from,omitempty"`
	Env  string `yaml:"env,omitempty"`
	File string `yaml:"file,omitempty"`
	Text string `yaml:"text,omitempty"`
}

// Login drivers.
const (
	DriverBrowser     = "browser"
	DriverInteractive = "interactive"
	DriverFollow      = "follow"
)

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
	AuthorizeURL   string // "" → discovery
	Aud            string // "" → the FHIR base URL

	// Driver is "" when none is configured: the flow cases are skipped.
	Driver      string
	Timeout     time.Duration // one whole authorization
	StepTimeout time.Duration // one browser step, one follow hop
	Chromium    string
	Script      []Rule
	MaxHops     int
	// EvidenceDir receives screenshots of failed login scripts ("" → a
	// temporary directory); `smartconform run` sets it beside the reports.
	EvidenceDir string
	// Prompt receives the interactive driver's instructions (nil → stderr).
	Prompt  io.Writer
	secrets []string
}

// Rule is a resolved LoginRule.
type Rule struct {
	Match   *regexp.Regexp
	Present string
	Steps   []Step
}

// Step is a resolved LoginStep. Value is what is typed; ValueFrom says
// where it came from, for the evidence (which never shows a secret Value).
type Step struct {
	Fill, Value, ValueFrom string
	Click, WaitFor         string
	WaitURL                *regexp.Regexp
}

// DefaultLaunchScope is asked for when launch.scope is not set.
const DefaultLaunchScope = "launch/patient openid fhirUser offline_access patient/*.rs"

// LaunchSecrets lists the secrets of the launch section, for redaction.
func (l *Launch) LaunchSecrets() []string {
	if l == nil {
		return nil
	}
	out := append([]string(nil), l.secrets...)
	if l.Password != "" {
		out = append(out, l.Password)
	}
	return out
}

// IsLoopbackRedirect says whether u is an http loopback redirect URI
// (RFC 8252 §7.3), which the interactive driver can listen on.
func IsLoopbackRedirect(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(pu.Hostname())
	return (ip != nil && ip.IsLoopback()) || pu.Hostname() == "localhost"
}

// ReferenceLoginScript is the browser login script of the embedded
// reference server's pages (#username, #password, #login; #approve).
func ReferenceLoginScript() []LoginRule {
	return []LoginRule{
		{Match: `/auth/(authorize|login)`, Present: "#username", Steps: []LoginStep{
			{Fill: "#username", Value: &ValueRef{From: "username"}},
			{Fill: "#password", Value: &ValueRef{From: "password"}},
			{Click: "#login"},
		}},
		{Match: `/auth/consent`, Present: "#approve", Steps: []LoginStep{{Click: "#approve"}}},
	}
}

// ReferenceLogin is how flows get through the reference server's
// authorization step: its login and consent pages in the headless browser
// (ReferenceLoginScript), or, for a server started with AutoApprove (which
// approves at once), its redirects followed over plain HTTP.
func ReferenceLogin(autoApprove bool) LoginSpec {
	if autoApprove {
		return LoginSpec{Driver: DriverFollow}
	}
	return LoginSpec{Driver: DriverBrowser, Script: ReferenceLoginScript()}
}

// resolveLaunch validates a launch: section (nil → nil).
func resolveLaunch(l *LaunchSpec, rel func(string) string, getenv func(string) string, bad func(string, string, ...any) error) (*Launch, error) {
	if l == nil {
		return nil, nil
	}
	out := &Launch{
		RedirectURI: l.RedirectURI, RedirectURI2: l.RedirectURI2, LaunchURL: l.LaunchURL, LaunchStartURL: l.LaunchStartURL,
		Scope: l.Scope, PublicClientID: l.PublicClientID, Username: l.User.Username,
		AuthorizeURL: l.AuthorizeEndpoint, Aud: l.Aud,
	}
	if out.RedirectURI == "" {
		return nil, bad("launch.redirectUri", "is required")
	}
	for key, u := range map[string]string{"launch.redirectUri": l.RedirectURI, "launch.redirectUri2": l.RedirectURI2, "launch.launchUrl": l.LaunchURL, "launch.launchStartUrl": l.LaunchStartURL, "launch.authorizeEndpoint": l.AuthorizeEndpoint} {
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
	if err := resolveLogin(out, l.Login, rel, getenv, bad); err != nil {
		return nil, err
	}
	return out, nil
}

func resolveLogin(out *Launch, lg LoginSpec, rel func(string) string, getenv func(string) string, bad func(string, string, ...any) error) error {
	out.Driver, out.MaxHops, out.EvidenceDir = lg.Driver, lg.MaxHops, rel(lg.EvidenceDir)
	out.Script, out.secrets = nil, nil
	if out.MaxHops <= 0 {
		out.MaxHops = 10
	}
	switch lg.Driver {
	case DriverBrowser, DriverFollow, "":
	case DriverInteractive:
		if !IsLoopbackRedirect(out.RedirectURI) {
			return bad("launch.redirectUri", "the interactive driver listens on a loopback redirect URI, http://127.0.0.1:PORT/path (RFC 8252 §7.3); got %q", out.RedirectURI)
		}
	default:
		return bad("launch.login.driver", "unknown driver %q (browser, interactive or follow)", lg.Driver)
	}
	out.Timeout, out.StepTimeout = 60*time.Second, 10*time.Second
	if lg.Driver == DriverInteractive {
		out.Timeout = 5 * time.Minute
	}
	for _, d := range []struct {
		key, val string
		dst      *time.Duration
	}{{"launch.login.timeout", lg.Timeout, &out.Timeout}, {"launch.login.stepTimeout", lg.StepTimeout, &out.StepTimeout}} {
		if d.val == "" {
			continue
		}
		p, err := time.ParseDuration(d.val)
		if err != nil || p <= 0 {
			return bad(d.key, "must be a positive duration such as 10s (got %q)", d.val)
		}
		*d.dst = p
	}
	out.Chromium = lg.Chromium
	if out.Chromium == "" {
		out.Chromium = "/usr/bin/chromium"
	}
	if lg.Driver == DriverBrowser && len(lg.Script) == 0 {
		return bad("launch.login.script", "the browser driver needs a login script (rules of match and steps)")
	}
	if lg.Driver != DriverBrowser && len(lg.Script) > 0 {
		return bad("launch.login.script", "only the browser driver follows a login script")
	}
	for i, r := range lg.Script {
		key := fmt.Sprintf("launch.login.script[%d]", i)
		re, err := regexp.Compile(r.Match)
		if r.Match == "" || err != nil {
			return bad(key+".match", "a regular expression over the page URL is required (%v)", err)
		}
		rule := Rule{Match: re, Present: r.Present}
		if len(r.Steps) == 0 {
			return bad(key+".steps", "at least one step is required")
		}
		for j, st := range r.Steps {
			skey := fmt.Sprintf("%s.steps[%d]", key, j)
			n := 0
			for _, set := range []bool{st.Fill != "", st.Click != "", st.WaitFor != "", st.WaitURL != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				return bad(skey, "give exactly one of fill, click, waitFor, waitUrl")
			}
			step := Step{Fill: st.Fill, Click: st.Click, WaitFor: st.WaitFor}
			if st.WaitURL != "" {
				if step.WaitURL, err = regexp.Compile(st.WaitURL); err != nil {
					return bad(skey+".waitUrl", "%v", err)
				}
			}
			if (st.Fill != "") != (st.Value != nil) {
				return bad(skey, "fill and value go together")
			}
			if v := st.Value; v != nil {
				val, from, secret, err := resolveValue(*v, st.Fill, out, rel, getenv)
				if err != nil {
					return bad(skey+".value", "%v", err)
				}
				step.Value, step.ValueFrom = val, from
				if secret {
					out.secrets = append(out.secrets, val)
				}
			}
			rule.Steps = append(rule.Steps, step)
		}
		out.Script = append(out.Script, rule)
	}
	return nil
}

func resolveValue(v ValueRef, field string, l *Launch, rel func(string) string, getenv func(string) string) (val, from string, secret bool, err error) {
	n := 0
	for _, s := range []string{v.From, v.Env, v.File, v.Text} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return "", "", false, fmt.Errorf("give one of from, env, file or text")
	}
	switch {
	case v.From == "username":
		if l.Username == "" {
			return "", "", false, fmt.Errorf("from: username, but launch.user.username is not set")
		}
		return l.Username, "launch.user.username", false, nil
	case v.From == "password":
		if l.Password == "" {
			return "", "", false, fmt.Errorf("from: password, but launch.user.password is not set")
		}
		return l.Password, "launch.user.password", true, nil
	case v.From != "":
		return "", "", false, fmt.Errorf("from: %q: only username or password", v.From)
	case v.Text != "":
		if looksSecret(field) {
			return "", "", false, fmt.Errorf("inline text is not accepted for %s: use {env: VARIABLE}, {file: PATH} or {from: password}", field)
		}
		return v.Text, fmt.Sprintf("%q", v.Text), false, nil
	}
	val, err = readSecret(SecretRef{Env: v.Env, File: v.File}, rel, getenv)
	if err != nil {
		return "", "", false, err
	}
	from = "$" + v.Env
	if v.File != "" {
		from = "the content of " + v.File
	}
	return val, from, true, nil
}

// looksSecret says whether a selector names a field that holds a secret.
func looksSecret(sel string) bool {
	s := strings.ToLower(sel)
	for _, w := range []string{"pass", "secret", "otp", "pin", "token"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ResolveLogin resolves a login section for a launch configuration built in
// code (ForServer): the script's values come from l's user.
func ResolveLogin(l *Launch, lg LoginSpec) error {
	bad := func(key, format string, a ...any) error { return &Error{Key: key, Err: fmt.Errorf(format, a...)} }
	return resolveLogin(l, lg, func(p string) string { return p }, func(string) string { return "" }, bad)
}
