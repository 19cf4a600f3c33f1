package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/writehealth"
)

// request is one mutating call waiting for the writer.
type request struct {
	ctx context.Context
	// run does the call's work inside the batch transaction and stores its
	// results in variables the caller reads after done delivers nil.
	run func(w *writer) error
	// oneWrite: run needs no SAVEPOINT of its own — it makes at most one
	// write statement (SQLite undoes a failed statement by itself), or any
	// error after its first write is wrapped by abandon, which gives up
	// the whole batch. Savepoints cost two statements per request.
	oneWrite bool
	// state settles the race between the caller giving up (context done)
	// and the writer starting the request: whoever moves it off pending
	// first decides, so an error always means "not committed".
	state atomic.Int32
	done  chan error // buffered: the writer never blocks answering
}

const (
	reqPending int32 = iota
	reqTaken
	reqCanceled
)

// writer owns the write connection and runs requests in batches.
//
// Two lanes feed it. reqs carries the short writes everything waits on
// (accepted messages, claims, outcomes, tokens): they share transactions.
// bulk carries the steps of large work (a list broadcast's rows, a chunk
// of group members, a fan-out or sweep step), each alone in its own
// transaction, and only when no short write is waiting: a short write
// then waits at most one bulk step, never the whole of a large job
// (docs/delivery.md).
type writer struct {
	conn    *sql.Conn
	reqs    chan *request
	bulk    chan *request
	stopped chan struct{}
	max     int
	// delay is how long a batch waits for more short writes (linger);
	// timer is reused for it, not made per batch.
	delay time.Duration
	timer *time.Timer
	errs  []error // per-request results of the current batch
	st    stmts
	// claimDueBy holds the claim query per power-of-two limit, prepared
	// on first use (queue.go: claimDueStmt).
	claimDueBy map[int]*sql.Stmt
	// finishCheckpoint is set by the checkpointer when the WAL should be
	// restarted; the writer checkpoints between batches (checkpoint.go).
	finishCheckpoint atomic.Bool
	// health is what the writer's transactions came to.
	health writehealth.Tracker
	// counted is the change in the number of messages of each status the
	// current request made (countInsert, countMove); batchCounted adds up
	// those of the batch's requests that succeeded, written to
	// status_counts once before the COMMIT (flushCounts): one statement
	// per status and batch, not one or two per message. Both are indexed
	// like message.Statuses.
	counted, batchCounted []int
}

// statusIndex is st's position in message.Statuses, -1 if none.
func statusIndex(st message.Status) int {
	for i, x := range message.Statuses {
		if x == st {
			return i
		}
	}
	return -1
}

// statusIndexBytes is statusIndex for a status read as bytes, without
// making a string of it.
func statusIndexBytes(b []byte) int {
	for i, x := range message.Statuses {
		if string(b) == string(x) {
			return i
		}
	}
	return -1
}

// countInsert records that the current request inserted n rows of status
// st (status_counts: schema version 7).
func (w *writer) countInsert(st message.Status, n int) {
	if i := statusIndex(st); i >= 0 {
		w.counted[i] += n
	}
}

// countMove records that the current request moved n rows from status
// from to status to. Every statement that changes a message's status
// counts it this way, in the request that runs it (schema version 13
// dropped the trigger that did): claims, outcomes, cancels and redrives.
// Only deletions are still counted by a trigger (retention).
func (w *writer) countMove(from, to message.Status, n int) {
	if from == to || n == 0 {
		return
	}
	if i := statusIndex(from); i >= 0 {
		w.counted[i] -= n
	}
	if i := statusIndex(to); i >= 0 {
		w.counted[i] += n
	}
}

// settle keeps the current request's counts when it succeeded, or drops
// them with its rolled-back writes.
func (w *writer) settle(ok bool) {
	if ok {
		for i, n := range w.counted {
			w.batchCounted[i] += n
		}
	}
	clear(w.counted)
}

// flushCounts writes the batch's counts, in its transaction.
func (w *writer) flushCounts() error {
	defer clear(w.batchCounted)
	for i, n := range w.batchCounted {
		if n == 0 {
			continue
		}
		if _, err := w.st.countInserted.Exec(n, string(message.Statuses[i])); err != nil {
			return fmt.Errorf("count messages: %w", err)
		}
	}
	return nil
}

// abandonError is an error after a oneWrite request's first write: its
// transaction can no longer be trusted to hold none of the request's
// writes, so the whole batch is rolled back (txIntact).
type abandonError struct{ err error }

func (e abandonError) Error() string { return e.err.Error() }
func (e abandonError) Unwrap() error { return e.err }

// abandon wraps err (nil stays nil) as an abandonError.
func abandon(err error) error {
	if err == nil {
		return nil
	}
	return abandonError{err}
}

// stmts are the writer's prepared statements, compiled once.
type stmts struct {
	begin, commit, rollback            *sql.Stmt
	savepoint, release, rollbackToSave *sql.Stmt

	insertMsg, msgByID           *sql.Stmt
	insertBroadcast              *sql.Stmt
	claimDue, claimMark          *sql.Stmt
	recordMsg, insertAttempt     *sql.Stmt
	msgStatus, msgLease, redrive *sql.Stmt
	cancel                       *sql.Stmt
	putToken, deleteToken        *sql.Stmt
	countInserted                *sql.Stmt
	// campaign rules (campaigns.go): read and written per admitted
	// message, a group's fan-out thousands a step
	dedupGet, dedupPut, countGet, countAdd *sql.Stmt
}

func newWriter(ctx context.Context, conn *sql.Conn, maxBatch int, delay time.Duration) (*writer, error) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	w := &writer{
		delay: delay,
		timer: timer,
		conn:  conn,
		// Room for a few batches: callers rarely block on the send.
		reqs:    make(chan *request, 4*maxBatch),
		bulk:    make(chan *request),
		stopped: make(chan struct{}),
		max:     maxBatch,
		errs:    make([]error, maxBatch),

		claimDueBy: map[int]*sql.Stmt{},

		counted:      make([]int, len(message.Statuses)),
		batchCounted: make([]int, len(message.Statuses)),
	}
	for _, p := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&w.st.begin, "BEGIN IMMEDIATE"},
		{&w.st.commit, "COMMIT"},
		{&w.st.rollback, "ROLLBACK"},
		{&w.st.savepoint, "SAVEPOINT req"},
		{&w.st.release, "RELEASE req"},
		{&w.st.rollbackToSave, "ROLLBACK TO req"},
		{&w.st.insertMsg, sqlInsertMessage},
		{&w.st.msgByID, sqlGetMessage},
		{&w.st.insertBroadcast, sqlInsertBroadcast},
		{&w.st.claimDue, sqlClaimDue},
		{&w.st.claimMark, sqlClaimMark},
		{&w.st.recordMsg, sqlRecordMessage},
		{&w.st.insertAttempt, sqlInsertAttempt},
		{&w.st.msgStatus, sqlMessageStatus},
		{&w.st.msgLease, sqlMessageLease},
		{&w.st.redrive, sqlRedrive},
		{&w.st.cancel, sqlCancel},
		{&w.st.putToken, sqlPutToken},
		{&w.st.deleteToken, sqlDeleteToken},
		{&w.st.countInserted, sqlCountInserted},
		{&w.st.dedupGet, sqlDedupGet},
		{&w.st.dedupPut, sqlDedupPut},
		{&w.st.countGet, sqlCountGet},
		{&w.st.countAdd, sqlCountAdd},
	} {
		st, err := conn.PrepareContext(ctx, p.query)
		if err != nil {
			w.closeStmts()
			return nil, fmt.Errorf("prepare %q: %w", firstLine(p.query), err)
		}
		*p.st = st
	}
	return w, nil
}

func (w *writer) closeStmts() error {
	var err error
	for _, st := range w.claimDueBy {
		if e := st.Close(); err == nil {
			err = e
		}
	}
	for _, st := range []*sql.Stmt{
		w.st.begin, w.st.commit, w.st.rollback, w.st.savepoint, w.st.release, w.st.rollbackToSave,
		w.st.insertMsg, w.st.msgByID, w.st.insertBroadcast,
		w.st.claimDue, w.st.claimMark, w.st.recordMsg, w.st.insertAttempt, w.st.msgStatus, w.st.msgLease,
		w.st.redrive, w.st.cancel, w.st.putToken, w.st.deleteToken, w.st.countInserted,
		w.st.dedupGet, w.st.dedupPut, w.st.countGet, w.st.countAdd,
	} {
		if st != nil {
			if e := st.Close(); err == nil {
				err = e
			}
		}
	}
	return err
}

// submit hands run to the writer and waits for its transaction to commit.
func (s *Store) submit(ctx context.Context, oneWrite bool, run func(w *writer) error) error {
	return s.send(ctx, s.w.reqs, oneWrite, run)
}

// submitBulk hands one step of large work to the writer's bulk lane: it
// runs alone in a transaction when no short write is waiting.
func (s *Store) submitBulk(ctx context.Context, run func(w *writer) error) error {
	return s.send(ctx, s.w.bulk, false, run)
}

func (s *Store) send(ctx context.Context, lane chan<- *request, oneWrite bool, run func(w *writer) error) error {
	// Checked first: a select with both cases ready picks at random.
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, run: run, oneWrite: oneWrite, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case lane <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()

	select {
	case err := <-r.done:
		return unavailable(err)
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqCanceled) {
			return ctx.Err()
		}
		// The writer has started it: its outcome is the truth.
		return unavailable(<-r.done)
	}
}

// loop runs batches until Close closes both lanes, then finishes what was
// queued.
func (w *writer) loop() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.max)
	reqs, bulk := w.reqs, w.bulk
	for reqs != nil || bulk != nil {
		// Short writes first: the bulk lane is only read when none waits.
		var r *request
		select {
		case x, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			r = x
		default:
			select {
			case x, ok := <-reqs:
				if !ok {
					reqs = nil
					continue
				}
				r = x
			case x, ok := <-bulk:
				if !ok {
					bulk = nil
					continue
				}
				// Alone: a failing step fails nothing else, and the short
				// writes behind it wait for this one step only.
				w.runBatch(append(batch[:0], x))
				clear(batch)
				w.afterBatch()
				continue
			}
		}
		batch = append(batch[:0], r)
		// Yield once before draining: under load the goroutines about to
		// submit (HTTP handlers, dispatch workers) then get to, and the
		// commit — whose WAL writes cost the same for 1 request as for 20
		// — is shared by more of them. Measured on the full service
		// (docs/performance.md): batches of ~3.6 requests became ~16 and
		// CPU per delivered message fell about 10%. With nothing else
		// runnable, Gosched returns at once: no latency when idle.
		runtime.Gosched()
	drain:
		for len(batch) < w.max {
			select {
			case r, ok := <-reqs:
				if !ok {
					reqs = nil
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		batch, reqs = w.linger(batch, reqs)
		w.runBatch(batch)
		clear(batch)
		w.afterBatch()
	}
}

// linger waits up to w.delay from now for more short writes to share the
// batch's commit, while it has room. A commit's WAL writes cost about the
// same for one request as for ten — the same hot pages of the same indexes
// — so at a moderate, steady rate (1,000 accepts a second: one request per
// millisecond) committing each request alone cost most of the sender's CPU
// per message (docs/performance.md). The wait is bounded, and a caller
// still hears only after the commit. It returns the batch and the lane
// (nil once closed).
func (w *writer) linger(batch []*request, reqs chan *request) ([]*request, chan *request) {
	if w.delay <= 0 || len(batch) >= w.max || reqs == nil {
		return batch, reqs
	}
	w.timer.Reset(w.delay)
	defer w.timer.Stop()
	for len(batch) < w.max {
		select {
		case r, ok := <-reqs:
			if !ok {
				return batch, nil
			}
			batch = append(batch, r)
		case <-w.timer.C:
			return batch, reqs
		}
	}
	return batch, reqs
}

// afterBatch finishes a checkpoint the checkpointer asked for, after the
// batch's callers have their answers: they do not wait for it.
func (w *writer) afterBatch() {
	if w.finishCheckpoint.Swap(false) {
		_, _ = checkpoint(context.Background(), w.conn)
	}
}

// runBatch runs the live requests of batch in one transaction and answers
// every caller once the outcome is known.
func (w *writer) runBatch(batch []*request) {
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() != nil && r.state.CompareAndSwap(reqPending, reqCanceled) {
			r.done <- r.ctx.Err()
			continue
		}
		if !r.state.CompareAndSwap(reqPending, reqTaken) {
			continue // the caller gave up and already returned
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	errs := w.errs[:len(live)]
	committed := false
	answer := func() {
		// Health first: a caller told its write failed must find the
		// store unwritable when it asks.
		now := time.Now()
		if committed {
			w.health.OK(now)
		}
		for _, err := range errs {
			if u := unavailable(err); errors.Is(u, storage.ErrUnavailable) {
				w.health.Failed(now, u)
				break
			}
		}
		for i, r := range live {
			r.done <- errs[i]
		}
		clear(errs)
	}
	failAll := func(err error) {
		for i := range errs {
			errs[i] = err
		}
		answer()
	}

	bg := context.Background() // a caller's cancellation must not break the batch
	if _, err := w.st.begin.ExecContext(bg); err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return
	}

	clear(w.batchCounted)
	if len(live) == 1 {
		// Alone in the batch: the transaction is the savepoint.
		errs[0] = live[0].run(w)
		w.settle(errs[0] == nil)
		if errs[0] != nil {
			w.rollback()
			answer()
			return
		}
	} else {
		for i, r := range live {
			if r.oneWrite {
				errs[i] = r.run(w)
				w.settle(errs[i] == nil)
				if errs[i] != nil && !txIntact(errs[i]) {
					w.rollback()
					failAll(errs[i])
					return
				}
				continue
			}
			if _, err := w.st.savepoint.ExecContext(bg); err != nil {
				w.rollback()
				failAll(fmt.Errorf("savepoint: %w", err))
				return
			}
			errs[i] = r.run(w)
			w.settle(errs[i] == nil)
			if errs[i] != nil {
				if _, err := w.st.rollbackToSave.ExecContext(bg); err != nil {
					w.rollback()
					failAll(fmt.Errorf("rollback to savepoint: %w", err))
					return
				}
			}
			if _, err := w.st.release.ExecContext(bg); err != nil {
				w.rollback()
				failAll(fmt.Errorf("release savepoint: %w", err))
				return
			}
		}
	}

	if err := w.flushCounts(); err != nil {
		w.rollback()
		failAll(err)
		return
	}
	if _, err := w.st.commit.ExecContext(bg); err != nil {
		w.rollback()
		failAll(fmt.Errorf("commit: %w", err))
		return
	}
	committed = true
	answer()
}

// rollback abandons the transaction. Its error is not reported: the
// callers already get the error that caused it, and SQLite rolls back by
// itself after some failures (then ROLLBACK says "no transaction").
func (w *writer) rollback() {
	_, _ = w.st.rollback.ExecContext(context.Background())
}

// txIntact reports whether the transaction surely survived a request's
// error: the request's own verdict (not found, conflict, invalid input) or
// a constraint violation, which SQLite undoes statement by statement.
// Other SQLite errors (disk full, I/O) may roll back the whole transaction
// behind our back, so the batch is abandoned rather than guessed at.
func txIntact(err error) bool {
	var ab abandonError
	if errors.As(err, &ab) {
		return false
	}
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return true
	}
	return se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
