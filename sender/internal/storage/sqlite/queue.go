package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	// sqlClaimDue picks the next messages to lease: two ordered range
	// scans on the partial indexes messages_due and messages_lease, each
	// stopping after ?2 rows, merged by due time. Ties go to the older
	// message. INDEXED BY because the planner, seeing "status = …",
	// otherwise prefers messages_status and sorts every due row.
	//
	// Each row's status is returned to count the claim (status_counts):
	// the first scan reads the row for it anyway (its WHERE checks the
	// status), the second is only 'sending'.
	sqlClaimDue = `SELECT seq, due, status FROM (
		SELECT seq, next_attempt_at AS due, status FROM messages INDEXED BY messages_due
		WHERE status IN ('queued', 'retrying') AND next_attempt_at <= ?1
		ORDER BY next_attempt_at, seq LIMIT ?2)
	UNION ALL
	SELECT seq, due, 'sending' FROM (
		SELECT seq, lease_until AS due FROM messages INDEXED BY messages_lease
		WHERE status = 'sending' AND lease_until <= ?1
		ORDER BY lease_until, seq LIMIT ?2)
	ORDER BY due, seq LIMIT ?2`
	// sqlClaimMark leases the picked rows (?3 is a JSON array of seqs) and
	// counts the claim: the new count is the lease's fence.
	sqlClaimMark = `UPDATE messages SET status = 'sending', lease_until = ?1, updated_at = ?2,
		claims = claims + 1
	WHERE seq IN (SELECT value FROM json_each(?3))
	RETURNING seq, claims, ` + msgCols

	// sqlRecordMessage only applies under the claim whose fence (the last
	// argument) is given (so the message was sending: Record counts the
	// move from there): a late worker whose lease ran out cannot overwrite
	// the outcome of the worker that claimed the message after it, nor a
	// message already settled.
	//
	// The outcome's two statements take plain "?" parameters, in the order
	// they appear: for a numbered one ("?1") the driver reads each
	// parameter's name back and parses it on every execution (issue 15).
	sqlRecordMessage = `UPDATE messages
	SET status = ?, next_attempt_at = ?, retries = retries + ?, platform_msgid = ?,
		last_code = ?, last_error = ?, lease_until = 0, updated_at = ?, reason = ?, held = ?
	WHERE id = ? AND status = 'sending' AND claims = ?`
	// sqlInsertAttempt numbers the attempt after the message's last. A
	// scalar subquery in VALUES, not INSERT … SELECT … FROM attempts: a
	// SELECT from the table being inserted into is first copied into a
	// temporary table (OpenEphemeral in the statement's program), for
	// every outcome (issue 15). The message's id is given twice (plain
	// parameters, above).
	sqlInsertAttempt = `INSERT INTO attempts (message_id, n, at, outcome, code, message, latency_ms, kind, reason)
	VALUES (?, (SELECT COALESCE(MAX(n), 0) + 1 FROM attempts WHERE message_id = ?), ?, ?, ?, ?, ?, ?, ?)`
)

// Claim implements storage.Store. It runs in the writer like every other
// change, so two claimers can never pick the same message: the second sees
// the first's lease.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim: lease %v: must be positive", lease)
	}
	nowMS, leaseUntil := toMS(now), toMS(now.Add(lease))
	var claimed []msgRow
	// One write (the UPDATE that marks the rows); an error after it
	// abandons the batch.
	err := s.submit(ctx, true, func(w *writer) error {
		claimed = claimed[:0]
		due, args, err := w.claimDueStmt(nowMS, limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		rows, err := due.Query(args...)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var (
			seqs []int64
			list = []byte{'['}
			// from counts the picked rows by their status before the
			// claim (sending: a lease that ran out).
			from = make([]int, len(message.Statuses))
		)
		// The query may return up to twice limit rows (claimDueStmt).
		for len(seqs) < limit && rows.Next() {
			var (
				seq, due int64
				status   sql.RawBytes
			)
			if err := rows.Scan(&seq, &due, &status); err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			if i := statusIndexBytes(status); i >= 0 {
				from[i]++
			}
			if len(seqs) > 0 {
				list = append(list, ',')
			}
			seqs, list = append(seqs, seq), strconv.AppendInt(list, seq, 10)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		list = append(list, ']')

		rows, err = w.st.claimMark.Query(leaseUntil, nowMS, string(list))
		if err != nil {
			return abandon(fmt.Errorf("claim: %w", err))
		}
		bySeq := make(map[int64]msgRow, len(seqs))
		for rows.Next() {
			var (
				seq int64
				r   msgRow
			)
			if err := rows.Scan(append([]any{&seq, &r.m.Lease.Fence}, r.dest()...)...); err != nil {
				rows.Close()
				return abandon(fmt.Errorf("claim: %w", err))
			}
			r.m.Lease.Until = fromMS(leaseUntil)
			bySeq[seq] = r
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return abandon(fmt.Errorf("claim: %w", err))
		}
		if len(bySeq) != len(seqs) {
			// Read and marked in one transaction of the only writer: the
			// UPDATE matches every row the SELECT picked, or the counts
			// below would be wrong.
			return abandon(fmt.Errorf("claim: %d of %d picked messages marked", len(bySeq), len(seqs)))
		}
		for i, n := range from {
			w.countMove(message.Statuses[i], message.StatusSending, n)
		}
		// RETURNING has no order; hand them out oldest due first.
		for _, seq := range seqs {
			if r, ok := bySeq[seq]; ok {
				claimed = append(claimed, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, err := decodeRows(claimed)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// Record implements storage.Store. The message must be leased (status
// sending) under fence: otherwise storage.ErrLeaseLost, and
// storage.ErrNotFound for an unknown id. Update's PlatformMsgID, LastCode
// and LastError replace the stored ones as given. A zero NextAttemptAt for
// queued or retrying means now.
func (s *Store) Record(ctx context.Context, id string, fence int64, a *message.Attempt, u storage.Update) error {
	switch u.Status {
	case message.StatusDelivered, message.StatusFailed, message.StatusRejected,
		message.StatusRetrying, message.StatusQueued:
	default:
		return fmt.Errorf("record message %s: invalid status %q", id, u.Status)
	}
	now := s.now()
	next := u.NextAttemptAt
	if next.IsZero() && (u.Status == message.StatusQueued || u.Status == message.StatusRetrying) {
		next = now
	}
	retry := 0
	if u.CountRetry {
		retry = 1
	}
	var attempts [][]any
	for _, x := range append(u.Attempts[:len(u.Attempts):len(u.Attempts)], derefAttempt(a)...) {
		at := x.At
		if at.IsZero() {
			at = now
		}
		kind := x.Kind
		if kind == "" {
			kind = message.KindSend
		}
		attempts = append(attempts, []any{id, id, toMS(at), string(x.Outcome), x.Code, x.Message, x.LatencyMS,
			string(kind), string(x.Reason)})
	}
	held := 0
	if u.Held {
		held = 1
	}
	// No savepoint: the UPDATE is the first write, and an error after it
	// (an attempt's row) abandons the batch rather than keep an outcome
	// without its attempts.
	return s.submit(ctx, true, func(w *writer) error {
		res, err := w.st.recordMsg.Exec(string(u.Status), toMS(next), retry, u.PlatformMsgID,
			u.LastCode, u.LastError, toMS(now), string(u.Reason), held, id, fence)
		if err != nil {
			return fmt.Errorf("record message %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record message %s: %w", id, err)
		} else if n == 0 {
			return leaseErr(w, id, fence)
		}
		w.countMove(message.StatusSending, u.Status, 1)
		for _, x := range attempts {
			if _, err := w.st.insertAttempt.Exec(x...); err != nil {
				return abandon(fmt.Errorf("record message %s: attempt: %w", id, err))
			}
		}
		return nil
	})
}

func derefAttempt(a *message.Attempt) []message.Attempt {
	if a == nil {
		return nil
	}
	return []message.Attempt{*a}
}

// maxClaimVariant is the largest limit with a statement of its own.
const maxClaimVariant = 1 << 12

// claimDueStmt returns the claim query for limit and its arguments: the
// statement prepared for the next power of two at or above limit, with
// that number written into the SQL as its LIMIT (the caller reads no more
// than limit rows); above maxClaimVariant, the one with LIMIT ?2.
//
// Why not always LIMIT ?2: SQLite reads a bound LIMIT while planning the
// compound query, so binding a new value makes the next step re-prepare
// the statement. The dispatcher asks for as many messages as it has free
// workers, a different number almost every time, and at one- or
// two-message claims the re-prepare was half of Claim's cost
// (docs/performance.md). Thirteen variants at most, each prepared once.
func (w *writer) claimDueStmt(nowMS int64, limit int) (*sql.Stmt, []any, error) {
	if limit > maxClaimVariant {
		return w.st.claimDue, []any{nowMS, limit}, nil
	}
	p := 1
	for p < limit {
		p <<= 1
	}
	if st, ok := w.claimDueBy[p]; ok {
		return st, []any{nowMS}, nil
	}
	q := strings.ReplaceAll(sqlClaimDue, "LIMIT ?2", "LIMIT "+strconv.Itoa(p))
	st, err := w.conn.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare claim query for %d: %w", p, err)
	}
	w.claimDueBy[p] = st
	return st, []any{nowMS}, nil
}

// leaseErr explains why Record matched nothing: the message does not exist
// (ErrNotFound), or it is not sending under the claim fence
// (ErrLeaseLost).
func leaseErr(w *writer, id string, fence int64) error {
	var (
		status string
		claims int64
	)
	err := w.st.msgLease.QueryRow(id).Scan(&status, &claims)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("record message %s: %w", id, storage.ErrNotFound)
	case err != nil:
		return fmt.Errorf("record message %s: %w", id, err)
	}
	return fmt.Errorf("record message %s under claim %d: status %s, claim %d: %w", id, fence, status, claims, storage.ErrLeaseLost)
}
