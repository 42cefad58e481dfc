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

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
)

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (HOST:PORT; port 0 picks a free one)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a generated self-signed certificate (its CA file is written with --write-config)")
	writeCfg := fs.String("write-config", "", "write a ready-to-use target configuration (and key, secret and CA files beside it) for 'smartconform run --config'")
	latency := fs.Duration("latency", 0, "delay each answer by this long (e.g. 100ms), to measure remote conditions on one machine")
	var faults listFlag
	fs.Var(&faults, "fault", "switch on a fault (repeatable): "+strings.Join(refserver.FaultNames(), ", "))
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: smartconform serve [flags]\n\nRuns the reference SMART Backend Services authorization server.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nFaults:\n")
		names := refserver.FaultNames()
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-34s %s\n", n, refserver.Faults[n].Description)
		}
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fset, err := refserver.ParseFaults(faults)
	if err != nil {
		fmt.Fprintf(stderr, "smartconform serve: --fault: %v\n", err)
		return exitUsage
	}
	creds, err := refserver.NewCredentials()
	if err != nil {
		fmt.Fprintf(stderr, "smartconform serve: %v\n", err)
		return exitIncomplete
	}
	srv, err := refserver.Start(refserver.Options{Addr: *addr, TLS: *useTLS, Faults: fset, Credentials: &creds, Latency: *latency})
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
		if err := config.WriteForServer(*writeCfg, "smartconform reference server", srv.BaseURL, creds, srv.CACertPEM); err != nil {
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
