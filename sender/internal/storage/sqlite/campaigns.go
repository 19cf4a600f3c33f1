package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Campaign rules (docs/campaigns.md): the dedup entries and frequency-cap
// counts a message's Admission reads and writes, in the transaction that
// stores the message. The writer runs one transaction at a time, so two
// admissions of the same user never interleave; two processes on one file
// are serialised by SQLite's write lock.
const (
	sqlDedupGet = `SELECT d.message_id FROM campaign_dedup d
	WHERE d.app = ?1 AND d.key = ?2 AND d.until > ?3
		AND EXISTS (SELECT 1 FROM messages m WHERE m.id = d.message_id)`
	sqlDedupPut = `INSERT INTO campaign_dedup (app, key, message_id, until) VALUES (?1, ?2, ?3, ?4)
	ON CONFLICT (app, key) DO UPDATE SET message_id = excluded.message_id, until = excluded.until`
	sqlCountGet = `SELECT n FROM campaign_counts WHERE app = ?1 AND key = ?2 AND until > ?3`
	// sqlCountAdd starts a count again when the stored one has expired.
	sqlCountAdd = `INSERT INTO campaign_counts (app, key, n, until) VALUES (?1, ?2, 1, ?4)
	ON CONFLICT (app, key) DO UPDATE SET
		n = CASE WHEN campaign_counts.until > ?3 THEN campaign_counts.n + 1 ELSE 1 END,
		until = excluded.until`
	// sqlSweepCampaign deletes expired entries and counts (Sweep).
	sqlSweepDedup = `DELETE FROM campaign_dedup WHERE (app, key) IN
	(SELECT app, key FROM campaign_dedup WHERE until < ?1 LIMIT ?2)`
	sqlSweepCounts = `DELETE FROM campaign_counts WHERE (app, key) IN
	(SELECT app, key FROM campaign_counts WHERE until < ?1 LIMIT ?2)`
)

// admit applies m's Admission (if any) inside the writer's transaction,
// changing m to what is stored: a duplicate or a message over its caps
// becomes rejected; an admitted one takes its slot's due time and held
// reason, and its dedup entry and counts are written.
func admit(w *writer, m *message.Message) error {
	ad := m.Admission
	if ad == nil {
		return nil
	}
	bg, at := context.Background(), toMS(ad.At)
	if ad.DedupKey != "" {
		var first string
		err := w.st.dedupGet.QueryRowContext(bg, m.App, ad.DedupKey, at).Scan(&first)
		if err == nil {
			m.Status, m.Reason, m.DuplicateOf = message.StatusRejected, reason.Duplicate, first
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("dedup %s: %w", m.ID, err)
		}
	}
	if len(ad.Slots) > 0 {
		slot := -1
	slots:
		for i, s := range ad.Slots {
			for _, c := range s.Counters {
				var n int
				err := w.st.countGet.QueryRowContext(bg, m.App, c.Key, at).Scan(&n)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("frequency cap %s: %w", m.ID, err)
				}
				if n >= c.Limit {
					continue slots
				}
			}
			slot = i
			break
		}
		if slot < 0 {
			m.Status, m.Reason = message.StatusRejected, reason.FrequencyCap
			return nil
		}
		s := ad.Slots[slot]
		m.NextAttemptAt, m.HeldReason = ms(s.Due), s.Held
		for _, c := range s.Counters {
			if _, err := w.st.countAdd.ExecContext(bg, m.App, c.Key, at, toMS(c.Until)); err != nil {
				return fmt.Errorf("frequency cap %s: %w", m.ID, err)
			}
		}
	}
	if ad.DedupKey != "" {
		if _, err := w.st.dedupPut.ExecContext(bg, m.App, ad.DedupKey, m.ID, toMS(ad.DedupUntil)); err != nil {
			return fmt.Errorf("dedup %s: %w", m.ID, err)
		}
	}
	return nil
}
