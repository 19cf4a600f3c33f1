package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Members are written in chunks of groupChunk, each one bulk step of the
// writer (a few milliseconds), so that putting a million members never
// holds the writer for more than one chunk at a time.
const groupChunk = 2000

const (
	sqlStageGroup  = `INSERT INTO group_versions (app, name, state) VALUES (?, ?, 'staging') RETURNING version`
	sqlGroupHead   = `SELECT version, size, updated_at FROM groups WHERE app = ? AND name = ?`
	sqlGroupReport = `SELECT report FROM groups WHERE app = ? AND name = ?`
	// sqlPutGroupHead points the group at its new version.
	sqlPutGroupHead = `INSERT INTO groups (app, name, version, size, updated_at, report) VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (app, name) DO UPDATE SET version = excluded.version, size = excluded.size,
		updated_at = excluded.updated_at, report = excluded.report`
	sqlSetVersionState = `UPDATE group_versions SET state = ? WHERE version = ?`
	sqlDeleteGroup     = `DELETE FROM groups WHERE app = ? AND name = ? RETURNING version`
	sqlGroupMembers    = `SELECT member FROM group_members WHERE version = ? AND member > ? ORDER BY member LIMIT ?`
	sqlFanoutMembers   = `SELECT member, data FROM group_members WHERE version = ? AND member > ? ORDER BY member LIMIT ?`
	// A crashed process's unfinished PUTs: nobody will finish them.
	sqlRetireStaging = `UPDATE group_versions SET state = 'retired' WHERE state = 'staging'`
	// sqlSweepVersion is a retired version no unfinished fan-out reads.
	sqlSweepVersion = `SELECT version FROM group_versions INDEXED BY group_versions_retired
	WHERE state = 'retired' AND NOT EXISTS (
		SELECT 1 FROM broadcasts INDEXED BY broadcasts_fanout
		WHERE fanout_after IS NOT NULL AND group_version = group_versions.version)
	ORDER BY version LIMIT 1`
	sqlSweepMembers = `DELETE FROM group_members WHERE version = ?1 AND member IN (
		SELECT member FROM group_members WHERE version = ?1 ORDER BY member LIMIT ?2)`
	sqlDeleteVersion = `DELETE FROM group_versions WHERE version = ?`
)

// PutGroup implements storage.Store. The members go in under a new
// version in chunks of groupChunk; the last step points the group at that
// version and retires the previous one, all in one transaction. Until
// then the version is "staging": invisible, and safe from Sweep. A PUT
// that fails retires its version (or, if that write fails too, the next
// Open does).
//
// With key, the idempotency key is claimed in the last step's
// transaction. A key already taken before the first member is read skips
// the writing: the members are only read, for the fingerprint to compare.
func (s *Store) PutGroup(ctx context.Context, app, name string, members iter.Seq2[string, error], key string, fingerprint func() string) (message.Group, bool, error) {
	return s.putGroup(ctx, app, name, func(yield func(message.Member, error) bool) {
		for m, err := range members {
			if !yield(message.Member{To: m}, err) {
				return
			}
		}
	}, false, nil, key, fingerprint)
}

// PutAudience implements storage.Audiences: PutGroup with each member's
// keyword values in group_members.data and the report in groups.report.
func (s *Store) PutAudience(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], report func() *message.AudienceReport, key string, fingerprint func() string) (message.Group, bool, error) {
	return s.putGroup(ctx, app, name, members, true, report, key, fingerprint)
}

func (s *Store) putGroup(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], withData bool, report func() *message.AudienceReport, key string, fingerprint func() string) (message.Group, bool, error) {
	op := fmt.Sprintf("put group %s/%s", app, name)
	scope := groupScope(app)
	if key != "" {
		if err := s.readable(); err != nil {
			return message.Group{}, false, err
		}
		fp, ref, found, err := s.readKey(ctx, scope, key)
		if err != nil {
			return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
		}
		if found {
			for _, err := range members {
				if err != nil {
					return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
				}
			}
			if got := fingerprint(); fp != "" && got != "" && got != fp {
				return message.Group{}, false, fmt.Errorf("%s: idempotency key %q: %w", op, key, storage.ErrIdempotencyMismatch)
			}
			g, err := groupAnswer(ref)
			if err != nil {
				return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
			}
			return g, true, nil
		}
	}

	var version int64
	err := s.submit(ctx, true, func(w *writer) error {
		return w.conn.QueryRowContext(context.Background(), sqlStageGroup, app, name).Scan(&version)
	})
	if err != nil {
		return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
	}
	retire := func() {
		// Detached: the caller's context may be why we stop.
		_ = s.submit(context.WithoutCancel(ctx), true, func(w *writer) error {
			_, err := w.conn.ExecContext(context.Background(), sqlSetVersionState, "retired", version)
			return err
		})
	}
	fail := func(err error) (message.Group, bool, error) {
		retire()
		return message.Group{}, false, fmt.Errorf("%s: %w", op, err)
	}

	var (
		size     int64
		perChunk = groupChunk // arguments per chunk: groupChunk members
		chunk    []any
	)
	if withData {
		perChunk *= 2
	}
	chunk = make([]any, 0, perChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		args := append([]any{version}, chunk...)
		q := sqlInsertMembers(len(chunk))
		if withData {
			q = sqlInsertMemberData(len(chunk) / 2)
		}
		err := s.submitBulk(ctx, func(w *writer) error {
			res, err := w.conn.ExecContext(context.Background(), q, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			size += n // repeated members are ignored, not counted
			return err
		})
		chunk = chunk[:0]
		return err
	}
	for m, err := range members {
		if err != nil {
			return fail(err)
		}
		if withData {
			var data any       // NULL: no values of its own
			if m.Data != nil { // even {}: the first row of a member stands
				b, err := json.Marshal(m.Data)
				if err != nil {
					return fail(err)
				}
				data = string(b)
			}
			chunk = append(chunk, m.To, data)
		} else {
			chunk = append(chunk, m.To)
		}
		if len(chunk) >= perChunk {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := flush(); err != nil {
		return fail(err)
	}

	g := message.Group{App: app, Name: name, Size: int(size), UpdatedAt: ms(s.now())}
	var rep any // NULL: a JSON group
	if report != nil {
		g.CSV = report()
		b, err := json.Marshal(g.CSV)
		if err != nil {
			return fail(err)
		}
		rep = string(b)
	}
	var (
		first message.Group // the group write a taken key made
		dup   bool
	)
	err = s.submit(ctx, false, func(w *writer) error {
		bg := context.Background()
		if key != "" {
			ref, taken, err := claimKey(w, scope, key, fingerprint(), groupRef(g), toMS(g.UpdatedAt))
			if err != nil {
				return err
			}
			if taken { // an identical PUT finished while this one streamed
				if first, err = groupAnswer(ref); err != nil {
					return err
				}
				dup = true
				return nil
			}
		}
		var old sql.NullInt64
		if err := w.conn.QueryRowContext(bg, "SELECT version FROM groups WHERE app = ? AND name = ?", app, name).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := w.conn.ExecContext(bg, sqlPutGroupHead, app, name, version, size, toMS(g.UpdatedAt), rep); err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(bg, sqlSetVersionState, "current", version); err != nil {
			return err
		}
		if old.Valid {
			if _, err := w.conn.ExecContext(bg, sqlSetVersionState, "retired", old.Int64); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if dup {
		retire()
		return first, true, nil
	}
	return g, false, nil
}

// A group write's key records its answer: the group as it was written, or
// the deletion.
type groupKeyRef struct {
	App     string    `json:"app"`
	Name    string    `json:"name"`
	Size    int       `json:"size"`
	At      time.Time `json:"at"`
	Deleted bool      `json:"deleted,omitempty"`
}

func groupRef(g message.Group) string {
	b, _ := json.Marshal(groupKeyRef{App: g.App, Name: g.Name, Size: g.Size, At: g.UpdatedAt})
	return string(b)
}

func groupAnswer(ref string) (message.Group, error) {
	var r groupKeyRef
	if err := json.Unmarshal([]byte(ref), &r); err != nil {
		return message.Group{}, fmt.Errorf("read idempotency record: %w", err)
	}
	return message.Group{App: r.App, Name: r.Name, Size: r.Size, UpdatedAt: r.At}, nil
}

// sqlInsertMembers inserts n members of version ?1 (plain ? after it: see
// fanoutSQL for why).
func sqlInsertMembers(n int) string {
	return "INSERT OR IGNORE INTO group_members (version, member) SELECT ?, column1 FROM (VALUES " +
		strings.TrimSuffix(strings.Repeat("(?),", n), ",") + ")"
}

// sqlInsertMemberData inserts n members of version ?1 with their data.
func sqlInsertMemberData(n int) string {
	return "INSERT OR IGNORE INTO group_members (version, member, data) SELECT ?, column1, column2 FROM (VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") + ")"
}

// Group implements storage.Store.
func (s *Store) Group(ctx context.Context, app, name, after string, limit int) (_ message.Group, _ []string, _ string, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return message.Group{}, nil, "", err
	}
	op := fmt.Sprintf("get group %s/%s", app, name)
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	g := message.Group{App: app, Name: name}
	var version, updated int64
	err = tx.QueryRowContext(ctx, sqlGroupHead, app, name).Scan(&version, &g.Size, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	if err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	g.UpdatedAt = fromMS(updated)
	var rep sql.NullString
	if err := tx.QueryRowContext(ctx, sqlGroupReport, app, name).Scan(&rep); err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if rep.Valid {
		g.CSV = new(message.AudienceReport)
		if err := json.Unmarshal([]byte(rep.String), g.CSV); err != nil {
			return message.Group{}, nil, "", fmt.Errorf("%s: decode report: %w", op, err)
		}
	}
	members := []string{}
	if limit <= 0 {
		return g, members, "", nil
	}
	rows, err := tx.QueryContext(ctx, sqlGroupMembers, version, after, limit+1)
	if err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return message.Group{}, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if len(members) <= limit {
		return g, members, "", nil
	}
	members = members[:limit]
	return g, members, members[limit-1], nil
}

// sqlGroups pages through an app's groups by name.
const sqlGroups = `SELECT name, size, updated_at FROM groups WHERE app = ? AND name > ? ORDER BY name LIMIT ?`

// Groups implements storage.Store.
func (s *Store) Groups(ctx context.Context, app, after string, limit int) (_ []message.Group, _ string, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, "", err
	}
	limit = storage.PageSize(limit)
	rows, err := s.rdb.QueryContext(ctx, sqlGroups, app, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list groups of %s: %w", app, err)
	}
	defer rows.Close()
	var out []message.Group
	for rows.Next() {
		g := message.Group{App: app}
		var updated int64
		if err := rows.Scan(&g.Name, &g.Size, &updated); err != nil {
			return nil, "", fmt.Errorf("list groups of %s: %w", app, err)
		}
		g.UpdatedAt = fromMS(updated)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list groups of %s: %w", app, err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], out[limit-1].Name, nil
}

// DeleteGroup implements storage.Store. Its members are swept later, once
// no broadcast fans out from them.
func (s *Store) DeleteGroup(ctx context.Context, app, name string, idem storage.Idempotency) (bool, error) {
	var dup bool
	err := s.submit(ctx, false, func(w *writer) error {
		bg := context.Background()
		dup = false
		if idem.Key != "" {
			ref, _ := json.Marshal(groupKeyRef{App: app, Name: name, Deleted: true, At: ms(s.now())})
			_, taken, err := claimKey(w, groupScope(app), idem.Key, idem.Fingerprint, string(ref), toMS(s.now()))
			if err != nil {
				return fmt.Errorf("delete group %s/%s: %w", app, name, err)
			}
			if taken {
				dup = true
				return nil
			}
		}
		var version int64
		err := w.conn.QueryRowContext(bg, sqlDeleteGroup, app, name).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delete group %s/%s: %w", app, name, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete group %s/%s: %w", app, name, err)
		}
		if _, err := w.conn.ExecContext(bg, sqlSetVersionState, "retired", version); err != nil {
			return fmt.Errorf("delete group %s/%s: %w", app, name, err)
		}
		return nil
	})
	return dup, err
}

// Sweep implements storage.Store: one bulk step deleting up to limit
// expired idempotency keys, or, when none is left, up to limit members of
// the oldest retired version no fan-out reads (and the version itself once
// it is empty).
func (s *Store) Sweep(ctx context.Context, keysBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.submitBulk(ctx, func(w *writer) error {
		n = 0
		bg := context.Background()
		res, err := w.conn.ExecContext(bg, sqlExpireKeys, toMS(keysBefore), limit)
		if err != nil {
			return err
		}
		if keys, err := res.RowsAffected(); err != nil {
			return err
		} else if keys > 0 {
			n = int(keys)
			return nil
		}
		// Expired campaign entries (docs/campaigns.md).
		for _, q := range []string{sqlSweepDedup, sqlSweepCounts} {
			res, err := w.conn.ExecContext(bg, q, toMS(keysBefore), limit)
			if err != nil {
				return err
			}
			if gone, err := res.RowsAffected(); err != nil {
				return err
			} else if gone > 0 {
				n = int(gone)
				return nil
			}
		}
		var version int64
		err = w.conn.QueryRowContext(bg, sqlSweepVersion).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err = w.conn.ExecContext(bg, sqlSweepMembers, version, limit)
		if err != nil {
			return err
		}
		deleted, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(deleted)
		if n < limit {
			if _, err := w.conn.ExecContext(bg, sqlDeleteVersion, version); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	return n, nil
}
