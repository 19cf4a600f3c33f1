// Command sender runs the minipush sender service.
//
//	sender -config minipush.yaml
//
// Every setting may also come from MINIPUSH_* environment variables (see
// the README); the configuration is validated at start and logged redacted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	// Mozilla's root certificates, used only where the system has none: the
	// FROM scratch image (make images) has no /etc/ssl, and the platforms'
	// hosts are HTTPS.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/minipush/minipush/sender"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sender:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sender", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", getenv("MINIPUSH_CONFIG"), "YAML configuration file (env MINIPUSH_CONFIG)")
	check := fs.Bool("check", false, "validate the configuration, print it redacted and exit")
	initStorage := fs.Bool("init-storage", false, "start with an empty database even where one existed (storage.initialize; docs/operations.md)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (make profile-sender; docs/performance.md)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := sender.LoadConfig(*path, getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if *initStorage {
		cfg.Storage.Initialize = true
	}
	if *check {
		fmt.Fprint(stderr, cfg.String())
		return nil
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if cfg.Log.Format == "json" {
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	}
	if pct, ok := gcPercent(getenv); ok {
		debug.SetGCPercent(pct)
	}
	log.Info("starting sender", "version", version)
	log.Debug("configuration (redacted)", "config", cfg.String())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	svc, err := sender.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	scheme := "http://"
	if cfg.TLS.Enabled() {
		scheme = "https://"
	}
	log.Info("sender listening", "url", scheme+ln.Addr().String(), "apps", len(cfg.Apps), "storage", cfg.Storage.Where())
	err = svc.Run(ctx, ln)
	log.Info("sender stopped")
	return err
}

// defaultGCPercent is the collector's pace unless GOGC says otherwise: the
// heap may grow to 5× what is live before a collection, not 2×. The
// sender's live heap is small (tens of MiB); at Go's default the collector
// (marking, assists, sweeping) was ~9 % of the sender's CPU in a profile
// of make profile-sender. Measured in five alternating pairs
// (docs/performance.md): 6-18 % less CPU per delivered message in every
// pair, a better accept ratio in every pair; peak RSS of a
// 100,000-message burst 57.9 MiB against 56.8 (the target is 150).
const defaultGCPercent = 400

// gcPercent is the pace to set, and whether to set one: never when the
// environment names GOGC (the runtime has read it already).
func gcPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return defaultGCPercent, true
}
