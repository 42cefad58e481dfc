package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
)

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	var addr, writeCfg string
	var useTLS, autoApprove bool
	var latency, clockOffset time.Duration
	var faults []string
	var b strings.Builder
	names := refserver.FaultNames()
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-34s %s\n", n, refserver.Faults[n].Description)
	}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the reference authorization server",
		Long:  "Runs the reference SMART Backend Services authorization server, conformant or with faults switched on, until interrupted.\n\nFaults:\n" + b.String(),
		Example: `  smartconform serve --addr 127.0.0.1:8080 --write-config ref.yaml
  smartconform serve --tls --fault accept-expired --write-config faulty.yaml   # then: smartconform run --config faulty.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return code(cmdServe(addr, useTLS, autoApprove, writeCfg, latency, clockOffset, faults, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (HOST:PORT; port 0 picks a free one)")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "serve HTTPS with a generated self-signed certificate (its CA file is written with --write-config)")
	cmd.Flags().StringVar(&writeCfg, "write-config", "", "write a ready-to-use target configuration (and key, secret and CA files beside it) for 'smartconform run --config'")
	cmd.Flags().DurationVar(&latency, "latency", 0, "delay each answer by this long (e.g. 100ms), to measure remote conditions on one machine")
	cmd.Flags().StringArrayVar(&faults, "fault", nil, "switch on a fault (repeatable; listed above)")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "approve every valid authorization request at once for the test user, without the login and consent pages (a sandbox without a login); --write-config then configures the follow login driver, so no browser is needed")
	cmd.Flags().DurationVar(&clockOffset, "clock-offset", 0, "run the server's clock this far ahead (e.g. 3m; negative: behind), in its Date headers and its exp/nbf/iat checks; not a fault: every verdict must stay")
	_ = cmd.RegisterFlagCompletionFunc("fault", completeValues(refserver.FaultNames()...))
	return withEnvHelp(cmd)
}

func cmdServe(addrV string, useTLSV, autoApproveV bool, writeCfgV string, latencyV, clockOffset time.Duration, faults []string, stdout, stderr io.Writer) int {
	addr, useTLS, autoApprove, writeCfg, latency := &addrV, &useTLSV, &autoApproveV, &writeCfgV, &latencyV
	fset, err := refserver.ParseFaults(faults)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform serve: --fault: %v\n", err)
		return exitUsage
	}
	if *writeCfg != "" {
		if err := checkOutDir(filepath.Dir(*writeCfg)); err != nil {
			fmt.Fprintf(stderr, "smartconform serve: --write-config: %v\nsee 'smartconform help serve'\n", err)
			return exitUsage
		}
	}
	creds, err := refserver.NewCredentials()
	if err != nil {
		fmt.Fprintf(stderr, "smartconform serve: %v\n", err)
		return exitIncomplete
	}
	srv, err := refserver.Start(refserver.Options{Addr: *addr, TLS: *useTLS, Faults: fset, Credentials: &creds, Latency: *latency, ClockOffset: clockOffset, AutoApprove: *autoApprove})
	if err != nil {
		fmt.Fprintf(stderr, "smartconform serve: %v\n", err)
		return exitUsage
	}
	defer srv.Close()
	if *writeCfg != "" {
		if err := os.MkdirAll(filepath.Dir(*writeCfg), 0o755); err != nil {
			fmt.Fprintf(stderr, "smartconform serve: --write-config: %v\n", err)
			return exitUsage
		}
		if err := config.WriteForServer(*writeCfg, "smartconform reference server", srv.BaseURL, creds, srv.CACertPEM, config.ReferenceLogin(*autoApprove)); err != nil {
			fmt.Fprintf(stderr, "smartconform serve: --write-config: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(stdout, "smartconform reference authorization server\n  FHIR base: %s\n  discovery: %s%s\n  token:     %s\n", srv.BaseURL, srv.URL, refserver.DiscoveryPath, srv.TokenURL)
	fmt.Fprintf(stdout, "  authorize: %s  (login user %s; --write-config writes its password)\n  EHR launch: %s%s?client_id=%s\n", srv.AuthorizeURL, srv.Creds.UserName, srv.URL, refserver.LaunchStartPath, srv.Creds.PublicID)
	if len(faults) > 0 {
		fmt.Fprintf(stdout, "  faults:    %s\n", strings.Join(faults, ", "))
	}
	if *writeCfg != "" {
		fmt.Fprintf(stdout, "  config:    %s  (smartconform run --config %s)\n", *writeCfg, *writeCfg)
	}
	fmt.Fprintln(stdout, "Serving until interrupted (Ctrl-C).")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return exitOK
}
