package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/minipush/minipush/sender/internal/jsonstr"
	"github.com/minipush/minipush/sender/internal/message"
)

// The answer to POST /v1/messages is the stored message, once per accepted
// message: written here field by field instead of by encoding/json's
// reflection, which was about 5 % of the sender's CPU per delivered
// message (docs/performance.md, issue 15). The bytes are exactly what
// writeJSON writes for the same message (TestMessageJSONMatchesEncoding,
// FuzzMessageJSON); a message this writer does not cover — with attempts
// or a receipt, or a time encoding/json would refuse — goes to writeJSON.

// msgBufs holds the answers' buffers between requests.
var msgBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeMessage answers status with m, as writeJSON(w, status, m) would.
func writeMessage(w http.ResponseWriter, status int, m *message.Message) {
	bp := msgBufs.Get().(*[]byte)
	b, ok := appendMessageJSON((*bp)[:0], m)
	if !ok {
		msgBufs.Put(bp)
		writeJSON(w, status, m)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 { // a huge one is not kept
		*bp = b
		msgBufs.Put(bp)
	}
}

// appendMessageJSON appends m as encoding/json encodes it (HTML not
// escaped, a newline after it, as json.Encoder writes). ok is false for a
// message it does not cover: with attempts or a receipt, or a time
// MarshalJSON refuses or writes differently.
func appendMessageJSON(b []byte, m *message.Message) (_ []byte, ok bool) {
	if len(m.Attempts) > 0 || m.Receipt != nil ||
		!jsonTime(m.SendAt) || !jsonTime(m.NextAttemptAt) || !jsonTime(m.CreatedAt) || !jsonTime(m.UpdatedAt) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"app":`...)
	b = appendJSONString(b, m.App)
	b = append(b, `,"platform":`...)
	b = appendJSONString(b, m.Platform)
	b = append(b, `,"to":`...)
	b = appendJSONString(b, m.To)
	b = append(b, `,"template_id":`...)
	b = appendJSONString(b, m.TemplateID)
	b = append(b, `,"data":`...)
	b = appendJSONMap(b, m.Data)
	b = appendOmitEmpty(b, `,"page":`, m.Page)
	if !m.SendAt.IsZero() {
		b = append(b, `,"send_at":`...)
		b = appendJSONTime(b, m.SendAt)
	}
	b = appendOmitEmpty(b, `,"idempotency_key":`, m.IdempotencyKey)
	b = appendOmitEmpty(b, `,"api_key":`, m.APIKey)
	b = appendOmitEmpty(b, `,"broadcast_id":`, m.BroadcastID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(m.Status))
	b = append(b, `,"retries":`...)
	b = appendInt(b, m.Retries)
	if !m.NextAttemptAt.IsZero() {
		b = append(b, `,"next_attempt_at":`...)
		b = appendJSONTime(b, m.NextAttemptAt)
	}
	b = appendOmitEmpty(b, `,"platform_msgid":`, m.PlatformMsgID)
	b = appendOmitEmpty(b, `,"last_code":`, m.LastCode)
	b = appendOmitEmpty(b, `,"last_error":`, m.LastError)
	b = appendOmitEmpty(b, `,"reason":`, string(m.Reason))
	b = appendOmitEmpty(b, `,"held_reason":`, string(m.HeldReason))
	b = appendOmitEmpty(b, `,"duplicate_of":`, m.DuplicateOf)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, m.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, m.UpdatedAt)
	return append(b, "}\n"...), true
}

func appendOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		// -n overflows only for the smallest int, which no count reaches.
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// jsonTime reports whether t encodes as appendJSONTime writes it: what
// time.Time.MarshalJSON accepts (years 0–9999) and writes as RFC 3339 with
// nanoseconds (an offset of whole minutes).
func jsonTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off%60 == 0 && off > -24*3600 && off < 24*3600
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString quotes s as writeJSON does (no HTML escaping).
func appendJSONString(b []byte, s string) []byte { return jsonstr.AppendString(b, s, false) }

// appendJSONMap writes a string map as writeJSON does.
func appendJSONMap(b []byte, m map[string]string) []byte { return jsonstr.AppendMap(b, m, false) }
