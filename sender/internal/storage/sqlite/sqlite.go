// Package sqlite is the sender's embedded storage backend: one SQLite file
// (modernc.org/sqlite, pure Go) implementing storage.Store.
//
// # Write path: group commit
//
// A transaction per call cannot reach thousands of accepted messages a
// second: every COMMIT writes WAL frames (and with synchronous=FULL fsyncs).
// So a single writer goroutine owns the one write connection. Every
// mutating call (Enqueue, CreateBroadcast, Claim, Record, Redrive, groups,
// tokens) becomes a request on a channel; the writer drains up to
// WithMaxBatch requests, runs them in ONE transaction — each inside its own
// SAVEPOINT unless it is a single write statement, so one failing request
// does not fail the others — commits, and only then answers each caller.
// A caller therefore gets nil only after its change is committed.
//
// Serialising every write through one goroutine is also what makes Claim
// safe with several claimers and idempotency keys race-free: there is no
// interleaving to reason about.
//
// Reads (Get, List, Counts, Broadcast, Group, Token) use a separate pool of
// read-only connections; WAL lets them run while the writer commits.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL by default. A
// commit is then written to the WAL (the OS page cache) but not fsynced:
// it survives the process dying at any point (panic, OOM kill, SIGKILL —
// see TestCrashKeepsAcknowledged), but a power loss or kernel crash may
// lose the last transactions before the next checkpoint (the database file
// itself stays consistent). WithSynchronousFull fsyncs the WAL on every
// commit; group commit amortises that fsync over the whole batch, so it
// costs latency more than throughput.
//
// Times are stored as Unix milliseconds: values come back truncated to the
// millisecond, in UTC.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/minipush/minipush/sender/internal/storage"
)

// Defaults for the options.
const (
	DefaultMaxBatch    = 256
	DefaultBusyTimeout = 5 * time.Second
	DefaultReadConns   = 4
	// DefaultCommitDelay is how long a batch waits for more short writes
	// before it commits (writer.linger).
	DefaultCommitDelay = time.Millisecond
	// writerCacheKiB is the write connection's page cache: the hot index
	// pages of a large queue. Readers keep SQLite's default (2 MiB each);
	// the OS page cache backs both. Not larger: SQLite frees cache pages
	// one by one on close (about a second for 32 MiB on a 2-core VM), and
	// a big transaction fills the whole cache with dirty pages, which cost
	// about twice their size in memory. 16 MiB made a 100k broadcast add
	// ~24 MiB more to the process's RSS than 4 MiB does, for no measurable
	// gain in the storage benchmarks (docs/performance.md).
	writerCacheKiB = 4 << 10
	// checkpointCacheKiB: the checkpointer copies WAL frames to the
	// database without its page cache.
	checkpointCacheKiB = 256
	// walLimit truncates the WAL after a checkpoint, so one big broadcast
	// does not leave a WAL file of its size behind forever.
	walLimit = 64 << 20
)

// ErrClosed is returned by every method called after Close. It is a
// storage.ErrUnavailable: a caller racing shutdown may try elsewhere.
var ErrClosed = fmt.Errorf("sqlite store: closed: %w", storage.ErrUnavailable)

var _ storage.Store = (*Store)(nil)

// Option configures Open.
type Option func(*config)

type config struct {
	maxBatch    int
	busyTimeout time.Duration
	readConns   int
	commitDelay time.Duration
	syncFull    bool
	now         func() time.Time
	initialize  bool
}

// WithSynchronousFull fsyncs the WAL on every commit (PRAGMA
// synchronous=FULL): committed writes then survive power loss too.
func WithSynchronousFull() Option { return func(c *config) { c.syncFull = true } }

// WithMaxBatch caps how many write requests share one transaction.
func WithMaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing with SQLITE_BUSY.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithCommitDelay sets how long a batch of short writes waits for more to
// share its commit (0: none, commit as soon as the writer is free). Every
// write answers that much later at most; a moderate rate of writes costs
// far less CPU.
func WithCommitDelay(d time.Duration) Option { return func(c *config) { c.commitDelay = d } }

// WithReadConns sets the size of the read-only connection pool.
func WithReadConns(n int) Option { return func(c *config) { c.readConns = n } }

// WithClock sets the clock used for defaults (CreatedAt, UpdatedAt, a
// missing NextAttemptAt). Claim, Record and Redrive take their time from
// the caller.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Store is a storage.Store in one SQLite file. Create it with Open.
type Store struct {
	cfg    config
	wdb    *sql.DB // exactly one connection: the writer's
	rdb    *sql.DB // read-only pool
	w      *writer
	ckpt   *checkpointer
	mu     sync.RWMutex // guards closed against submissions racing Close
	closed bool
	// The heartbeat's lifetime (health.go).
	stopBeat, beatDone chan struct{}
	// campaign rules at a group's fan-out (broadcast.go)
	storage.FanOutHooks
}

// Open opens (creating if needed) the database at path, migrates its
// schema and starts the writer. Close it when done.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{
		maxBatch:    DefaultMaxBatch,
		busyTimeout: DefaultBusyTimeout,
		readConns:   DefaultReadConns,
		commitDelay: DefaultCommitDelay,
		now:         time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case path == "":
		return nil, errors.New("sqlite store: empty path")
	case strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:"):
		// The driver splits the DSN at '?'; a plain file path keeps the
		// parameters below ours.
		return nil, fmt.Errorf("sqlite store: path %q: must be a plain file path", path)
	case cfg.maxBatch < 1:
		return nil, fmt.Errorf("sqlite store: max batch %d: must be at least 1", cfg.maxBatch)
	case cfg.readConns < 1:
		return nil, fmt.Errorf("sqlite store: read conns %d: must be at least 1", cfg.readConns)
	case cfg.busyTimeout < 0:
		return nil, fmt.Errorf("sqlite store: busy timeout %v: must not be negative", cfg.busyTimeout)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: create directory: %w", err)
	}

	syncMode := "NORMAL"
	if cfg.syncFull {
		syncMode = "FULL"
	}
	common := "_pragma=busy_timeout(" + strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=temp_store(MEMORY)" // savepoint sub-journals stay in memory
	// journal_mode=WAL is persistent in the file; synchronous is per
	// connection and only matters on the ones that write (the writer and
	// the checkpointer: see checkpoint.go for why checkpoints are not the
	// writer's).
	// _txlock=immediate: BEGIN takes the write lock up front, so a second
	// process on the same file waits (busy_timeout) instead of failing
	// mid-transaction with SQLITE_BUSY.
	// Refuse to start empty where a database existed (integrity.go).
	if err := checkMissing(path, cfg.initialize); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	// The database holds platform access tokens in clear: a new one is
	// created 0600, and SQLite gives its -wal and -shm the database
	// file's mode (an existing file keeps its own; the sender warns at
	// start when group or others can read it).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite store: create %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)&_pragma=synchronous("+syncMode+")"+
		"&_pragma=cache_size(-"+strconv.Itoa(writerCacheKiB)+")"+
		"&_pragma=journal_size_limit("+strconv.Itoa(walLimit)+")&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, damagedIf(path, err))
	}
	fail := func(err error) (*Store, error) {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(damagedIf(path, err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("journal mode is %q, want wal", mode))
	}
	// A damaged file is refused, not served (integrity.go): 0.35 s for a
	// million messages (docs/operations.md).
	if err := quickCheck(ctx, conn, path); err != nil {
		return fail(err)
	}
	if err := migrate(ctx, conn); err != nil {
		return fail(damagedIf(path, err))
	}
	if err := writeMarker(ctx, conn, path, cfg.now()); err != nil {
		return fail(err)
	}
	// No PUT of this process is under way yet: versions still staging
	// belong to one that died, and can be swept.
	if _, err := conn.ExecContext(ctx, sqlRetireStaging); err != nil {
		return fail(err)
	}
	w, err := newWriter(ctx, conn, cfg.maxBatch, cfg.commitDelay)
	if err != nil {
		return fail(err)
	}

	rdb, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.closeStmts()
		return fail(err)
	}
	rdb.SetMaxOpenConns(cfg.readConns)
	rdb.SetMaxIdleConns(cfg.readConns)
	if err := rdb.PingContext(ctx); err != nil {
		rdb.Close()
		w.closeStmts()
		return fail(err)
	}

	cdb, err := sql.Open("sqlite", path+"?"+common+"&_pragma=synchronous("+syncMode+")"+
		"&_pragma=cache_size(-"+strconv.Itoa(checkpointCacheKiB)+")")
	if err != nil {
		rdb.Close()
		w.closeStmts()
		return fail(err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	if err := cdb.PingContext(ctx); err != nil {
		cdb.Close()
		rdb.Close()
		w.closeStmts()
		return fail(err)
	}

	s := &Store{cfg: cfg, wdb: wdb, rdb: rdb, w: w, ckpt: newCheckpointer(cdb, &w.finishCheckpoint),
		stopBeat: make(chan struct{}), beatDone: make(chan struct{})}
	go w.loop()
	go s.ckpt.loop()
	go s.heartbeat(s.stopBeat, s.beatDone)
	return s, nil
}

// Close finishes the writes already submitted, stops the writer and closes
// the database. Every call after Close fails with ErrClosed; closing twice
// is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stopBeat)
	// No submitter holds the read lock now, so nobody sends on a lane
	// again.
	close(s.w.reqs)
	close(s.w.bulk)
	s.mu.Unlock()
	<-s.w.stopped
	<-s.beatDone // its last probe, if any, was answered ErrClosed

	err := s.ckpt.close()
	if e := s.w.closeStmts(); err == nil {
		err = e
	}
	if e := s.w.conn.Close(); err == nil {
		err = e
	}
	if e := s.rdb.Close(); err == nil {
		err = e
	}
	// Closing the last connection checkpoints the WAL into the database.
	if e := s.wdb.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("sqlite store: close: %w", err)
	}
	return nil
}

// readable reports ErrClosed once Close has begun. A read racing Close may
// still fail with database/sql's own "database is closed".
func (s *Store) readable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) now() time.Time { return s.cfg.now() }
