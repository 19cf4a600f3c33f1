package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

var _ storage.Retainer = (*Store)(nil)

// retentionStatuses are the statuses PruneMessages deletes.
var retentionStatuses = []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRejected,
	message.StatusCancelled}

const (
	// sqlRetainBatch picks the oldest messages of status ?1 last changed
	// before ?2: the status index (status, seq) read from its oldest seq,
	// never a scan of the table. A message changed after its creation
	// (redriven, or retried for days) stays until its own time comes.
	sqlRetainBatch = `SELECT seq FROM messages INDEXED BY messages_status
	WHERE status = ?1 AND updated_at < ?2 ORDER BY seq LIMIT ?3`
	// sqlDeleteMessages deletes the picked rows (?1: a JSON array of
	// seqs); attempts go with them (ON DELETE CASCADE) and the counts by
	// the delete trigger. It returns what their receipts are keyed by.
	sqlDeleteMessages = `DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?1))
	RETURNING app, platform_msgid`
	sqlDeleteReceipt = `DELETE FROM receipts WHERE app = ? AND platform_msgid = ?`
)

// PruneMessages implements storage.Retainer. One call is one step of the
// writer's bulk lane: it runs alone in its transaction, only when no
// short write (accepts, claims, outcomes) is waiting (docs/delivery.md).
func (s *Store) PruneMessages(ctx context.Context, status message.Status, before time.Time, limit int) (int, error) {
	ok := false
	for _, st := range retentionStatuses {
		ok = ok || st == status
	}
	if !ok {
		return 0, fmt.Errorf("prune messages: status %q: only delivered, failed, rejected and cancelled messages are pruned", status)
	}
	if limit <= 0 {
		return 0, nil
	}
	n := 0
	err := s.submitBulk(ctx, func(w *writer) error {
		n = 0
		bg := context.Background()
		rows, err := w.conn.QueryContext(bg, sqlRetainBatch, string(status), toMS(before), limit)
		if err != nil {
			return fmt.Errorf("prune messages: %w", err)
		}
		list := []byte{'['}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return fmt.Errorf("prune messages: %w", err)
			}
			if n > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, seq, 10)
			n++
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("prune messages: %w", err)
		}
		if n == 0 {
			return nil
		}
		rows, err = w.conn.QueryContext(bg, sqlDeleteMessages, string(append(list, ']')))
		if err != nil {
			return fmt.Errorf("prune messages: %w", err)
		}
		type receiptKey struct{ app, msgid string }
		var receipts []receiptKey
		for rows.Next() {
			var k receiptKey
			if err := rows.Scan(&k.app, &k.msgid); err != nil {
				rows.Close()
				return fmt.Errorf("prune messages: %w", err)
			}
			if k.msgid != "" {
				receipts = append(receipts, k)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("prune messages: %w", err)
		}
		for _, k := range receipts {
			if _, err := w.conn.ExecContext(bg, sqlDeleteReceipt, k.app, k.msgid); err != nil {
				return fmt.Errorf("prune messages: receipt: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
