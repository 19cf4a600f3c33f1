// Command mockserver runs the mini-program platform mock.
//
//	mockserver [-addr 127.0.0.1:9100] [-seed FILE] [-demo] [-inbox-limit N] [-log-format text|json]
//
// Every flag can also be set by a MINIPUSH_MOCK_* environment variable
// (MINIPUSH_MOCK_ADDR, MINIPUSH_MOCK_SEED, …); a flag given on the command
// line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/seed"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

type config struct {
	addr         string
	seedFile     string
	demo         bool
	inboxLimit   int
	journalLimit int
	logFormat    string
	logLevel     string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mockserver:", err)
		os.Exit(2)
	}
}

// envPrefix mirrors each flag: -inbox-limit ↔ MINIPUSH_MOCK_INBOX_LIMIT.
const envPrefix = "MINIPUSH_MOCK_"

func parse(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("mockserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9100", "listen address (use 0.0.0.0:9100 inside a container)")
	fs.StringVar(&c.seedFile, "seed", "", "seed file (YAML, or JSON when it ends in .json)")
	fs.BoolVar(&c.demo, "demo", false, "load the built-in demo seed (see README)")
	fs.IntVar(&c.inboxLimit, "inbox-limit", mockserver.DefaultInboxLimit, "messages kept in the inbox; the oldest are dropped first")
	fs.IntVar(&c.journalLimit, "journal-limit", mockserver.DefaultJournalLimit, "platform calls kept in the request journal")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mockserver [flags]\n\nEvery flag may also be set as %s<FLAG> (upper case, - as _).\n\n", envPrefix)
		fs.PrintDefaults()
	}
	// Environment first, so flags given on the command line override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return c, fmt.Errorf("-log-format must be text or json, got %q", c.logFormat)
	case c.inboxLimit < 1:
		return c, fmt.Errorf("-inbox-limit must be >= 1, got %d", c.inboxLimit)
	case c.journalLimit < 1:
		return c, fmt.Errorf("-journal-limit must be >= 1, got %d", c.journalLimit)
	}
	return c, nil
}

func newLogger(c config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// loadSeed combines the demo seed and a seed file (its apps are added to the
// demo's; its content rules and library replace the demo's).
func loadSeed(c config) (mockapi.Seed, error) {
	var s mockapi.Seed
	if c.demo {
		s = seed.Demo()
	}
	if c.seedFile != "" {
		f, err := seed.Load(c.seedFile)
		if err != nil {
			return s, err
		}
		s.Apps = append(s.Apps, f.Apps...)
		if f.ContentRules != nil {
			s.ContentRules = f.ContentRules
		}
		if f.Library != nil {
			s.Library = f.Library
		}
		if f.Start != nil {
			s.Start = f.Start
		}
	}
	return s, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	c, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	s, err := loadSeed(c)
	if err != nil {
		return err
	}
	srv, err := mockserver.New(mockserver.WithSeed(s), mockserver.WithInboxLimit(c.inboxLimit),
		mockserver.WithJournalLimit(c.journalLimit), mockserver.WithLogger(log))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: accessLog(log, srv.Handler()), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("mockserver listening", "url", "http://"+ln.Addr().String(), "version", version,
		"apps", len(s.Apps), "demo", c.demo, "inbox_limit", c.inboxLimit)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// accessLog logs each call at debug level: method, path (never the query,
// which carries secrets and tokens), status and latency.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", strconv.Itoa(sw.status),
			"latency", time.Since(start).String())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
