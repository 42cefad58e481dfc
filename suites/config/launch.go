package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// LaunchSpec is the launch: section: how smartconform runs the SMART App
// Launch authorization code flow against the target. The authorization step
// (a person logging in and approving) is driven one of three ways (login.driver):
// browser (a headless Chromium following a login script), interactive (the
// authorization URL is printed and the code awaited on a loopback redirect
// URI, RFC 8252 §7.3) or follow (plain HTTP redirects, for sandboxes that
// approve without a login).
type LaunchSpec struct {
	// RedirectURI is registered for every launch client. With the browser
	// and follow drivers it is never contacted: the navigation to it is
	// intercepted. With interactive it must be http://127.0.0.1:PORT/path.
	RedirectURI string `yaml:"redirectUri,omitempty"`
	// AuthorizeEndpoint overrides discovery's authorization_endpoint.
	AuthorizeEndpoint string `yaml:"authorizeEndpoint,omitempty"`
	// Aud is sent as aud (default: the FHIR base URL).
	Aud string `yaml:"aud,omitempty"`
	// Scope requested by the standalone launch (default:
	// "launch/patient openid fhirUser offline_access patient/*.rs").
	Scope   string        `yaml:"scope,omitempty"`
	EHR     *EHRSpec      `yaml:"ehr,omitempty"`
	Clients LaunchClients `yaml:"clients,omitempty"`
	Login   LoginSpec     `yaml:"login,omitempty"`
}

// EHRSpec says how the harness gets a launch id for an EHR launch: a fixed
// value the EHR issued (launch), or an EHR page (startUrl) that sends the
// user agent to the app's launch URL (launchUri, intercepted like the
// redirect URI) with iss and launch.
type EHRSpec struct {
	Launch    string `yaml:"launch,omitempty"`
	StartURL  string `yaml:"startUrl,omitempty"`
	LaunchURI string `yaml:"launchUri,omitempty"`
}

// LaunchClients are the clients registered for the authorization code grant,
// one per client-authentication method, named as RFC 8414 names them.
type LaunchClients struct {
	PrivateKeyJWT     *AsymSpec   `yaml:"private_key_jwt,omitempty"`
	ClientSecretBasic *SecretSpec `yaml:"client_secret_basic,omitempty"`
	ClientSecretPost  *SecretSpec `yaml:"client_secret_post,omitempty"`
	None              *PublicSpec `yaml:"none,omitempty"`
}

// LoginSpec chooses and configures the driver of the authorization step.
type LoginSpec struct {
	Driver string `yaml:"driver,omitempty"` // browser, interactive or follow
	// Timeout bounds one whole authorization (default 60s; interactive 5m);
	// StepTimeout bounds each browser step (default 10s).
	Timeout     string       `yaml:"timeout,omitempty"`
	StepTimeout string       `yaml:"stepTimeout,omitempty"`
	Chromium    string       `yaml:"chromium,omitempty"` // default /usr/bin/chromium
	Script      []LoginRule  `yaml:"script,omitempty"`
	MaxHops     int          `yaml:"maxHops,omitempty"` // follow: redirects followed (default 10)
	Evidence    string       `yaml:"evidenceDir,omitempty"`
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
// waitFor (a selector) or waitUrl (a regular expression).
type LoginStep struct {
	Fill    string    `yaml:"fill,omitempty"`
	Value   *ValueRef `yaml:"value,omitempty"`
	Click   string    `yaml:"click,omitempty"`
	WaitFor string    `yaml:"waitFor,omitempty"`
	WaitURL string    `yaml:"waitUrl,omitempty"`
}

// ValueRef is where a value typed into a page comes from: an environment
// variable, a file, or (for what is not secret, e.g. a user name) text.
type ValueRef struct {
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

// Launch is the resolved launch: section.
type Launch struct {
	RedirectURI  string
	AuthorizeURL string
	Aud          string // "" → the FHIR base URL
	Scope        string
	EHRLaunch    string
	EHRStartURL  string
	EHRLaunchURI string
	Asym         *AsymClient
	Basic        *SecretClient
	Post         *SecretClient
	Public       *PublicClient

	Driver      string
	Timeout     time.Duration
	StepTimeout time.Duration
	Chromium    string
	Script      []Rule
	MaxHops     int
	// EvidenceDir receives screenshots of failed login scripts ("" → a
	// temporary directory); `smartconform run` sets it beside the reports.
	EvidenceDir string
	// Prompt receives the interactive driver's instructions (nil → stderr).
	Prompt io.Writer
	secrets []string
}

// Rule is a resolved LoginRule.
type Rule struct {
	Match   *regexp.Regexp
	Present string
	Steps   []Step
}

// Step is a resolved LoginStep. Value is what is typed; ValueFrom says
// where it came from, for the evidence (which never shows Value).
type Step struct {
	Fill, Value, ValueFrom string
	Secret                 bool
	Click, WaitFor         string
	WaitURL                *regexp.Regexp
}

// DefaultLaunchScope is requested by the standalone launch unless the
// configuration says otherwise.
const DefaultLaunchScope = "launch/patient openid fhirUser offline_access patient/*.rs"

// LaunchSecrets lists the values typed into login pages from env or file.
func (l *Launch) LaunchSecrets() []string {
	if l == nil {
		return nil
	}
	out := append([]string(nil), l.secrets...)
	if l.Basic != nil {
		out = append(out, l.Basic.Secret)
	}
	if l.Post != nil {
		out = append(out, l.Post.Secret)
	}
	return out
}

// IsLoopbackRedirect says whether u is an http loopback IP redirect URI
// (RFC 8252 §7.3), which the interactive driver can listen on.
func IsLoopbackRedirect(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(pu.Hostname())
	return (ip != nil && ip.IsLoopback()) || pu.Hostname() == "localhost"
}

func resolveLaunch(s *LaunchSpec, rel func(string) string, getenv func(string) string) (*Launch, error) {
	bad := func(key, format string, a ...any) error {
		return &Error{Key: "launch." + key, Err: fmt.Errorf(format, a...)}
	}
	l := &Launch{RedirectURI: s.RedirectURI, AuthorizeURL: s.AuthorizeEndpoint, Aud: s.Aud, Scope: s.Scope, MaxHops: s.Login.MaxHops,
		EvidenceDir: rel(s.Login.Evidence)}
	if l.Scope == "" {
		l.Scope = DefaultLaunchScope
	}
	if l.MaxHops <= 0 {
		l.MaxHops = 10
	}
	pu, err := url.Parse(l.RedirectURI)
	if l.RedirectURI == "" || err != nil || pu.Scheme == "" || pu.Host == "" || pu.Fragment != "" {
		return nil, bad("redirectUri", "an absolute URI without a fragment is required (got %q)", l.RedirectURI)
	}
	for key, u := range map[string]string{"authorizeEndpoint": l.AuthorizeURL} {
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, bad(key, "must be an absolute http(s) URL (got %q)", u)
		}
	}
	if e := s.EHR; e != nil {
		l.EHRLaunch, l.EHRStartURL, l.EHRLaunchURI = e.Launch, e.StartURL, e.LaunchURI
		if (e.StartURL == "") != (e.LaunchURI == "") {
			return nil, bad("ehr", "startUrl and launchUri go together")
		}
		if e.Launch == "" && e.StartURL == "" {
			return nil, bad("ehr", "give launch, or startUrl and launchUri")
		}
	}
	c := s.Clients
	if a := c.PrivateKeyJWT; a != nil {
		if a.ClientID == "" || len(a.Keys) == 0 {
			return nil, bad("clients.private_key_jwt", "clientId and at least one key are required")
		}
		ac := &AsymClient{ClientID: a.ClientID}
		for i, ks := range a.Keys {
			k, err := loadKey(rel(ks.KeyFile), ks.KID, ks.Alg)
			if err != nil {
				return nil, bad(fmt.Sprintf("clients.private_key_jwt.keys[%d]", i), "%v", err)
			}
			ac.Keys = append(ac.Keys, k)
		}
		l.Asym = ac
	}
	for key, m := range map[string]struct {
		spec *SecretSpec
		dst  **SecretClient
	}{"client_secret_basic": {c.ClientSecretBasic, &l.Basic}, "client_secret_post": {c.ClientSecretPost, &l.Post}} {
		if m.spec == nil {
			continue
		}
		if m.spec.ClientID == "" {
			return nil, bad("clients."+key+".clientId", "is required")
		}
		secret, err := readSecret(m.spec.Secret, rel, getenv)
		if err != nil {
			return nil, bad("clients."+key+".secret", "%v", err)
		}
		*m.dst = &SecretClient{ClientID: m.spec.ClientID, Secret: secret}
	}
	if p := c.None; p != nil {
		if p.ClientID == "" {
			return nil, bad("clients.none.clientId", "is required")
		}
		l.Public = &PublicClient{ClientID: p.ClientID}
	}
	if l.Asym == nil && l.Basic == nil && l.Post == nil && l.Public == nil {
		return nil, bad("clients", "at least one client registered for the authorization code grant is required")
	}

	lg := s.Login
	l.Driver = lg.Driver
	switch lg.Driver {
	case DriverBrowser, DriverFollow:
	case DriverInteractive:
		if !IsLoopbackRedirect(l.RedirectURI) {
			return nil, bad("redirectUri", "the interactive driver listens on a loopback redirect URI: http://127.0.0.1:PORT/path (RFC 8252 §7.3), got %q", l.RedirectURI)
		}
	case "":
		return nil, bad("login.driver", "is required: browser, interactive or follow")
	default:
		return nil, bad("login.driver", "unknown driver %q (browser, interactive or follow)", lg.Driver)
	}
	l.Timeout, l.StepTimeout = 60*time.Second, 10*time.Second
	if lg.Driver == DriverInteractive {
		l.Timeout = 5 * time.Minute
	}
	for key, d := range map[string]*time.Duration{"login.timeout": &l.Timeout, "login.stepTimeout": &l.StepTimeout} {
		v := map[string]string{"login.timeout": lg.Timeout, "login.stepTimeout": lg.StepTimeout}[key]
		if v == "" {
			continue
		}
		p, err := time.ParseDuration(v)
		if err != nil || p <= 0 {
			return nil, bad(key, "must be a positive duration such as 10s (got %q)", v)
		}
		*d = p
	}
	l.Chromium = lg.Chromium
	if l.Chromium == "" {
		l.Chromium = "/usr/bin/chromium"
	}
	if lg.Driver == DriverBrowser && len(lg.Script) == 0 {
		return nil, bad("login.script", "the browser driver needs a login script (rules of match and steps)")
	}
	if lg.Driver != DriverBrowser && len(lg.Script) > 0 {
		return nil, bad("login.script", "only the browser driver follows a login script")
	}
	for i, r := range lg.Script {
		key := fmt.Sprintf("login.script[%d]", i)
		re, err := regexp.Compile(r.Match)
		if r.Match == "" || err != nil {
			return nil, bad(key+".match", "a regular expression over the page URL is required (%v)", err)
		}
		rule := Rule{Match: re, Present: r.Present}
		if len(r.Steps) == 0 {
			return nil, bad(key+".steps", "at least one step is required")
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
				return nil, bad(skey, "give exactly one of fill, click, waitFor, waitUrl")
			}
			step := Step{Fill: st.Fill, Click: st.Click, WaitFor: st.WaitFor}
			if st.WaitURL != "" {
				if step.WaitURL, err = regexp.Compile(st.WaitURL); err != nil {
					return nil, bad(skey+".waitUrl", "%v", err)
				}
			}
			if (st.Fill != "") != (st.Value != nil) {
				return nil, bad(skey, "fill and value go together")
			}
			if v := st.Value; v != nil {
				switch {
				case v.Text != "" && (v.Env != "" || v.File != ""):
					return nil, bad(skey+".value", "give env, file or text, one of them")
				case v.Text != "":
					if looksSecret(st.Fill) {
						return nil, bad(skey+".value", "inline text is not accepted for %s: use {env: VARIABLE} or {file: PATH}", st.Fill)
					}
					step.Value, step.ValueFrom = v.Text, fmt.Sprintf("%q", v.Text)
				default:
					val, err := readSecret(SecretRef{Env: v.Env, File: v.File}, rel, getenv)
					if err != nil {
						return nil, bad(skey+".value", "%v", err)
					}
					step.Value, step.Secret = val, true
					step.ValueFrom = "the value of $" + v.Env
					if v.File != "" {
						step.ValueFrom = "the content of " + v.File
					}
					l.secrets = append(l.secrets, val)
				}
			}
			rule.Steps = append(rule.Steps, step)
		}
		l.Script = append(l.Script, rule)
	}
	return l, nil
}

// looksSecret says whether a selector names a field that holds a secret.
func looksSecret(sel string) bool {
	s := strings.ToLower(sel)
	return strings.Contains(s, "pass") || strings.Contains(s, "secret") || strings.Contains(s, "otp") || strings.Contains(s, "pin")
}

var errNoLaunch = errors.New("no launch: section is configured")

// RequireLaunch returns the launch configuration, or why there is none.
func (t *Target) RequireLaunch() (*Launch, error) {
	if t.Launch == nil {
		return nil, errNoLaunch
	}
	return t.Launch, nil
}
