package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smartconform/smartconform/reporter"
	"github.com/smartconform/smartconform/suites/engine"
)

// console is what a run prints while it runs: with one target, a line per
// case as it finishes (reporter.Progress: skips hidden and counted unless
// --show-skipped, only failures under --quiet); with several, a line per
// target as it is judged, with its failures; and, for both, a heartbeat
// naming the cases still running when none has finished for a while.
type console struct {
	w       io.Writer
	opts    reporter.ConsoleOptions
	many    bool
	targets int
	beat    time.Duration

	mu        sync.Mutex
	progress  *reporter.Progress
	collapsed string // why the target cannot be tested: no line per case
	running   map[runningKey]runningCase
	last      time.Time // when a case last finished (or the run started)
	lastBeat  time.Time
	done      int // targets judged
	quit      chan struct{}
	wg        sync.WaitGroup
	now       func() time.Time
}

type runningKey struct {
	target int
	id     string
}

type runningCase struct {
	target int
	id     string
	since  time.Time
}

// lockedWriter serializes the writes of the pool's goroutines, the
// heartbeat and the main goroutine; each write is whole lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newConsole(w io.Writer, f *runFlags, cases, targets int) *console {
	c := &console{
		w:    &lockedWriter{w: w},
		opts: reporter.ConsoleOptions{Color: useColor(w, f.noColor), ShowSkips: f.showSkipped, Quiet: f.quiet},
		many: targets > 1 || f.shard != "", targets: targets, beat: f.heartbeat,
		running: map[runningKey]runningCase{}, now: time.Now,
	}
	c.progress = reporter.NewProgress(c.w, cases, c.opts)
	return c
}

// collapse: the target cannot be tested (one message said why): no line
// per case, the errors are grouped in the details.
func (c *console) collapse(why string) {
	c.mu.Lock()
	c.collapsed = why
	c.mu.Unlock()
}

func (c *console) started(target int, m engine.Meta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[runningKey{target, m.ID}] = runningCase{target: target, id: m.ID, since: c.now()}
}

func (c *console) finished(target int, cs reporter.Case) {
	c.mu.Lock()
	delete(c.running, runningKey{target, cs.ID})
	c.last = c.now()
	show := !c.many && c.collapsed == ""
	c.mu.Unlock()
	if show {
		c.progress.Case(cs) // reporter.Progress locks for itself
	}
}

// target prints one line for a judged target, and its failures.
func (c *console) target(i int, rep *reporter.Report, html string) {
	c.mu.Lock()
	c.done++
	n := c.done
	c.mu.Unlock()
	s := rep.Summary
	if c.opts.Quiet && s.ExitCode == 0 {
		return
	}
	// One write for the whole block, so that no heartbeat lands inside it.
	var b strings.Builder
	defer func() { io.WriteString(c.w, b.String()) }()
	width := len(fmt.Sprint(c.targets))
	fmt.Fprintf(&b, "[%*d/%d] %-14s %s — %d passed, %d failed, %d skipped (%s)  %s\n", width, n, c.targets, s.Verdict, rep.Target.Name,
		s.Passed+s.Warned, s.Failed+s.Errors, s.Skipped+s.NotRun+s.Waived, (time.Duration(rep.Run.DurationMs) * time.Millisecond).Round(time.Millisecond), html)
	if s.ExitCode != 0 {
		// A tenant whose discovery failed: its errors under one line.
		collapsed := ""
		for _, n := range rep.Notes {
			if strings.HasPrefix(n, "Discovery failed") {
				collapsed = firstLine(n)
			}
		}
		printDetails(newIndent(&b, "    "), rep, reporter.ConsoleOptions{Quiet: true}, collapsed)
	}
}

// startHeartbeat starts the heartbeat (none when --heartbeat is 0).
func (c *console) startHeartbeat() {
	c.mu.Lock()
	c.last = c.now()
	c.mu.Unlock()
	if c.beat <= 0 {
		return
	}
	c.quit = make(chan struct{})
	tick := c.beat / 10
	if tick < 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	if tick > time.Second {
		tick = time.Second
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-c.quit:
				return
			case <-t.C:
				if line := c.heartbeat(); line != "" {
					fmt.Fprintln(c.w, line)
				}
			}
		}
	}()
}

// heartbeat returns the heartbeat line when one is due, else "".
func (c *console) heartbeat() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.running) == 0 || now.Sub(c.last) < c.beat || now.Sub(c.lastBeat) < c.beat {
		return ""
	}
	c.lastBeat = now
	var rs []runningCase
	for _, r := range c.running {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].since.Equal(rs[j].since) {
			return rs[i].since.Before(rs[j].since)
		}
		return rs[i].id < rs[j].id
	})
	var names []string
	for k, r := range rs {
		if k == 8 {
			names = append(names, fmt.Sprintf("and %d more", len(rs)-k))
			break
		}
		name := r.id
		if c.many {
			name = fmt.Sprintf("%s (target %d)", r.id, r.target+1)
		}
		names = append(names, fmt.Sprintf("%s %s", name, now.Sub(r.since).Round(time.Second)))
	}
	return fmt.Sprintf("… no case finished for %s; still running: %s", now.Sub(c.last).Round(time.Second), strings.Join(names, ", "))
}

func (c *console) stop() {
	if c.quit != nil {
		close(c.quit)
		c.wg.Wait()
		c.quit = nil
	}
}

// finish closes the per-case lines (how many were hidden).
func (c *console) finish() {
	c.mu.Lock()
	collapsed := c.collapsed
	c.mu.Unlock()
	if !c.many && collapsed == "" {
		c.progress.Finish()
	}
}

// why the target could not be tested ("" if it could).
func (c *console) collapsedReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.collapsed
}

// printDetails prints the failures of a report as reporter.PrintDetailsWith
// does, except that errors sharing one reason are said once, with the
// cases they hit; and when the pre-flight check found the target cannot be
// tested (collapsed, its reason), every error is put under that reason.
func printDetails(w io.Writer, rep *reporter.Report, o reporter.ConsoleOptions, collapsed ...string) {
	groups := map[string][]string{}
	for _, c := range rep.Cases {
		if c.Status == reporter.Errored && c.Reason != "" {
			reason := c.Reason
			if len(collapsed) > 0 && collapsed[0] != "" {
				reason = collapsed[0]
			}
			groups[reason] = append(groups[reason], c.ID)
		}
	}
	key := func(c reporter.Case) string {
		if len(collapsed) > 0 && collapsed[0] != "" {
			return collapsed[0]
		}
		return c.Reason
	}
	cp := *rep
	cp.Cases = nil
	var shared []string
	for _, c := range rep.Cases {
		if c.Status == reporter.Errored && len(groups[key(c)]) > 2 {
			continue
		}
		cp.Cases = append(cp.Cases, c)
	}
	for reason, ids := range groups {
		if len(ids) > 2 {
			shared = append(shared, reason)
		}
	}
	sort.Strings(shared)
	reporter.PrintDetailsWith(w, &cp, o)
	if len(shared) > 0 {
		fmt.Fprintf(w, "\nErrors (cases the harness could not judge), one line per reason:\n")
		for _, reason := range shared {
			ids := groups[reason]
			list := ids
			if len(list) > 10 {
				list = append(append([]string(nil), ids[:10]...), fmt.Sprintf("… %d more", len(ids)-10))
			}
			fmt.Fprintf(w, "\n  ERROR ×%d: %s\n    cases: %s\n", len(ids), firstLine(reason), strings.Join(list, ", "))
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// indent prefixes every line written through it.
type indent struct {
	w      io.Writer
	prefix string
	mid    *bool // inside a line
}

func newIndent(w io.Writer, prefix string) indent { return indent{w, prefix, new(bool)} }

func (in indent) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		if !*in.mid && l != "\n" {
			b.WriteString(in.prefix)
		}
		b.WriteString(l)
		*in.mid = !strings.HasSuffix(l, "\n")
	}
	if _, err := io.WriteString(in.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
