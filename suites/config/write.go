package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/smartconform/smartconform/fixtures/refserver"
)

// WriteForServer writes a ready-to-use configuration for a reference server
// to path: the YAML file plus, beside it, one private JWK file per key and one
// file per secret (mode 0600). caPEM, if set, is written as the CA file;
// login is how its authorization step is driven (ReferenceLogin).
func WriteForServer(path, name, baseURL string, c refserver.Credentials, caPEM []byte, login LoginSpec) error {
	dir := filepath.Dir(path)
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	write := func(suffix string, data []byte) (string, error) {
		name := stem + suffix
		return name, os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	f := File{Version: 1, Scope: c.Scope, Target: TargetSpec{Name: name, FHIRBaseURL: baseURL, RequestTimeout: "10s"}}
	if len(caPEM) > 0 {
		n, err := write(".ca.pem", caPEM)
		if err != nil {
			return err
		}
		f.Target.TLS.CAFile = n
	}
	asyms := append([]refserver.AsymClientCreds{{ID: c.AsymClientID, Keys: c.AsymKeys}}, c.AsymMore...)
	for j, ac := range asyms {
		asym := AsymSpec{ClientID: ac.ID}
		for _, k := range ac.Keys {
			raw, err := json.MarshalIndent(k.JWK, "", "  ")
			if err != nil {
				return err
			}
			suffix := fmt.Sprintf(".%s.jwk.json", strings.ToLower(string(k.Alg)))
			if j > 0 {
				suffix = fmt.Sprintf(".client%d%s", j+1, suffix)
			}
			n, err := write(suffix, raw)
			if err != nil {
				return err
			}
			asym.Keys = append(asym.Keys, KeySpec{KeyFile: n, KID: k.KID, Alg: string(k.Alg)})
		}
		f.Clients.PrivateKeyJWT = append(f.Clients.PrivateKeyJWT, asym)
	}
	bn, err := write(".basic.secret", []byte(c.BasicSecret+"\n"))
	if err != nil {
		return err
	}
	pn, err := write(".post.secret", []byte(c.PostSecret+"\n"))
	if err != nil {
		return err
	}
	f.Clients.ClientSecretBasic = OneOrMany[SecretSpec]{{ClientID: c.BasicID, Secret: SecretRef{File: bn}}}
	f.Clients.ClientSecretPost = OneOrMany[SecretSpec]{{ClientID: c.PostID, Secret: SecretRef{File: pn}}}
	if c.BasicEncID != "" {
		en, err := write(".basic-urlencoded.secret", []byte(c.BasicEncSecret+"\n"))
		if err != nil {
			return err
		}
		f.Clients.ClientSecretBasicURLEnc = &SecretSpec{ClientID: c.BasicEncID, Secret: SecretRef{File: en}}
	}
	f.Clients.None = &PublicSpec{ClientID: c.PublicID}
	if c.RedirectURI != "" {
		un, err := write(".launch-user.secret", []byte(c.UserPassword+"\n"))
		if err != nil {
			return err
		}
		f.Launch = &LaunchSpec{
			RedirectURI: c.RedirectURI, RedirectURI2: c.RedirectURI2, LaunchURL: c.LaunchURL, Scope: c.LaunchScope,
			LaunchStartURL: launchStartURL(baseURL), PublicClientID: c.PublicID,
			User:  LaunchUser{Username: c.UserName, Password: SecretRef{File: un}},
			Login: login,
		}
	}
	out, err := yaml.Dump(f)
	if err != nil {
		return err
	}
	header := "# smartconform target configuration, written by `smartconform serve --write-config`.\n"
	return os.WriteFile(path, append([]byte(header), out...), 0o600)
}

// ForServer builds a Target for an in-process reference server, without files.
func ForServer(name, baseURL string, c refserver.Credentials, caPEM []byte) *Target {
	t := &Target{
		Name: name, BaseURL: baseURL, CACertPEM: caPEM, RequestTimeout: DefaultRequestTimeout, Scope: c.Scope,
		Asym:   &AsymClient{ClientID: c.AsymClientID, Keys: c.AsymKeys},
		Basic:  &SecretClient{ClientID: c.BasicID, Secret: c.BasicSecret},
		Post:   &SecretClient{ClientID: c.PostID, Secret: c.PostSecret},
		Public: &PublicClient{ClientID: c.PublicID},
	}
	t.AsymClients = []*AsymClient{t.Asym}
	for _, a := range c.AsymMore {
		t.AsymClients = append(t.AsymClients, &AsymClient{ClientID: a.ID, Keys: a.Keys})
	}
	t.BasicClients, t.PostClients = []*SecretClient{t.Basic}, []*SecretClient{t.Post}
	if c.BasicEncID != "" {
		t.BasicEncoded = &SecretClient{ClientID: c.BasicEncID, Secret: c.BasicEncSecret}
	}
	if c.RedirectURI != "" {
		t.Launch = &Launch{
			RedirectURI: c.RedirectURI, RedirectURI2: c.RedirectURI2, LaunchURL: c.LaunchURL, Scope: c.LaunchScope,
			LaunchStartURL: launchStartURL(baseURL), PublicClientID: c.PublicID, Username: c.UserName, Password: c.UserPassword,
		}
		// The reference server's pages, driven by the headless browser.
		if err := ResolveLogin(t.Launch, ReferenceLogin(false)); err != nil {
			panic("the reference login script does not resolve: " + err.Error())
		}
	}
	return t
}

// LoginFor sets the login of t (a target of the reference server srv, with
// a launch section) to how srv's authorization step is driven:
// ReferenceLogin(srv.AutoApproves()).
func LoginFor(t *Target, srv *refserver.Server) error {
	if t.Launch == nil {
		return nil
	}
	return ResolveLogin(t.Launch, ReferenceLogin(srv.AutoApproves()))
}

// launchStartURL is the reference server's EHR launch starter, beside its
// FHIR base.
func launchStartURL(baseURL string) string {
	return strings.TrimSuffix(strings.TrimRight(baseURL, "/"), refserver.FHIRPath) + refserver.LaunchStartPath
}
