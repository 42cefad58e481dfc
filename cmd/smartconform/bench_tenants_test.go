package main

// Benchmarks (f) and (g) of issue 12: runs that outgrow one machine. The
// tenants are reference servers in a child process of their own, so the
// peak RSS measured is smartconform's alone. BENCH_TENANTS overrides the
// number of tenants (default 1000) for a smoke run.

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartconform/smartconform/fixtures/refserver"
	"github.com/smartconform/smartconform/suites/config"
)

// benchParallelTargets is how many tenants (f) tests at once: at 100 ms a
// request, 8 (the default) would need over 5 minutes for 1000 tenants; at
// 64 the run is CPU-bound on 2 cores (the tenants' servers share them).
const benchParallelTargets = 64

func benchTenants() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_TENANTS")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// serveTenantsChild is the child process's side (TestMain calls it when
// SMARTCONFORM_BENCH_TENANTS is set): start that many reference servers
// answering after SMARTCONFORM_BENCH_LATENCY, write a tenant-template
// configuration for them to SMARTCONFORM_BENCH_CONFIG, print "Serving",
// and serve until interrupted.
func serveTenantsChild() {
	defaultGC() // as `smartconform serve` would
	n, _ := strconv.Atoi(os.Getenv("SMARTCONFORM_BENCH_TENANTS"))
	latency, _ := time.ParseDuration(os.Getenv("SMARTCONFORM_BENCH_LATENCY"))
	creds, err := refserver.SharedCredentials()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var ports []string
	for i := 0; i < n; i++ {
		// Tenants approve at once (sandboxes without a login): the flows
		// follow their redirects, no browser per tenant.
		srv, err := refserver.Start(refserver.Options{Latency: latency, Credentials: &creds, AutoApprove: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		defer srv.Close()
		u, _ := url.Parse(srv.URL)
		ports = append(ports, u.Port())
	}
	if err := writeTenantConfig(os.Getenv("SMARTCONFORM_BENCH_CONFIG"), creds, ports); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("Serving")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

// writeTenantConfig writes a configuration whose one targets entry is a
// template over the tenants' ports.
func writeTenantConfig(path string, creds refserver.Credentials, ports []string) error {
	single := path + ".one.yaml"
	if err := config.WriteForServer(single, "x", "http://127.0.0.1:1/fhir", creds, nil, config.ReferenceLogin(true)); err != nil {
		return err
	}
	raw, err := os.ReadFile(single)
	if err != nil {
		return err
	}
	text := string(raw)
	i, j := strings.Index(text, "target:"), strings.Index(text, "clients:")
	if i < 0 || j < 0 {
		return fmt.Errorf("unexpected written config:\n%s", text)
	}
	tmpl := fmt.Sprintf("targets:\n  - name: \"tenant {tenant}\"\n    fhirBaseUrl: \"http://127.0.0.1:{tenant}/fhir\"\n    tenants: [%s]\n", strings.Join(ports, ", "))
	return os.WriteFile(path, []byte(text[:i]+tmpl+text[j:]), 0o600)
}

// tenantsChild starts the tenants' process and returns the configuration.
func tenantsChild(b *testing.B, n int, latency time.Duration) string {
	b.Helper()
	cfg := filepath.Join(b.TempDir(), "tenants.yaml")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SMARTCONFORM_BENCH_TENANTS="+strconv.Itoa(n), "SMARTCONFORM_BENCH_LATENCY="+latency.String(), "SMARTCONFORM_BENCH_CONFIG="+cfg)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "Serving" {
			go func() {
				for sc.Scan() {
				}
			}()
			return cfg
		}
	}
	b.Fatal("the tenants did not start")
	return ""
}

// runChild runs `smartconform ARGS` as a child process and returns its wall
// time, peak RSS (MB) and exit code.
func runChild(b *testing.B, args ...string) (time.Duration, float64, int) {
	b.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SMARTCONFORM_AS_MAIN=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	if err != nil && code != exitFailed {
		b.Fatalf("smartconform %v: %v\n%s", args, err, out)
	}
	return took, float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024, code
}

// (f) 1000 tenants × the catalogue at 100 ms latency, one run on one
// machine: wall time and peak RSS of smartconform (reports streamed to disk
// as each tenant is judged).
func BenchmarkF_ThousandTenants(b *testing.B) {
	n := benchTenants()
	cfg := tenantsChild(b, n, 100*time.Millisecond)
	for i := 0; i < b.N; i++ {
		took, rss, code := runChild(b, "run", "--config", cfg, "--out", b.TempDir(), "--quiet", "--heartbeat", "0", "--parallel-targets", strconv.Itoa(benchParallelTargets))
		if code != exitOK {
			b.Fatalf("exit %d", code)
		}
		b.ReportMetric(took.Seconds(), "s-wall")
		b.ReportMetric(rss, "MB-peak-RSS")
		fmt.Printf("bench (f): %d tenants x full catalogue at 100 ms latency, one run (--parallel-targets %d): %s wall (goal < 120s), peak RSS %.0f MB (goal < 500 MB)\n", n, benchParallelTargets, took.Round(time.Second), rss)
	}
}

// (g) The same tenants split in 4 shards (--shard K/4), one after another
// on this machine, then merged: the slowest shard's wall time is the run's
// wall time on 4 machines.
func BenchmarkG_FourShards(b *testing.B) {
	n := benchTenants()
	cfg := tenantsChild(b, n, 100*time.Millisecond)
	for i := 0; i < b.N; i++ {
		var dirs []string
		var slowest time.Duration
		var peak float64
		for k := 1; k <= 4; k++ {
			dir := filepath.Join(b.TempDir(), fmt.Sprintf("shard-%d", k))
			dirs = append(dirs, dir)
			took, rss, code := runChild(b, "run", "--config", cfg, "--out", dir, "--shard", fmt.Sprintf("%d/4", k), "--quiet", "--heartbeat", "0", "--parallel-targets", strconv.Itoa(benchParallelTargets))
			if code != exitOK {
				b.Fatalf("shard %d/4: exit %d", k, code)
			}
			fmt.Printf("bench (g): shard %d/4: %s wall, peak RSS %.0f MB\n", k, took.Round(time.Second), rss)
			slowest, peak = max(slowest, took), max(peak, rss)
		}
		merge, mrss, code := runChild(b, append([]string{"report", "merge", "--out", b.TempDir()}, dirs...)...)
		if code != exitOK {
			b.Fatalf("merge: exit %d", code)
		}
		b.ReportMetric(slowest.Seconds(), "s-slowest-shard")
		b.ReportMetric(peak, "MB-peak-RSS-shard")
		b.ReportMetric(merge.Seconds(), "s-merge")
		fmt.Printf("bench (g): %d tenants in 4 shards: slowest shard %s wall, peak RSS %.0f MB per shard; merge %s, peak RSS %.0f MB\n", n, slowest.Round(time.Second), peak, merge.Round(100*time.Millisecond), mrss)
	}
}
