package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Checkpoints run beside the writer, not inside its commits.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
// past 1,000 pages: it copies every frame into the database file and
// fsyncs, tens of milliseconds on a busy machine, while every caller of
// that batch and every request queued behind it waits. That was the whole
// tail of the accept latency: at 1,000 rps, p99 11–72 ms with it and 3–4 ms
// without (docs/performance.md). So the write connection runs with
// wal_autocheckpoint=0, and:
//
//   - a checkpointer goroutine on a connection of its own runs a PASSIVE
//     checkpoint every checkpointEvery. PASSIVE neither blocks the writer
//     nor waits for readers: the copying and the fsyncs happen while
//     commits go on.
//   - A WAL is only reused from its start (which keeps it bounded, and
//     journal_size_limit truncates it) when every frame has been
//     checkpointed at the moment a write transaction begins; a checkpoint
//     running beside a busy writer never gets there, since the writer
//     appends while it copies. So once the WAL holds walRestartFrames, the
//     checkpointer runs a second, short pass and asks the writer to finish
//     the job: after answering a batch, the writer checkpoints the few
//     frames committed since (2–4 ms, mostly the two fsyncs, against 10–30
//     ms for a whole checkpoint), and its next transaction restarts the
//     WAL.
//
// Durability is unchanged: a commit is in the WAL before its caller hears
// of it, however late the checkpoint.
const (
	checkpointEvery = 200 * time.Millisecond
	// walRestartFrames is SQLite's own auto-checkpoint threshold (pages).
	walRestartFrames = 1000
)

const sqlCheckpoint = "PRAGMA wal_checkpoint(PASSIVE)"

type checkpointer struct {
	db     *sql.DB
	finish *atomic.Bool // shared with the writer
	stop   chan struct{}
	done   chan struct{}
}

func newCheckpointer(db *sql.DB, finish *atomic.Bool) *checkpointer {
	return &checkpointer{db: db, finish: finish, stop: make(chan struct{}), done: make(chan struct{})}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// Errors are not fatal: the next tick tries again, and Close
		// checkpoints whatever is left.
		if frames, err := checkpoint(context.Background(), c.db); err == nil && frames >= walRestartFrames {
			// A second pass copies what was committed during the first:
			// the gap left to the writer shrinks from hundreds of frames
			// to tens, and its stall to the two fsyncs (~2 ms).
			_, _ = checkpoint(context.Background(), c.db)
			c.finish.Store(true)
		}
	}
}

// close stops the loop and closes the connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkpoint runs a PASSIVE checkpoint and returns the WAL's size in
// frames before it.
func checkpoint(ctx context.Context, q rowQuerier) (int, error) {
	var busy, frames, copied int
	err := q.QueryRowContext(ctx, sqlCheckpoint).Scan(&busy, &frames, &copied)
	return frames, err
}
