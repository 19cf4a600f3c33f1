// Package redis is the sender's shared storage backend: storage.Store on
// Redis (≥ 7) through github.com/redis/go-redis/v9, so that several sender
// instances serve one queue. Its design — keys, Lua scripts, which
// operations are per app and which global — is docs/redis.md; in short:
//
//   - Every app's keys share one hash slot ("<prefix>:{<app>}:…"), and every
//     state change of a message is one Lua script on that slot: atomic, and
//     runnable on Redis Cluster. The due queue and the leases are sorted sets
//     scored by time (the due time, the lease's end), claimed oldest first
//     with ZRANGE BYSCORE, in the manner of hibiken/asynq's lease sets; a
//     message's fence is its claim count, checked by Record.
//   - A few global keys, each touched by single-key commands only: the
//     message order (<prefix>:seq), the id → app index (<prefix>:mid:<id>),
//     the set of apps, tokens and their fetch locks.
//   - Scripts check everything before they write anything, because Redis
//     does not roll a script back; a write script is refused whole while
//     Redis is out of memory (its "#!lua" shebang), which is how a full
//     Redis answers: storage.ErrUnavailable, nothing half-written.
//
// The same package shares what must be one per deployment: the token
// fetch lock and fetch window (tokens.Coordinator), and the per-app rate
// limit, per-user interval and throttle pause (Limiter).
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/writehealth"
)

// Defaults.
const (
	DefaultPrefix = "minipush"
	// appsRefresh is how often the list of apps with data is reread for
	// the operations that span apps (claims, listings, counts): another
	// instance's first message of an app is found within it.
	appsRefresh = time.Second
)

// ErrClosed is returned by every method called after Close. It is a
// storage.ErrUnavailable: a caller racing shutdown may try elsewhere.
var ErrClosed = fmt.Errorf("redis store: closed: %w", storage.ErrUnavailable)

var _ storage.Store = (*Store)(nil)

// Config opens a store.
type Config struct {
	// URL is redis://[:password@]host:port[/db] or rediss:// (TLS). With
	// Cluster, further nodes may follow as ?addr=host:port&addr=….
	URL string
	// Password replaces the URL's password (so the URL need not be
	// secret).
	Password string
	// Prefix starts every key: one per deployment sharing a Redis.
	Prefix string
	// Cluster connects to a Redis Cluster.
	Cluster bool
	// RequireAOFAlways refuses to open unless Redis runs with
	// appendonly yes and appendfsync always: every acknowledged write is
	// then on disk before Redis answers (docs/redis.md#durability).
	RequireAOFAlways bool
	// WaitReplicas, when above zero, makes every write the API
	// acknowledges wait until that many replicas have it (WAIT), at most
	// WaitTimeout; fewer is reported as storage.ErrUnavailable.
	WaitReplicas int
	WaitTimeout  time.Duration
	// Log receives warnings (a Redis configured to lose writes).
	Log *slog.Logger
	// Now is the clock for defaults (CreatedAt, key ages); Claim, Record
	// and Redrive take their time from the caller.
	Now func() time.Time
	// ResumeGap and ResumeGrace hold back the claims of expired leases
	// after an interruption: when no instance has claimed for longer than
	// ResumeGap on Redis's clock (Redis restarted, or every instance was
	// cut off from it), leases are not taken from their owners for
	// ResumeGrace, so that instances holding outcomes they could not write
	// meanwhile write them first (docs/redis.md#leases-across-instances).
	// Zero: DefaultResumeGap, DefaultResumeGrace; a negative grace turns
	// it off. ResumeGap must exceed the instances' poll interval.
	ResumeGap, ResumeGrace time.Duration
}

// The defaults of Config.ResumeGap and ResumeGrace. The grace covers an
// owner's outcome retry (at most 2 s apart) and its reconnect.
const (
	DefaultResumeGap   = time.Second
	DefaultResumeGrace = 5 * time.Second
)

// Store is a storage.Store on Redis. Create it with Open.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	sc     *scripts

	closed atomic.Bool
	// holding: the last claim found expired leases held back (logged once).
	holding atomic.Bool
	health  writehealth.Tracker

	appsMu    sync.Mutex
	apps      map[string]bool // apps with data, as last read (and written by this process)
	appsAt    time.Time
	announced sync.Map // app → true: SADD done by this process

	idApp appCache // message id → app, for Record and Get

	whScope atomic.Pointer[whScope] // which messages have a result webhook (webhooks.go)

	storage.FanOutHooks // campaign rules at a group's fan-out (broadcast.go)

	trips atomic.Uint64 // round trips to Redis (RoundTrips)

	enq *committers[*enqueueJob] // group commit of Enqueue (batch.go)
	rec *committers[*recordJob]  // and of Record

	stopBeat, beatDone chan struct{}
}

// Open connects, checks the server (version, persistence, eviction
// policy) and loads the scripts.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("redis store: prefix %q: must not contain { or } (they delimit hash tags)", cfg.Prefix)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.WaitReplicas > 0 && cfg.Cluster {
		return nil, errors.New("redis store: wait_replicas is not supported with a cluster (WAIT must follow the write on its node's connection)")
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = time.Second
	}
	if cfg.ResumeGap <= 0 {
		cfg.ResumeGap = DefaultResumeGap
	}
	if cfg.ResumeGrace == 0 {
		cfg.ResumeGrace = DefaultResumeGrace
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{c: c, prefix: cfg.Prefix, cfg: cfg, now: cfg.Now, log: cfg.Log, sc: newScripts(), health: writehealth.Tracker{What: "write to Redis"},
		apps: map[string]bool{}, stopBeat: make(chan struct{}), beatDone: make(chan struct{})}
	c.AddHook(tripCounter{&s.trips})
	if err := s.check(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := s.fillBroadcastList(ctx); err != nil {
		// Not fatal: broadcasts made before blist stay unlisted until a
		// start fills it.
		s.log.Warn("redis: broadcasts stored before the broadcast list existed are not listed yet", "err", err)
	}
	s.enq = newCommitters(s.enqueueBatch, func(j *enqueueJob) int { return len(j.out) })
	s.rec = newCommitters(s.recordBatch, func(*recordJob) int { return 1 })
	go s.heartbeat()
	return s, nil
}

// newClient builds the client without ever putting the URL (it may hold
// the password) into an error.
func newClient(cfg Config) (goredis.UniversalClient, error) {
	// MaxRetries -1: a script whose answer was lost may have run; running
	// it again would answer "conflict" for a message that was stored. The
	// callers retry (the API client after a 503, the dispatcher's outcome
	// loop) with what they know.
	if cfg.Cluster {
		o, err := goredis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, errors.New("redis store: storage.url: not a valid redis:// cluster URL")
		}
		if cfg.Password != "" {
			o.Password = cfg.Password
		}
		o.MaxRetries, o.DisableIdentity, o.DialerRetries = -1, true, 1
		o.MaxRedirects = 8
		return goredis.NewClusterClient(o), nil
	}
	o, err := goredis.ParseURL(cfg.URL)
	if err != nil {
		return nil, errors.New("redis store: storage.url: not a valid redis:// or rediss:// URL")
	}
	if cfg.Password != "" {
		o.Password = cfg.Password
	}
	// DialerRetries 1: a Redis that refuses connections is answered 503
	// at once, not after five dial attempts.
	o.MaxRetries, o.DisableIdentity, o.DialerRetries = -1, true, 1
	o.DialTimeout = 2 * time.Second
	return goredis.NewClient(o), nil
}

// check refuses a server the sender cannot trust with its queue.
func (s *Store) check(ctx context.Context) error {
	info, err := s.c.Info(ctx, "server", "persistence").Result()
	if err != nil {
		return fmt.Errorf("redis store: connect: %w", classify(err))
	}
	fields := parseInfo(info)
	if v := fields["redis_version"]; v != "" && versionLess(v, 7) {
		return fmt.Errorf("redis store: Redis %s: the sender needs Redis 7 or later (ZRANGE BYSCORE, script flags)", v)
	}
	conf := map[string]string{}
	for _, name := range []string{"appendonly", "appendfsync", "maxmemory-policy"} {
		kv, err := s.c.ConfigGet(ctx, name).Result()
		if err != nil {
			// Managed Redis may forbid CONFIG: say what could not be checked.
			if s.cfg.RequireAOFAlways {
				return fmt.Errorf("redis store: require_aof_always: cannot read the server's %s (CONFIG GET refused: %v)", name, err)
			}
			s.log.Warn("redis: cannot check the server's configuration (CONFIG GET refused)", "setting", name, "err", err)
			continue
		}
		conf[name] = kv[name]
	}
	if p := conf["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		return fmt.Errorf("redis store: the server's maxmemory-policy is %s: it would evict queued messages; set noeviction (a full Redis then refuses writes, and the sender answers 503)", p)
	}
	aof, fsync := conf["appendonly"], conf["appendfsync"]
	if s.cfg.RequireAOFAlways && (aof != "yes" || fsync != "always") {
		return fmt.Errorf("redis store: require_aof_always: the server runs appendonly %s, appendfsync %s; want appendonly yes and appendfsync always", orUnknown(aof), orUnknown(fsync))
	}
	switch {
	case aof == "no":
		s.log.Warn("redis: the server runs without the append-only file: a Redis restart loses every message accepted since its last snapshot (docs/redis.md#durability)")
	case fsync == "no" || fsync == "everysec":
		s.log.Info("redis: appendfsync " + fsync + ": a crash of Redis or of its machine may lose the last seconds of accepted messages; appendfsync always loses none (docs/redis.md#durability)")
	}
	if s.cfg.WaitReplicas > 0 {
		n, err := s.c.Do(ctx, "WAIT", 0, 0).Int()
		if err != nil {
			return fmt.Errorf("redis store: wait_replicas: %w", classify(err))
		}
		if n < s.cfg.WaitReplicas {
			s.log.Warn("redis: fewer replicas connected than wait_replicas: writes answer 503 until they are", "replicas", n, "wait_replicas", s.cfg.WaitReplicas)
		}
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func parseInfo(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

func versionLess(v string, major int) bool {
	var m int
	if _, err := fmt.Sscanf(v, "%d.", &m); err != nil {
		return false
	}
	return m < major
}

// Close closes the connections. Every call after it fails with ErrClosed;
// closing twice is a no-op.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stopBeat)
	<-s.beatDone
	s.enq.close()
	s.rec.close()
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("redis store: close: %w", err)
	}
	return nil
}

// RoundTrips counts the store's round trips to Redis so far: a command,
// or a pipeline (one per node it reaches). Benchmarks divide it by the
// messages delivered (docs/redis.md#performance).
func (s *Store) RoundTrips() uint64 { return s.trips.Load() }

// tripCounter is the go-redis hook behind RoundTrips.
type tripCounter struct{ n *atomic.Uint64 }

func (h tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// Client is the store's connection, for what shares it (the Limiter).
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Prefix is the deployment's key prefix.
func (s *Store) Prefix() string { return s.prefix }

// begin is every method's first step: ErrClosed after Close, the
// caller's context error if it ended.
func (s *Store) begin(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// Keys. Every app's keys carry the app as their hash tag; the global
// ones carry none and are touched by single-key commands only.

// appBase is the start of every key of app: "<prefix>:{<app>}:".
func (s *Store) appBase(app string) string { return s.prefix + ":{" + app + "}:" }

func (s *Store) midKey(id string) string { return s.prefix + ":mid:" + id }
func (s *Store) bidKey(id string) string { return s.prefix + ":bid:" + id }
func (s *Store) eidKey(id string) string { return s.prefix + ":eid:" + id }
func (s *Store) seqKey() string          { return s.prefix + ":seq" }
func (s *Store) eseqKey() string         { return s.prefix + ":eseq" }
func (s *Store) appsKey() string         { return s.prefix + ":apps" }
func (s *Store) claimsKey() string       { return s.prefix + ":claims" }

// checkApp refuses app names that would break the hash tag.
func checkApp(app string) error {
	switch {
	case app == "":
		return errors.New("empty app")
	case strings.ContainsAny(app, "{}"):
		return fmt.Errorf("app %q: must not contain { or }", app)
	}
	return nil
}

// announce records app in the set of apps (once per process) inside pipe.
func (s *Store) announce(pipe goredis.Pipeliner, ctx context.Context, app string) {
	if _, done := s.announced.Load(app); done {
		return
	}
	pipe.SAdd(ctx, s.appsKey(), app)
}

// announced marks app as recorded once the pipeline carrying its SADD
// succeeded.
func (s *Store) markAnnounced(app string) {
	s.announced.Store(app, true)
	s.appsMu.Lock()
	s.apps[app] = true
	s.appsMu.Unlock()
}

// appList returns the apps with data: the set as read at most appsRefresh
// ago, with the apps this process wrote since.
func (s *Store) appList(ctx context.Context) ([]string, error) {
	s.appsMu.Lock()
	fresh := time.Since(s.appsAt) < appsRefresh
	s.appsMu.Unlock()
	if !fresh {
		all, err := s.c.SMembers(ctx, s.appsKey()).Result()
		if err != nil {
			return nil, classify(err)
		}
		s.appsMu.Lock()
		for _, a := range all {
			s.apps[a] = true
		}
		s.appsAt = time.Now()
		s.appsMu.Unlock()
	}
	s.appsMu.Lock()
	defer s.appsMu.Unlock()
	out := make([]string, 0, len(s.apps))
	for a := range s.apps {
		out = append(out, a)
	}
	return out, nil
}

// appOf finds the app of message id (ErrNotFound when none).
func (s *Store) appOf(ctx context.Context, id string) (string, error) {
	if app, ok := s.idApp.get(id); ok {
		return app, nil
	}
	app, err := s.c.Get(ctx, s.midKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", storage.ErrNotFound
	}
	if err != nil {
		return "", classify(err)
	}
	s.idApp.put(id, app)
	return app, nil
}

// appCache remembers message id → app (it never changes), bounded: when
// full it starts over.
type appCache struct {
	mu sync.Mutex
	m  map[string]string
}

const appCacheSize = 1 << 16

func (c *appCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	app, ok := c.m[id]
	return app, ok
}

func (c *appCache) put(id, app string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= appCacheSize {
		c.m = make(map[string]string, 1024)
	}
	c.m[id] = app
}

// token returns a random value identifying one holder of a lock.
func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// classify marks the errors that mean "Redis cannot do it now" — the
// connection failing, a timeout, a server that is loading, read-only, out
// of memory or without its replicas — as storage.ErrUnavailable. Other
// errors (a bug, a script error) pass as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, storage.ErrUnavailable) || errors.Is(err, goredis.Nil) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, goredis.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"OOM ", "LOADING", "READONLY", "MASTERDOWN", "NOREPLICAS", "CLUSTERDOWN", "TRYAGAIN",
		"BUSY", "MISCONF", "connection pool timeout", "redis: client is closed", "i/o timeout", "connection refused"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// done records a write's outcome for Writable and classifies its error.
func (s *Store) done(err error) error {
	if err == nil {
		s.health.OK(time.Now())
		return nil
	}
	err = classify(err)
	if errors.Is(err, storage.ErrUnavailable) {
		s.health.Failed(time.Now(), err)
	}
	return err
}

// acked waits, when configured, for the replicas to have the writes made
// on this connection: see Config.WaitReplicas. The WAIT is queued in the
// same pipeline as the write (one connection), so it covers it.
func (s *Store) acked(ctx context.Context, pipe goredis.Pipeliner) *goredis.Cmd {
	if s.cfg.WaitReplicas <= 0 {
		return nil
	}
	return pipe.Do(ctx, "WAIT", s.cfg.WaitReplicas, s.cfg.WaitTimeout.Milliseconds())
}

// ackErr reports a WAIT that fewer replicas answered than required.
func (s *Store) ackErr(cmd *goredis.Cmd) error {
	if cmd == nil {
		return nil
	}
	n, err := cmd.Int()
	if err != nil {
		return err
	}
	if n < s.cfg.WaitReplicas {
		return fmt.Errorf("%w: written, but only %d of the %d replicas required (wait_replicas) acknowledged it within %s",
			storage.ErrUnavailable, n, s.cfg.WaitReplicas, s.cfg.WaitTimeout)
	}
	return nil
}
