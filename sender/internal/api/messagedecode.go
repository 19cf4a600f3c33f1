package api

import (
	"time"
	"unicode/utf8"
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
	p := jsonScan{b: b}
	p.space()
	if !p.byte('{') {
		return false
	}
	var seen uint8
	p.space()
	if p.byte('}') {
		return p.end()
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if !p.byte(':') {
			return false
		}
		p.space()
		var bit uint8
		switch key {
		case "app":
			bit = 1
			req.App, ok = p.str()
		case "to":
			bit = 2
			req.To, ok = p.str()
		case "template_id":
			bit = 4
			req.TemplateID, ok = p.str()
		case "page":
			bit = 8
			req.Page, ok = p.str()
		case "idempotency_key":
			bit = 16
			req.IdempotencyKey, ok = p.str()
		case "data":
			bit = 32
			req.Data, ok = p.strMap()
		case "urgent":
			bit = 64
			req.Urgent, ok = p.boolean()
		case "send_at":
			bit = 128
			start := p.i
			if _, ok = p.str(); ok {
				var t time.Time
				// The quoted bytes, as encoding/json hands them over.
				if t.UnmarshalJSON(p.b[start:p.i]) != nil {
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
		p.space()
		if p.byte('}') {
			return p.end()
		}
		if !p.byte(',') {
			return false
		}
	}
}

// jsonScan reads the restricted JSON of decodeMessageFast.
type jsonScan struct {
	b []byte
	i int
}

func (p *jsonScan) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScan) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end: only white space after the object.
func (p *jsonScan) end() bool {
	p.space()
	return p.i == len(p.b)
}

// str reads a string without escapes or control characters, valid UTF-8.
func (p *jsonScan) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, ascii := p.i, true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// strMap reads an object of strings (not null).
func (p *jsonScan) strMap() (map[string]string, bool) {
	if !p.byte('{') {
		return nil, false
	}
	m := make(map[string]string, 4)
	p.space()
	if p.byte('}') {
		return m, true
	}
	for {
		p.space()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if !p.byte(':') {
			return nil, false
		}
		p.space()
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated key: the last wins, as in encoding/json
		p.space()
		if p.byte('}') {
			return m, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

func (p *jsonScan) boolean() (bool, bool) {
	switch {
	case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
		p.i += 4
		return true, true
	case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
		p.i += 5
		return false, true
	}
	return false, false
}
