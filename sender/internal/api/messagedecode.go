package api

import (
	"time"

	"github.com/minipush/minipush/sender/internal/jsonstr"
)

// decodeMessageFast reads the common shape of a POST /v1/messages body in
// one pass without encoding/json's reflection (about 5 % of the sender's
// CPU per accepted message, issue 15): one object whose keys are app, to,
// template_id, page, idempotency_key (strings), data (an object of
// strings), send_at (a string time.Time's own UnmarshalJSON takes, as
// encoding/json would call it) and urgent (a boolean), each at most once,
// spelled exactly, strings without escapes or control characters and
// valid UTF-8, nothing after the object but white space. It reports false
// for anything else — dedup, null, an escape, a number, a duplicate key,
// a malformed body or time — and the caller then decodes the body with
// encoding/json, which
// gives the answer (and the error) it always gave. When it reports true,
// req holds what encoding/json would have decoded
// (FuzzDecodeMessageFast). req must be zero on entry; on false it may
// hold part of the body and must be reset.
func decodeMessageFast(b []byte, req *messageRequest) bool {
	p := jsonstr.NewScanner(b)
	p.Space()
	if !p.Byte('{') {
		return false
	}
	var seen uint8
	p.Space()
	if p.Byte('}') {
		return p.End()
	}
	for {
		p.Space()
		key, ok := p.Str()
		if !ok {
			return false
		}
		p.Space()
		if !p.Byte(':') {
			return false
		}
		p.Space()
		var bit uint8
		switch key {
		case "app":
			bit = 1
			req.App, ok = p.Str()
		case "to":
			bit = 2
			req.To, ok = p.Str()
		case "template_id":
			bit = 4
			req.TemplateID, ok = p.Str()
		case "page":
			bit = 8
			req.Page, ok = p.Str()
		case "idempotency_key":
			bit = 16
			req.IdempotencyKey, ok = p.Str()
		case "data":
			bit = 32
			req.Data, ok = p.StrMap()
		case "urgent":
			bit = 64
			req.Urgent, ok = p.Bool()
		case "send_at":
			bit = 128
			start := p.Pos()
			if _, ok = p.Str(); ok {
				var t time.Time
				// The quoted bytes, as encoding/json hands them over.
				if t.UnmarshalJSON(b[start:p.Pos()]) != nil {
					return false
				}
				req.SendAt = &t
			}
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		p.Space()
		if p.Byte('}') {
			return p.End()
		}
		if !p.Byte(',') {
			return false
		}
	}
}
