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
