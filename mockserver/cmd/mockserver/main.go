// Command mockserver runs the mini-program platform mock.
//
//	mockserver [-addr 127.0.0.1:9100] [-seed FILE] [-demo] [-ui=false] [-inbox-limit N] [-log-format text|json]
//
// It is a development and test tool: its control API (/_mock/…) can
// rewrite every app, grant and fault and is unauthenticated unless
// -control-token is set. Keep it on loopback or a private network.
//
// Every flag can also be set by a MINIPUSH_MOCK_* environment variable
// (MINIPUSH_MOCK_ADDR, MINIPUSH_MOCK_SEED, …); a flag given on the command
// line wins.
package main

import (
	"bufio"
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

	"github.com/minipush/minipush/internal/httpserver"
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
	bodyLimit    int
	ui           bool
	pushQueue    int
	pushConc     int
	pushJournal  int
	logFormat    string
	logLevel     string
	controlToken string
	limits       httpserver.Limits
}

func main() {
	// SIGINT/SIGTERM end the server gracefully; run itself takes a context
	// so tests can stop it without signals.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	if err != nil {
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
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9100", "listen address (use 0.0.0.0:9100 inside a container). A development tool: "+
		"the control API /_mock/… is unauthenticated unless -control-token is set, so keep it off shared networks")
	fs.StringVar(&c.seedFile, "seed", "", "seed file (YAML, or JSON when it ends in .json)")
	fs.BoolVar(&c.demo, "demo", false, "load the built-in demo seed (see README)")
	fs.IntVar(&c.inboxLimit, "inbox-limit", mockserver.DefaultInboxLimit, "messages kept in the inbox; the oldest are dropped first")
	fs.IntVar(&c.journalLimit, "journal-limit", mockserver.DefaultJournalLimit, "platform calls kept in the request journal")
	fs.IntVar(&c.bodyLimit, "journal-body-limit", mockserver.DefaultJournalBodyLimit, "bytes of each call's request body and answer kept in the journal, secrets masked (0: none)")
	fs.BoolVar(&c.ui, "ui", true, "serve the web UI at /_ui/ (phone view, subscriptions, journal, control panel)")
	fs.IntVar(&c.pushQueue, "push-queue", mockserver.DefaultPushQueue, "pushes to developers' servers waiting per app; the oldest are dropped first")
	fs.IntVar(&c.pushConc, "push-concurrency", mockserver.DefaultPushConcurrency, "pushes in flight per app")
	fs.IntVar(&c.pushJournal, "push-journal-limit", mockserver.DefaultPushJournalLimit, "push attempts kept in the push journal")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.controlToken, "control-token", "", "require Authorization: Bearer <token> on /_mock/… (shared environments; "+
		"platform paths stay open as the platforms answer them). Prefer the environment variable: flags show in ps")
	c.limits = httpserver.Defaults()
	fs.DurationVar(&c.limits.ReadHeaderTimeout, "read-header-timeout", c.limits.ReadHeaderTimeout, "time to read a request's headers")
	fs.DurationVar(&c.limits.ReadTimeout, "read-timeout", c.limits.ReadTimeout, "time to read a whole request, body included")
	fs.DurationVar(&c.limits.WriteTimeout, "write-timeout", c.limits.WriteTimeout,
		"time to answer a request (long polls with ?wait= and latency faults extend it by their own duration)")
	fs.DurationVar(&c.limits.IdleTimeout, "idle-timeout", c.limits.IdleTimeout, "an idle keep-alive connection is closed after this")
	fs.IntVar(&c.limits.MaxHeaderBytes, "max-header-bytes", c.limits.MaxHeaderBytes, "request line and headers; more answers 431")
	fs.IntVar(&c.limits.MaxConns, "max-conns", c.limits.MaxConns,
		"open connections; over it the oldest idle one is closed (0: no cap; lowered to fit the open-file limit)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mockserver [flags]\n\nEvery flag may also be set as %s<FLAG> (upper case, - as _).\n\n", envPrefix)
		fs.PrintDefaults()
	}
	// Environment first, so flags given on the command line override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
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
	if err := c.validate(); err != nil {
		return c, err
	}
	return c, nil
}

// validate checks the settings, naming the flag and its variable.
func (c config) validate() error {
	if _, port, err := net.SplitHostPort(c.addr); err != nil || port == "" {
		return fmt.Errorf("%s must be host:port such as 127.0.0.1:9100, got %q", setting("addr"), c.addr)
	}
	var level slog.Level
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return fmt.Errorf("%s must be text or json, got %q", setting("log-format"), c.logFormat)
	case level.UnmarshalText([]byte(c.logLevel)) != nil:
		return fmt.Errorf("%s must be debug, info, warn or error, got %q", setting("log-level"), c.logLevel)
	case c.inboxLimit < 1:
		return fmt.Errorf("%s must be >= 1, got %d", setting("inbox-limit"), c.inboxLimit)
	case c.journalLimit < 1:
		return fmt.Errorf("%s must be >= 1, got %d", setting("journal-limit"), c.journalLimit)
	case c.bodyLimit < 0:
		return fmt.Errorf("%s must be >= 0, got %d", setting("journal-body-limit"), c.bodyLimit)
	case c.pushQueue < 1:
		return fmt.Errorf("%s must be >= 1, got %d", setting("push-queue"), c.pushQueue)
	case c.pushConc < 1:
		return fmt.Errorf("%s must be >= 1, got %d", setting("push-concurrency"), c.pushConc)
	case c.pushJournal < 1:
		return fmt.Errorf("%s must be >= 1, got %d", setting("push-journal-limit"), c.pushJournal)
	case c.controlToken != "" && len(c.controlToken) < 8:
		// The value is not echoed: it is a secret.
		return fmt.Errorf("%s must be at least 8 characters", setting("control-token"))
	}
	if ps := c.limits.Check(); len(ps) > 0 {
		return fmt.Errorf("%s %s", setting(limitFlags[ps[0].Setting]), ps[0].Message)
	}
	return nil
}

// limitFlags names each httpserver.Limits field as a flag.
var limitFlags = map[string]string{"ReadHeaderTimeout": "read-header-timeout", "ReadTimeout": "read-timeout",
	"WriteTimeout": "write-timeout", "IdleTimeout": "idle-timeout", "MaxHeaderBytes": "max-header-bytes", "MaxConns": "max-conns"}

// envName is the variable that mirrors a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setting names a flag and its variable for error messages.
func setting(flagName string) string { return "-" + flagName + " (" + envName(flagName) + ")" }

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

// shutdownGrace bounds how long a stop waits for calls in flight.
const shutdownGrace = 10 * time.Second

// run serves until ctx ends, then shuts down gracefully. It reports the
// bound address to ready (when not nil) once it accepts connections, so
// callers can listen on port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(net.Addr)) error {
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
		mockserver.WithJournalLimit(c.journalLimit), mockserver.WithJournalBodyLimit(c.bodyLimit), mockserver.WithUI(c.ui),
		mockserver.WithLogger(log), mockserver.WithControlToken(c.controlToken),
		mockserver.WithPushQueue(c.pushQueue), mockserver.WithPushConcurrency(c.pushConc),
		mockserver.WithPushJournalLimit(c.pushJournal))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	// Requests inherit a context that ends with ctx, so a long
	// GET /_mock/messages?wait=… answers at once on shutdown instead of
	// holding it up.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := httpserver.New(accessLog(log, srv.Handler()), c.limits, httpserver.WithLogger(log))
	hs.BaseContext = func(net.Listener) context.Context { return baseCtx }
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("mockserver listening", "url", "http://"+ln.Addr().String(), "version", version,
		"apps", len(s.Apps), "demo", c.demo, "inbox_limit", c.inboxLimit, "max_conns", hs.MaxConns(),
		"control_api", controlAPIState(c.controlToken))
	if c.ui {
		log.Info("web UI", "url", "http://"+ln.Addr().String()+"/_ui/")
	}
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Close()
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = hs.Shutdown(sctx)
	// The API is closed, so no new push can be queued: deliver what is
	// queued within the rest of the grace period, then drop the rest.
	if dropped := srv.Shutdown(sctx); dropped > 0 {
		log.Warn("pushes dropped at shutdown", "dropped", dropped)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// controlAPIState says in the start line whether /_mock/ needs a token
// (never the token itself).
func controlAPIState(token string) string {
	if token == "" {
		return "unauthenticated (development only)"
	}
	return "bearer token required"
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

// Hijack keeps drop faults working when access logging wraps the writer.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
