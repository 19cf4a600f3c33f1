package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/jsonstr"
	"github.com/minipush/minipush/sender/internal/message"
)

// msgCols is what every message read selects, in msgRow.dest order.
const msgCols = `id, app, platform, recipient, template_id, data, page, idempotency_key,
	COALESCE(broadcast_id, ''), status, retries, next_attempt_at, platform_msgid,
	last_code, last_error, created_at, updated_at, reason, send_at, api_key, held_reason, duplicate_of`

// receiptCol is the message's receipt as a JSON object (NULL: none), for
// reads that show it; it follows msgCols (receiptRow.dest).
const receiptCol = `(SELECT json_object('status', r.status, 'error_code', r.error_code,
		'error_status', r.error_status, 'at', r.at)
	FROM receipts r WHERE r.app = messages.app AND r.platform_msgid = messages.platform_msgid
		AND messages.platform_msgid <> '')`

// insertCols are the columns a new message row fills, in msgArgs order.
const insertCols = `id, app, platform, recipient, template_id, data, page, idempotency_key,
	broadcast_id, status, retries, next_attempt_at, lease_until, platform_msgid,
	last_code, last_error, created_at, updated_at, send_at, api_key, reason, held_reason, duplicate_of`

const insertColCount = 23

// msgRow is a scanned message before its JSON and times are decoded.
// Decoding happens in the caller's goroutine, not the writer's.
type msgRow struct {
	m                              message.Message
	data, status                   string
	next, created, updated, sendAt int64
}

func (r *msgRow) dest() []any {
	return []any{&r.m.ID, &r.m.App, &r.m.Platform, &r.m.To, &r.m.TemplateID, &r.data,
		&r.m.Page, &r.m.IdempotencyKey, &r.m.BroadcastID, &r.status, &r.m.Retries,
		&r.next, &r.m.PlatformMsgID, &r.m.LastCode, &r.m.LastError, &r.created, &r.updated, &r.m.Reason,
		&r.sendAt, &r.m.APIKey, &r.m.HeldReason, &r.m.DuplicateOf}
}

// receiptRow is a message row read with receiptCol.
type receiptRow struct {
	msgRow
	receipt sql.NullString
}

func (r *receiptRow) dest() []any { return append(r.msgRow.dest(), &r.receipt) }

func (r *receiptRow) message() (message.Message, error) {
	m, err := r.msgRow.message()
	if err != nil || !r.receipt.Valid {
		return m, err
	}
	var rc struct {
		Status      string `json:"status"`
		ErrorCode   string `json:"error_code"`
		ErrorStatus string `json:"error_status"`
		At          int64  `json:"at"`
	}
	if err := json.Unmarshal([]byte(r.receipt.String), &rc); err != nil {
		return message.Message{}, fmt.Errorf("message %s: decode receipt: %w", m.ID, err)
	}
	m.Receipt = &message.Receipt{Status: message.ReceiptStatus(rc.Status), ErrorCode: rc.ErrorCode,
		ErrorStatus: rc.ErrorStatus, At: fromMS(rc.At)}
	return m, nil
}

func (r *msgRow) message() (message.Message, error) {
	m := r.m
	// The plain stored form in one pass (jsonstr, 4× faster than
	// encoding/json in its BenchmarkDataMap); escapes and anything else by
	// encoding/json.
	if d, ok := jsonstr.DecodeMap([]byte(r.data)); ok {
		m.Data = d
	} else if err := json.Unmarshal([]byte(r.data), &m.Data); err != nil {
		return message.Message{}, fmt.Errorf("message %s: decode data: %w", m.ID, err)
	}
	m.Status = message.Status(r.status)
	m.NextAttemptAt = fromMS(r.next)
	m.CreatedAt = fromMS(r.created)
	m.UpdatedAt = fromMS(r.updated)
	m.SendAt = fromMS(r.sendAt)
	return m, nil
}

func decodeRows(rows []msgRow) ([]message.Message, error) {
	out := make([]message.Message, len(rows))
	for i := range rows {
		m, err := rows[i].message()
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// toMS stores a time; the zero time is 0.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS reads a stored time; 0 is the zero time.
func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ms truncates t to what the store keeps, so values returned from a write
// equal the ones a later read returns.
func ms(t time.Time) time.Time { return fromMS(toMS(t)) }

// normalize fills a new message's defaults and rounds its times. It runs in
// the caller's goroutine.
func normalize(m message.Message, now time.Time) (message.Message, error) {
	if m.ID == "" {
		m.ID = message.NewID("msg_", now)
	}
	if m.App == "" {
		return m, fmt.Errorf("message %s: empty app", m.ID)
	}
	if m.Status == "" {
		m.Status = message.StatusQueued
	}
	if !m.Status.Valid() {
		return m, fmt.Errorf("message %s: invalid status %q", m.ID, m.Status)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt // due at once
	}
	m.CreatedAt, m.UpdatedAt, m.NextAttemptAt, m.SendAt = ms(m.CreatedAt), ms(m.UpdatedAt), ms(m.NextAttemptAt), ms(m.SendAt)
	m.Attempts = nil // attempts are written by Record only
	// Reason and receipt are outcomes: Record writes the one, platform
	// events the other.
	m.Reason, m.Receipt, m.DuplicateOf = "", nil, ""
	return m, nil
}

// appendMsgArgs appends m's insertCols values to args.
func appendMsgArgs(args []any, m *message.Message) ([]any, error) {
	// encoding/json: as fast as jsonstr.AppendMap for a data map
	// (jsonstr's BenchmarkDataMap); reading it back is not.
	data, err := json.Marshal(m.Data)
	if err != nil {
		return args, fmt.Errorf("message %s: encode data: %w", m.ID, err)
	}
	var broadcast any // NULL: the foreign key is only checked when set
	if m.BroadcastID != "" {
		broadcast = m.BroadcastID
	}
	return append(args, m.ID, m.App, m.Platform, m.To, m.TemplateID, string(data), m.Page,
		m.IdempotencyKey, broadcast, string(m.Status), m.Retries, toMS(m.NextAttemptAt), int64(0),
		m.PlatformMsgID, m.LastCode, m.LastError, toMS(m.CreatedAt), toMS(m.UpdatedAt), toMS(m.SendAt), m.APIKey,
		string(m.Reason), string(m.HeldReason), m.DuplicateOf), nil
}
