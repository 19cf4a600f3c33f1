package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	sqlInsertBroadcast = `INSERT INTO broadcasts
	(id, app, group_name, template_id, data, page, recipients, created_at,
		platform, due, group_version, fanout_after, fanned_out, idempotency_key, api_key, dedup)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	// sqlNextFanout is the oldest broadcast still fanning out.
	sqlNextFanout = `SELECT id, app, platform, template_id, data, page, due, group_version, fanout_after, api_key, dedup
	FROM broadcasts INDEXED BY broadcasts_fanout WHERE fanout_after IS NOT NULL
	ORDER BY created_at, id LIMIT 1`
	sqlFanoutProgress = `UPDATE broadcasts SET fanout_after = ?, fanned_out = fanned_out + ? WHERE id = ?`
	sqlFanoutPending  = `SELECT EXISTS (SELECT 1 FROM broadcasts INDEXED BY broadcasts_fanout WHERE fanout_after IS NOT NULL)`
)

// A broadcast's messages are written with multi-row INSERTs. Binding is
// what costs (every text parameter is copied into SQLite), and in a
// broadcast most columns are the same for every recipient: those are bound
// once per statement, and only the varying columns (id, recipient, usually
// nothing else) are bound per row.
const (
	maxFanoutRows = 1000  // rows per INSERT statement
	maxParams     = 32766 // SQLite's SQLITE_MAX_VARIABLE_NUMBER
)

// fanoutCols are the columns a broadcast message fills; lease_until is 0.
var fanoutCols = []struct {
	name string
	str  bool // in row.s, else in row.n
	i    int
}{
	{"id", true, 0}, {"app", true, 1}, {"platform", true, 2}, {"recipient", true, 3},
	{"template_id", true, 4}, {"data", true, 5}, {"page", true, 6}, {"idempotency_key", true, 7},
	{"broadcast_id", true, 8}, {"status", true, 9}, {"platform_msgid", true, 10},
	{"last_code", true, 11}, {"last_error", true, 12}, {"api_key", true, 13}, {"held_reason", true, 14},
	{"retries", false, 0}, {"next_attempt_at", false, 1}, {"created_at", false, 2}, {"updated_at", false, 3},
	{"send_at", false, 4},
}

// row is one message's column values, unboxed until they are bound.
type row struct {
	s [15]string
	n [5]int64
}

func (r *row) val(c int) any {
	if col := fanoutCols[c]; col.str {
		return r.s[col.i]
	}
	return r.n[fanoutCols[c].i]
}

func (r *row) same(o *row, c int) bool {
	if col := fanoutCols[c]; col.str {
		return r.s[col.i] == o.s[col.i]
	}
	return r.n[fanoutCols[c].i] == o.n[fanoutCols[c].i]
}

// fanout is a broadcast's messages as INSERT statements: full is run for
// each chunk in args but the last, which may be shorter and uses tail.
type fanout struct {
	full, tail string
	args       [][]any
	// counts is the rows per status, added to status_counts with one
	// statement per status (schema version 7).
	counts map[string]int
}

// CreateBroadcast implements storage.Store. b.ID is required (the caller
// needs it to follow the broadcast).
//
// A list's messages get the defaults Enqueue gives, and b.ID as
// BroadcastID; a message naming another broadcast, or carrying an
// idempotency key, is an error. msgs is not modified but for the
// outcome of a message's Admission: set IDs beforehand to know them. A message ID already in use fails the whole broadcast with
// storage.ErrConflict. The rows go in as one step of the writer's bulk
// lane.
//
// A group broadcast is one row: the group's current version and size, and
// a fan-out position FanOut advances.
//
// b.IdempotencyKey is claimed in the same transaction: a taken key
// stores nothing and returns the first broadcast.
func (s *Store) CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error) {
	if b.ID == "" || b.App == "" {
		return message.Broadcast{}, false, errors.New("create broadcast: empty id or app")
	}
	for i := range msgs {
		if msgs[i].IdempotencyKey != "" {
			return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: message %d has an idempotency key: the broadcast carries the key", b.ID, i)
		}
	}
	now := s.now()
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	b.CreatedAt, b.SendAt = ms(b.CreatedAt), ms(b.SendAt)
	data, err := json.Marshal(b.Data)
	if err != nil {
		return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: encode data: %w", b.ID, err)
	}
	var dedup []byte // '' for none
	if b.Dedup != nil {
		if dedup, err = json.Marshal(b.Dedup); err != nil {
			return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: encode dedup: %w", b.ID, err)
		}
	}
	var first message.Broadcast // the broadcast a taken key made
	// claim takes b's idempotency key; taken means stop, first is set.
	claim := func(w *writer) (taken bool, err error) {
		if b.IdempotencyKey == "" {
			return false, nil
		}
		id, taken, err := claimKey(w, broadcastScope(b.App), b.IdempotencyKey, b.Fingerprint, b.ID, toMS(now))
		if err != nil || !taken {
			return false, err
		}
		first, err = scanBroadcast(w.conn.QueryRowContext(context.Background(), sqlGetBroadcast, id))
		if err != nil {
			return false, fmt.Errorf("read broadcast %s: %w", id, err)
		}
		return true, nil
	}
	insert := func(w *writer, version int64, after any) error {
		if _, err := w.st.insertBroadcast.Exec(b.ID, b.App, b.Group, b.TemplateID, string(data), b.Page,
			b.Recipients, toMS(b.CreatedAt), b.Platform, toMS(b.SendAt), version, after, b.FannedOut,
			b.IdempotencyKey, b.APIKey, string(dedup)); err != nil {
			return writeErr("create broadcast "+b.ID, err)
		}
		return nil
	}

	var dup bool
	if b.Group != "" && len(msgs) == 0 {
		err := s.submit(ctx, false, func(w *writer) error {
			var err error
			if dup, err = claim(w); err != nil || dup {
				return err
			}
			var version int64
			err = w.conn.QueryRowContext(context.Background(), sqlGroupHead, b.App, b.Group).Scan(&version, &b.Recipients, new(int64))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("create broadcast %s: group %s/%s: %w", b.ID, b.App, b.Group, storage.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("create broadcast %s: %w", b.ID, err)
			}
			if b.Recipients == 0 {
				return fmt.Errorf("create broadcast %s: group %s/%s has no members: %w", b.ID, b.App, b.Group, storage.ErrConflict)
			}
			b.FannedOut = 0
			return insert(w, version, "") // fan out from the first member
		})
		if err != nil {
			return message.Broadcast{}, false, err
		}
		if dup {
			return first, true, nil
		}
		return b, false, nil
	}

	if b.Recipients == 0 {
		b.Recipients = len(msgs)
	}
	b.FannedOut = len(msgs)
	if slices.ContainsFunc(msgs, func(m message.Message) bool { return m.Admission != nil }) {
		// Campaign rules: each message is admitted in turn, in the
		// broadcast's transaction (admit).
		err := s.submitBulk(ctx, func(w *writer) error {
			var err error
			if dup, err = claim(w); err != nil || dup {
				return err
			}
			if err := insert(w, 0, nil); err != nil {
				return err
			}
			args := make([]any, 0, insertColCount)
			for i := range msgs {
				m := msgs[i]
				m.BroadcastID = b.ID
				if m, err = normalize(m, now); err != nil {
					return err
				}
				if err := admit(w, &m); err != nil {
					return fmt.Errorf("create broadcast %s: %w", b.ID, err)
				}
				if m.Admission != nil {
					storage.Admitted(&msgs[i], m) // a retried batch writes it again, alike
				}
				if args, err = appendMsgArgs(args[:0], &m); err != nil {
					return err
				}
				if _, err := w.st.insertMsg.Exec(args...); err != nil {
					return writeErr("create broadcast "+b.ID, err)
				}
				w.countInsert(m.Status, 1)
			}
			return nil
		})
		if err != nil {
			return message.Broadcast{}, false, err
		}
		if dup {
			return first, true, nil
		}
		return b, false, nil
	}
	// Everything but executing happens here, in the caller's goroutine.
	f, err := newFanout(b.ID, msgs, now)
	if err != nil {
		return message.Broadcast{}, false, fmt.Errorf("create broadcast %s: %w", b.ID, err)
	}
	err = s.submitBulk(ctx, func(w *writer) error {
		var err error
		if dup, err = claim(w); err != nil || dup {
			return err
		}
		if err := insert(w, 0, nil); err != nil {
			return err
		}
		return f.exec(w, b.ID)
	})
	if err != nil {
		return message.Broadcast{}, false, err
	}
	if dup {
		return first, true, nil
	}
	return b, false, nil
}

// scanBroadcast reads a row of sqlGetBroadcast (or of sqlBroadcastCols).
func scanBroadcast(row interface{ Scan(...any) error }) (message.Broadcast, error) {
	var (
		b            message.Broadcast
		data         string
		created, due int64
	)
	if err := row.Scan(&b.ID, &b.App, &b.Group, &b.TemplateID, &data, &b.Page, &b.Recipients, &created,
		&b.Platform, &due, &b.FannedOut, &b.IdempotencyKey, &b.APIKey); err != nil {
		return message.Broadcast{}, err
	}
	if err := json.Unmarshal([]byte(data), &b.Data); err != nil {
		return message.Broadcast{}, fmt.Errorf("broadcast %s: decode data: %w", b.ID, err)
	}
	b.CreatedAt, b.SendAt = fromMS(created), fromMS(due)
	return b, nil
}

// FanOut implements storage.Store: one bulk step creating the next limit
// messages of the oldest unfinished group broadcast, in member order, and
// moving its position past them in the same transaction.
func (s *Store) FanOut(ctx context.Context, limit int) (int, bool, error) {
	if limit <= 0 {
		return 0, false, nil
	}
	var (
		n        int
		more     bool
		admitted []message.Message
		bc       message.Broadcast
	)
	err := s.submitBulk(ctx, func(w *writer) error {
		n, more, admitted = 0, false, nil
		bg := context.Background()
		var (
			b         message.Broadcast
			data      string
			dedup     string
			due, ver  int64
			after     string
			recipient string
		)
		err := w.conn.QueryRowContext(bg, sqlNextFanout).Scan(&b.ID, &b.App, &b.Platform, &b.TemplateID, &data,
			&b.Page, &due, &ver, &after, &b.APIKey, &dedup)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(data), &b.Data); err != nil {
			return fmt.Errorf("broadcast %s: decode data: %w", b.ID, err)
		}
		if dedup != "" {
			b.Dedup = new(message.BroadcastDedup)
			if err := json.Unmarshal([]byte(dedup), b.Dedup); err != nil {
				return fmt.Errorf("broadcast %s: decode dedup: %w", b.ID, err)
			}
		}
		b.SendAt = fromMS(due)
		rows, err := w.conn.QueryContext(bg, sqlFanoutMembers, ver, after, limit)
		if err != nil {
			return err
		}
		now := s.now()
		msgs := make([]message.Message, 0, limit)
		for rows.Next() {
			var own sql.NullString
			if err := rows.Scan(&recipient, &own); err != nil {
				rows.Close()
				return err
			}
			data := b.Data
			if own.Valid {
				var md map[string]string
				if err := json.Unmarshal([]byte(own.String), &md); err != nil {
					rows.Close()
					return fmt.Errorf("broadcast %s: member %s: decode data: %w", b.ID, recipient, err)
				}
				data = message.MergeData(b.Data, md)
			}
			msgs = append(msgs, message.Message{ID: message.NewID("msg_", now), App: b.App, Platform: b.Platform,
				To: recipient, TemplateID: b.TemplateID, Data: data, Page: b.Page, BroadcastID: b.ID,
				Status: message.StatusQueued, NextAttemptAt: fromMS(due), CreatedAt: now, UpdatedAt: now,
				SendAt: fromMS(due), APIKey: b.APIKey})
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if admitted, err = s.fanOutMessages(w, b, msgs, now); err != nil {
			return err
		}
		bc = b
		var next any // NULL: done
		if len(msgs) == limit {
			next = recipient
		}
		if _, err := w.conn.ExecContext(bg, sqlFanoutProgress, next, len(msgs), b.ID); err != nil {
			return err
		}
		n = len(msgs)
		if next != nil {
			more = true
			return nil
		}
		return w.conn.QueryRowContext(bg, sqlFanoutPending).Scan(&more)
	})
	if err != nil {
		return 0, false, fmt.Errorf("fan out: %w", err)
	}
	if f := s.AdmittedAtFanOut(); f != nil && len(admitted) > 0 {
		f(bc, admitted)
	}
	return n, more, nil
}

// fanOutMessages inserts a fan-out step's messages. With campaign rules
// (SetFanOutAdmit) each message is admitted in turn in the step's
// transaction, as a list broadcast's are: a duplicate or a member over its
// caps is stored rejected; those admitted are returned as stored. Without,
// the multi-row INSERTs of newFanout.
func (s *Store) fanOutMessages(w *writer, b message.Broadcast, msgs []message.Message, now time.Time) ([]message.Message, error) {
	if f := s.AdmitAtFanOut(); f != nil {
		ruled := false
		for i := range msgs {
			f(b, &msgs[i])
			ruled = ruled || msgs[i].Admission != nil
		}
		if ruled {
			var admitted []message.Message
			args := make([]any, 0, insertColCount)
			for i := range msgs {
				m, err := normalize(msgs[i], now)
				if err != nil {
					return nil, fmt.Errorf("broadcast %s: %w", b.ID, err)
				}
				if err := admit(w, &m); err != nil {
					return nil, fmt.Errorf("broadcast %s: %w", b.ID, err)
				}
				if args, err = appendMsgArgs(args[:0], &m); err != nil {
					return nil, err
				}
				if _, err := w.st.insertMsg.Exec(args...); err != nil {
					return nil, writeErr("fan out "+b.ID, err)
				}
				w.countInsert(m.Status, 1)
				if m.Admission != nil {
					m.Admission, m.Data = nil, nil
					admitted = append(admitted, m)
				}
			}
			return admitted, nil
		}
	}
	f, err := newFanout(b.ID, msgs, now)
	if err != nil {
		return nil, fmt.Errorf("broadcast %s: %w", b.ID, err)
	}
	return nil, f.exec(w, b.ID)
}

func newFanout(broadcastID string, msgs []message.Message, now time.Time) (*fanout, error) {
	if len(msgs) == 0 {
		return &fanout{}, nil
	}
	// Two passes over msgs rather than a row per message kept in between:
	// for a 100k broadcast those rows were 24 MB on top of the caller's
	// messages, the largest share of the sender's peak memory
	// (docs/performance.md). The first pass finds which columns vary and
	// keeps only the IDs (normalize invents the missing ones); the second
	// builds the arguments.
	var (
		enc     dataEncoder
		first   row
		ids     = make([]string, len(msgs))
		varies  = make([]bool, len(fanoutCols))
		scratch row
		counts  = map[string]int{}
	)
	for i := range msgs {
		r := &scratch
		if i == 0 {
			r = &first
		}
		if err := toRow(r, msgs[i], broadcastID, now, &enc); err != nil {
			return nil, err
		}
		ids[i] = r.s[0]
		counts[r.s[9]]++ // the status column
		if i == 0 {
			continue
		}
		for c := 1; c < len(fanoutCols); c++ {
			varies[c] = varies[c] || !r.same(&first, c)
		}
	}

	// A column is bound once if every row has the first row's value. The
	// id always varies (even in a broadcast of one).
	consts, varying := []int(nil), []int{0}
	for c := 1; c < len(fanoutCols); c++ {
		if varies[c] {
			varying = append(varying, c)
		} else {
			consts = append(consts, c)
		}
	}
	perStmt := maxFanoutRows
	if len(varying) > 0 {
		perStmt = min(perStmt, (maxParams-len(consts))/len(varying))
	}

	f := &fanout{counts: counts}
	enc = dataEncoder{}
	for start := 0; start < len(msgs); start += perStmt {
		end := min(start+perStmt, len(msgs))
		args := make([]any, 0, len(consts)+(end-start)*len(varying))
		for _, c := range consts {
			args = append(args, first.val(c))
		}
		for i := start; i < end; i++ {
			m := msgs[i]
			m.ID = ids[i]
			if err := toRow(&scratch, m, broadcastID, now, &enc); err != nil {
				return nil, err
			}
			for _, c := range varying {
				args = append(args, scratch.val(c))
			}
		}
		f.args = append(f.args, args)
	}
	f.full = fanoutSQL(consts, varying, min(perStmt, len(msgs)))
	if rem := len(msgs) % perStmt; rem != 0 && len(msgs) > perStmt {
		f.tail = fanoutSQL(consts, varying, rem)
	}
	return f, nil
}

// toRow fills r with message m of the broadcast, normalized as Enqueue
// would.
func toRow(r *row, m message.Message, broadcastID string, now time.Time, enc *dataEncoder) error {
	if m.BroadcastID == "" {
		m.BroadcastID = broadcastID
	} else if m.BroadcastID != broadcastID {
		return fmt.Errorf("message %s belongs to broadcast %s", m.ID, m.BroadcastID)
	}
	m, err := normalize(m, now)
	if err != nil {
		return err
	}
	data, err := enc.encode(m.ID, m.Data)
	if err != nil {
		return err
	}
	*r = row{
		s: [15]string{m.ID, m.App, m.Platform, m.To, m.TemplateID, data, m.Page, m.IdempotencyKey,
			m.BroadcastID, string(m.Status), m.PlatformMsgID, m.LastCode, m.LastError, m.APIKey, string(m.HeldReason)},
		n: [5]int64{int64(m.Retries), toMS(m.NextAttemptAt), toMS(m.CreatedAt), toMS(m.UpdatedAt), toMS(m.SendAt)},
	}
	return nil
}

// dataEncoder encodes a message's data as JSON, once per map: a broadcast
// usually shares one map between all its messages.
type dataEncoder struct {
	lastMap  uintptr
	lastData string
}

func (e *dataEncoder) encode(id string, data map[string]string) (string, error) {
	if p := uintptr(reflect.ValueOf(data).UnsafePointer()); p == 0 || p != e.lastMap {
		b, err := json.Marshal(data)
		if err != nil {
			return "", fmt.Errorf("message %s: encode data: %w", id, err)
		}
		e.lastMap, e.lastData = p, string(b)
	}
	return e.lastData, nil
}

// fanoutSQL inserts n rows: the constant columns come from a one-row
// subquery bound once, the varying ones from a VALUES list. Plain "?"
// only: the driver looks each parameter's name up, and with numbered
// parameters (?17) that lookup is a linear search, quadratic per
// statement.
func fanoutSQL(consts, varying []int, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO messages (")
	for _, c := range append(append([]int(nil), consts...), varying...) {
		b.WriteString(fanoutCols[c].name)
		b.WriteByte(',')
	}
	b.WriteString("lease_until) SELECT ")
	if len(consts) > 0 {
		b.WriteString("c.*,")
	}
	b.WriteString("v.*,0 FROM ")
	if len(consts) > 0 {
		b.WriteString("(SELECT ")
		for k, c := range consts {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString("? AS " + fanoutCols[c].name)
		}
		b.WriteString(") AS c, ")
	}
	row := "(" + strings.Repeat("?,", len(varying)-1) + "?)"
	b.WriteString("(VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(") AS v")
	return b.String()
}

// exec runs the statements in the writer's transaction.
func (f *fanout) exec(w *writer, broadcastID string) error {
	if len(f.args) == 0 {
		return nil
	}
	ctx := context.Background()
	prepare := func(q string) (*sql.Stmt, error) {
		st, err := w.conn.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("create broadcast %s: prepare: %w", broadcastID, err)
		}
		return st, nil
	}
	full, err := prepare(f.full)
	if err != nil {
		return err
	}
	defer full.Close()
	for i, args := range f.args {
		st := full
		if i == len(f.args)-1 && f.tail != "" {
			if st, err = prepare(f.tail); err != nil {
				return err
			}
			defer st.Close()
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return writeErr("create broadcast "+broadcastID, err)
		}
	}
	for status, n := range f.counts {
		if _, err := w.conn.ExecContext(ctx, sqlCountInserted, n, status); err != nil {
			return fmt.Errorf("create broadcast %s: count: %w", broadcastID, err)
		}
	}
	return nil
}
