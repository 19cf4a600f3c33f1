// Command benchcompare measures the mock's send paths and the sender next to
// plain net/http handlers of the same requests, each server in its own
// process, and prints ratios and CPU per request (docs/performance.md).
//
//	benchcompare -sender bin/sender [-n 5000] [-baseline benchcompare/baseline.json -check]
//
// With -check it exits 1 when a CPU ratio fell more than the baseline's
// tolerance below it (the CI check: ratios, never absolute times).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/minipush/minipush/benchcompare"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serve := fs.String("serve", "", "run as a child: plain, mock or hog (used by benchcompare itself)")
	sender := fs.String("sender", "", "the sender binary (make build: bin/sender); empty: no sender rows")
	n := fs.Int("n", 5000, "requests each server of a pair answers (and messages delivered)")
	turn := fs.Int("turn", 1000, "requests per turn before the other server's turn")
	workers := fs.Int("workers", 32, "concurrent keep-alive clients")
	cases := fs.String("cases", "", "comma-separated mock cases (default: all; none: only the sender)")
	profile := fs.String("sender-cpuprofile", "", "have the sender write a CPU profile of its run to this file")
	mockProfile := fs.String("mock-cpuprofile", "", "have the mock write a CPU profile of its run to this file")
	childProfile := fs.String("cpuprofile", "", "with -serve: write a CPU profile of this child's run to this file")
	rate := fs.Int("rate", 1000, "headroom phase: accepts per second")
	pace := fs.Duration("pace", 10*time.Second, "headroom phase: duration (0 skips it)")
	baseline := fs.String("baseline", "", "baseline file of CPU ratios")
	check := fs.Bool("check", false, "exit 1 when a ratio fell below the baseline's tolerance")
	retries := fs.Int("retries", 2, "with -check: measure a figure below the baseline up to this many more times and judge the median")
	write := fs.Bool("write-baseline", false, "write this run's ratios to -baseline")
	tolerance := fs.Float64("tolerance", 0.3, "with -write-baseline: the fall of a ratio the check allows")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *serve != "" {
		if *childProfile != "" {
			f, err := os.Create(*childProfile)
			if err != nil {
				fmt.Fprintln(stderr, "benchcompare:", err)
				return 1
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintln(stderr, "benchcompare:", err)
				return 1
			}
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
		if err := benchcompare.Serve(ctx, *serve, stdout); err != nil {
			fmt.Fprintln(stderr, "benchcompare:", err)
			return 1
		}
		return 0
	}
	if (*check || *write) && *baseline == "" {
		fmt.Fprintln(stderr, "benchcompare: -check and -write-baseline need -baseline")
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "benchcompare:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "benchcompare-")
	if err != nil {
		fmt.Fprintln(stderr, "benchcompare:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg := benchcompare.Config{Self: self, Sender: *sender, Requests: *n, Turn: *turn, Workers: *workers,
		Rate: *rate, Pace: *pace, Dir: dir, Log: stderr, SenderProfile: *profile, MockProfile: *mockProfile}
	if *cases != "" {
		cfg.Cases = strings.Split(*cases, ",")
	}
	rep, err := benchcompare.Run(ctx, cfg)
	benchcompare.Print(stdout, rep)
	if err != nil {
		fmt.Fprintln(stderr, "benchcompare:", err)
		return 1
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "benchcompare:", err)
			return 1
		}
	}
	if *write {
		note := fmt.Sprintf("written %s by benchcompare -n %d on %d CPUs", rep.When.Format("2006-01-02"), *n, rep.CPUs)
		b, _ := json.MarshalIndent(benchcompare.BaselineOf(rep, *tolerance, note), "", "  ")
		if err := os.WriteFile(*baseline, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "benchcompare:", err)
			return 1
		}
		fmt.Fprintln(stdout, "baseline written to", *baseline)
	}
	if *check {
		bl, err := benchcompare.LoadBaseline(*baseline)
		if err != nil {
			fmt.Fprintln(stderr, "benchcompare:", err)
			return 1
		}
		bad := benchcompare.Check(rep, bl)
		if len(bad) > 0 && *retries > 0 {
			fmt.Fprintln(stdout, "below the baseline, measuring again:")
			for _, l := range bad {
				fmt.Fprintln(stdout, "  "+l)
			}
			rep, bad, err = benchcompare.Recheck(rep, bl, cfg, *retries, func(c benchcompare.Config) (benchcompare.Report, error) {
				return benchcompare.Run(ctx, c)
			})
			if err != nil {
				fmt.Fprintln(stderr, "benchcompare:", err)
				return 1
			}
			benchcompare.Print(stdout, rep)
			if *jsonOut != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				_ = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
			}
		}
		if len(bad) > 0 {
			fmt.Fprintln(stdout, "REGRESSION against", *baseline+":")
			for _, l := range bad {
				fmt.Fprintln(stdout, "  "+l)
			}
			return 1
		}
		fmt.Fprintf(stdout, "every CPU ratio within %.0f%% of %s\n", 100*bl.Tolerance, *baseline)
	}
	return 0
}
