package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	sqlInsertMessage = `INSERT INTO messages (` + insertCols + `)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	sqlMessageStatus = `SELECT status FROM messages WHERE id = ?`
	sqlMessageLease  = `SELECT status, claims FROM messages WHERE id = ?`
	sqlRedrive       = `UPDATE messages
	SET status = 'queued', retries = 0, next_attempt_at = ?1, lease_until = 0, updated_at = ?2, reason = '', held = 0
	WHERE id = ?3 AND status IN ('failed', 'rejected', 'cancelled')
	RETURNING ` + msgCols
	sqlCancel = `UPDATE messages
	SET status = 'cancelled', lease_until = 0, updated_at = ?1, reason = 'cancelled', held = 0
	WHERE id = ?2 AND status IN ('queued', 'retrying')
	RETURNING ` + msgCols

	sqlGetMessage = `SELECT ` + msgCols + ` FROM messages WHERE id = ?`
	// sqlGetMessageReceipt is what Get reads: the message and its receipt.
	sqlGetMessageReceipt = `SELECT ` + msgCols + `, ` + receiptCol + ` FROM messages WHERE id = ?`
	sqlAttempts          = `SELECT at, kind, outcome, code, message, reason, latency_ms FROM attempts
	WHERE message_id = ? ORDER BY n`
	sqlGetBroadcast = `SELECT id, app, group_name, template_id, data, page, recipients, created_at,
		platform, due, fanned_out, idempotency_key, api_key
	FROM broadcasts WHERE id = ?`
	sqlBroadcastCounts = `SELECT status, COUNT(*) FROM messages
	WHERE broadcast_id = ? GROUP BY status`
	// sqlCounts reads the counts kept in status_counts (schema versions 7
	// and 13).
	sqlCounts = `SELECT status, n FROM status_counts`
	// sqlCountInserted adds ?1 (negative: removes) to the count of status
	// ?2: once per status and batch (writer.flushCounts).
	sqlCountInserted = `UPDATE status_counts SET n = n + ?1 WHERE status = ?2`
	// sqlAppCounts counts one app's messages: GET /v1/apps, an operator's
	// read, not a probe's.
	sqlAppCounts = `SELECT status, COUNT(*) FROM messages WHERE app = ? GROUP BY status`
)

// Enqueue implements storage.Store. A message without an ID gets one
// ("msg_…"); Status defaults to queued, CreatedAt to now and NextAttemptAt
// to CreatedAt. The returned messages carry those values.
func (s *Store) Enqueue(ctx context.Context, msgs []message.Message) ([]message.Message, []bool, error) {
	if len(msgs) == 0 {
		return nil, nil, nil
	}
	now := s.now()
	out := make([]message.Message, len(msgs))
	args := make([][]any, len(msgs))
	for i := range msgs {
		m, err := normalize(msgs[i], now)
		if err != nil {
			return nil, nil, fmt.Errorf("enqueue: %w", err)
		}
		out[i] = m
		if args[i], err = appendMsgArgs(make([]any, 0, insertColCount), &out[i]); err != nil {
			return nil, nil, fmt.Errorf("enqueue: %w", err)
		}
	}
	dup := make([]bool, len(msgs))
	var existing []msgRow // the first message of each duplicate key
	nowMS := toMS(now)
	// One message without a key is one INSERT: no savepoint needed (its
	// count is written once per batch by the writer).
	oneWrite := len(msgs) == 1 && msgs[0].IdempotencyKey == "" && msgs[0].Admission == nil
	// A message's admission (campaign rules) may change it: each run of
	// the transaction starts from the message as given.
	var given []message.Message
	for i := range out {
		if out[i].Admission != nil {
			given = append(given, out[i])
		}
	}
	err := s.submit(ctx, oneWrite, func(w *writer) error {
		existing = existing[:0]
		g := 0
		for i := range args {
			m := &out[i]
			if m.Admission != nil {
				*m = given[g]
				g++
			}
			dup[i] = false
			if m.IdempotencyKey != "" {
				// The key may be taken by a committed message, an earlier
				// request in this batch or an earlier message of this
				// call: the transaction sees all three.
				scope := messageScope(m.App)
				first, taken, err := claimKey(w, scope, m.IdempotencyKey, m.Fingerprint, m.ID, nowMS)
				if err != nil {
					return fmt.Errorf("enqueue message %s: %w", m.ID, err)
				}
				if taken {
					var r msgRow
					err := w.st.msgByID.QueryRow(first).Scan(r.dest()...)
					if err == nil {
						dup[i] = true
						existing = append(existing, r)
						continue
					}
					if !errors.Is(err, sql.ErrNoRows) {
						return fmt.Errorf("enqueue message %s: read duplicate: %w", m.ID, err)
					}
					// The first message is gone: the key is this one's now.
					if err := repointKey(w, scope, m.IdempotencyKey, m.Fingerprint, m.ID, nowMS); err != nil {
						return fmt.Errorf("enqueue message %s: %w", m.ID, err)
					}
				}
			}
			if m.Admission != nil {
				if err := admit(w, m); err != nil {
					return fmt.Errorf("enqueue message %s: %w", m.ID, err)
				}
				var err error
				if args[i], err = appendMsgArgs(args[i][:0], m); err != nil {
					return fmt.Errorf("enqueue message %s: %w", m.ID, err)
				}
			}
			if _, err := w.st.insertMsg.Exec(args[i]...); err != nil {
				return writeErr("enqueue message "+m.ID, err)
			}
			// Counted here, not by a trigger (schema version 7).
			w.countInsert(m.Status, 1)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	k := 0
	for i := range out {
		if !dup[i] {
			continue
		}
		if out[i], err = existing[k].message(); err != nil {
			return nil, nil, fmt.Errorf("enqueue: %w", err)
		}
		k++
	}
	return out, dup, nil
}

// Get implements storage.Store: the message with its attempts, oldest
// first.
func (s *Store) Get(ctx context.Context, id string) (_ message.Message, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return message.Message{}, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	defer tx.Rollback()
	var r receiptRow
	if err := tx.QueryRowContext(ctx, sqlGetMessageReceipt, id).Scan(r.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return message.Message{}, fmt.Errorf("get message %s: %w", id, storage.ErrNotFound)
		}
		return message.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	m, err := r.message()
	if err != nil {
		return message.Message{}, fmt.Errorf("get: %w", err)
	}
	rows, err := tx.QueryContext(ctx, sqlAttempts, id)
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: attempts: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a             message.Attempt
			at            int64
			kind, outcome string
		)
		if err := rows.Scan(&at, &kind, &outcome, &a.Code, &a.Message, &a.Reason, &a.LatencyMS); err != nil {
			return message.Message{}, fmt.Errorf("get message %s: attempts: %w", id, err)
		}
		a.At, a.Kind, a.Outcome = fromMS(at), message.AttemptKind(kind), message.Outcome(outcome)
		m.Attempts = append(m.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return message.Message{}, fmt.Errorf("get message %s: attempts: %w", id, err)
	}
	return m, nil
}

// List implements storage.Store. Pages are in insertion order, newest
// first; next is "" on the last page. A cursor this store did not issue is
// reported as storage.ErrNotFound (the interface has no "invalid input"
// error; UNCONFIRMED that the API maps it as intended).
func (s *Store) List(ctx context.Context, f storage.Filter) (_ []message.Message, _ string, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return nil, "", err
	}
	q, args, limit, walk, err := listQuery(f)
	if err != nil {
		return nil, "", err
	}
	var db interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	} = s.rdb
	if walk.query != "" {
		// The page and the walk's bound are read from one snapshot, so
		// the cursor continues exactly where the page's walk stopped.
		tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		defer tx.Rollback()
		db = tx
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var (
		out  = make([]message.Message, 0, min(limit, 128))
		seqs []int64
	)
	for rows.Next() {
		var (
			seq int64
			r   receiptRow
		)
		if err := rows.Scan(append([]any{&seq}, r.dest()...)...); err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		m, err := r.message()
		if err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		out, seqs = append(out, m), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	rows.Close()
	if len(out) > limit {
		return out[:limit], encodeCursor(seqs[limit-1]), nil
	}
	if walk.query != "" {
		// A short page: did the walk stop at its bound with rows left?
		var (
			n    int
			last sql.NullInt64
		)
		if err := db.QueryRowContext(ctx, walk.query, walk.args...).Scan(&n, &last); err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		if n >= storage.ListExamined && last.Valid {
			return out, encodeCursor(last.Int64), nil
		}
	}
	return out, "", nil
}

// walkQuery counts the rows a filtered list examined and names the oldest
// (count, min seq), to continue below it when the bound was reached.
type walkQuery struct {
	query string
	args  []any
}

// listQuery is List's query for f, its arguments and the page size.
// TestNoQueryScansMessages checks its plan for every combination of filters.
// The conditions on the message's own columns (reason, recipient, created)
// are checked on at most storage.ListExamined rows of the index walk; walk
// is then the query that tells whether the walk reached that bound.
func listQuery(f storage.Filter) (string, []any, int, walkQuery, error) {
	limit := storage.PageSize(f.Limit)
	var (
		where []string
		args  []any
	)
	if f.App != "" {
		where, args = append(where, "app = ?"), append(args, f.App)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.BroadcastID != "" {
		where, args = append(where, "broadcast_id = ?"), append(args, f.BroadcastID)
	}
	switch {
	case f.Receipt != "" && f.App == "" && f.Status == "" && f.BroadcastID == "":
		// Receipts alone: read from the receipts of that status, each
		// message found by its msgid, not by walking every message for
		// the few with a receipt.
		where = append(where, `platform_msgid <> '' AND (app, platform_msgid) IN (SELECT app, platform_msgid
			FROM receipts WHERE status = ?)`)
		args = append(args, string(f.Receipt))
	case f.Receipt != "":
		where = append(where, `platform_msgid <> '' AND EXISTS (SELECT 1 FROM receipts r
			WHERE r.app = messages.app AND r.platform_msgid = messages.platform_msgid AND r.status = ?)`)
		args = append(args, string(f.Receipt))
	}
	if f.Cursor != "" {
		seq, ok := decodeCursor(f.Cursor)
		if !ok {
			return "", nil, 0, walkQuery{}, fmt.Errorf("list messages: cursor %q: %w", f.Cursor, storage.ErrNotFound)
		}
		where, args = append(where, "seq < ?"), append(args, seq)
	}
	from := " FROM messages"
	if f.Status != "" && f.BroadcastID == "" {
		// A status is the narrower filter where it matters (failed among
		// millions delivered): the planner, without statistics, would
		// rather walk every message of the app.
		from += " INDEXED BY messages_status"
	}
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	extra, extraArgs := matchWhere(f.Reason, "", f.To, f.CreatedFrom, f.CreatedTo)
	if len(extra) == 0 {
		q := "SELECT seq, " + msgCols + ", " + receiptCol + from + " ORDER BY seq DESC LIMIT ?"
		args = append(args, limit+1) // one more tells whether a next page exists
		return q, args, limit, walkQuery{}, nil
	}
	// The index walk, bounded, and the extra conditions on its rows.
	inner := "SELECT seq" + from + " ORDER BY seq DESC LIMIT " + strconv.Itoa(storage.ListExamined)
	walk := walkQuery{query: "SELECT count(*), min(seq) FROM (" + inner + ")", args: slices.Clone(args)}
	q := "SELECT seq, " + msgCols + ", " + receiptCol + " FROM messages WHERE seq IN (" + inner + ") AND " +
		strings.Join(extra, " AND ") + " ORDER BY seq DESC LIMIT ?"
	args = append(append(args, extraArgs...), limit+1)
	return q, args, limit, walk, nil
}

// A cursor is the last returned row's seq, base64url of 8 bytes. Opaque to
// callers so the encoding can change.
func encodeCursor(seq int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 8 {
		return 0, false
	}
	seq := int64(binary.BigEndian.Uint64(b))
	return seq, seq > 0
}

// Broadcast implements storage.Store. The counts map has every status,
// zero included.
func (s *Store) Broadcast(ctx context.Context, id string) (_ message.Broadcast, _ map[message.Status]int, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return message.Broadcast{}, nil, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, err)
	}
	defer tx.Rollback()
	b, err := scanBroadcast(tx.QueryRowContext(ctx, sqlGetBroadcast, id))
	if errors.Is(err, sql.ErrNoRows) {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, err)
	}
	counts, err := countStatuses(ctx, tx, sqlBroadcastCounts, id)
	if err != nil {
		return message.Broadcast{}, nil, fmt.Errorf("get broadcast %s: %w", id, err)
	}
	return b, counts, nil
}

// Counts implements storage.Store. The map has every status, zero
// included.
func (s *Store) Counts(ctx context.Context) (_ map[message.Status]int, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return nil, err
	}
	counts, err := countStatuses(ctx, s.rdb, sqlCounts)
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	return counts, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func countStatuses(ctx context.Context, q querier, query string, args ...any) (map[message.Status]int, error) {
	counts := make(map[message.Status]int, len(message.Statuses))
	for _, st := range message.Statuses {
		counts[st] = 0
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			st string
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[message.Status(st)] = n
	}
	return counts, rows.Err()
}

// AppCounts implements storage.Store. The map has every status, zero
// included.
func (s *Store) AppCounts(ctx context.Context, app string) (_ map[message.Status]int, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, err
	}
	counts, err := countStatuses(ctx, s.rdb, sqlAppCounts, app)
	if err != nil {
		return nil, fmt.Errorf("count messages of %s: %w", app, err)
	}
	return counts, nil
}

// Cancel implements storage.Store.
func (s *Store) Cancel(ctx context.Context, id string, now time.Time) (message.Message, error) {
	var r msgRow
	err := s.submit(ctx, false, func(w *writer) error {
		from, err := w.statusOf(id)
		if err != nil {
			return fmt.Errorf("cancel message %s: %w", id, err)
		}
		err = w.st.cancel.QueryRow(toMS(now), id).Scan(r.dest()...)
		if err == nil {
			w.countMove(from, message.StatusCancelled, 1)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cancel message %s: %w", id, err)
		}
		return stateErr(w, "cancel message", id)
	})
	if err != nil {
		return message.Message{}, err
	}
	m, err := r.message()
	if err != nil {
		return message.Message{}, fmt.Errorf("cancel: %w", err)
	}
	return m, nil
}

// Redrive implements storage.Store. It also clears a lease; retries start
// from zero.
func (s *Store) Redrive(ctx context.Context, id string, now time.Time) (message.Message, error) {
	var r msgRow
	err := s.submit(ctx, false, func(w *writer) error {
		from, err := w.statusOf(id)
		if err != nil {
			return fmt.Errorf("redrive message %s: %w", id, err)
		}
		err = w.st.redrive.QueryRow(toMS(now), toMS(now), id).Scan(r.dest()...)
		if err == nil {
			w.countMove(from, message.StatusQueued, 1)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("redrive message %s: %w", id, err)
		}
		return stateErr(w, "redrive message", id)
	})
	if err != nil {
		return message.Message{}, err
	}
	m, err := r.message()
	if err != nil {
		return message.Message{}, fmt.Errorf("redrive: %w", err)
	}
	return m, nil
}

// statusOf reads a message's status in the writer's transaction, before
// a change whose move it counts; "" for no such message.
func (w *writer) statusOf(id string) (message.Status, error) {
	var status string
	err := w.st.msgStatus.QueryRow(id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return message.Status(status), err
}

// stateErr explains why a state-guarded UPDATE matched nothing: the message
// does not exist (ErrNotFound) or is in another status (ErrConflict).
func stateErr(w *writer, op, id string) error {
	var status string
	err := w.st.msgStatus.QueryRow(id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %s: %w", op, id, storage.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	return fmt.Errorf("%s %s: status %s: %w", op, id, status, storage.ErrConflict)
}

// writeErr wraps a failed write; a duplicate id or idempotency key is
// storage.ErrConflict.
func writeErr(op string, err error) error {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w: %w", op, storage.ErrConflict, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
