// Package jsonstr writes JSON strings and string maps byte for byte as
// encoding/json does (the answer to an accepted message), and reads the
// plain string maps the sender stores (a claimed message's data), without
// reflection: the sender does both for every message (issue 15,
// docs/performance.md).
package jsonstr

import (
	"slices"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s quoted as encoding/json writes it: quote,
// backslash and control characters escaped (\b \f \n \r \t by name),
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped, and with escapeHTML
// (json.Marshal's default) <, > and & as \u003c, \u003e, \u0026.
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendMap appends m as encoding/json writes a map[string]string: keys
// sorted, null for a nil map; escapeHTML as in AppendString.
func AppendMap(b []byte, m map[string]string, escapeHTML bool) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return AppendObject(b, m, escapeHTML, func(b []byte, v string) []byte { return AppendString(b, v, escapeHTML) })
}

// AppendObject appends m as an object whatever its values' form: keys
// sorted and written as AppendString does, each value by value (an empty
// or nil m is {}).
func AppendObject(b []byte, m map[string]string, escapeHTML bool, value func(b []byte, v string) []byte) []byte {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k, escapeHTML)
		b = append(b, ':')
		b = value(b, m[k])
	}
	return append(b, '}')
}

// DecodeMap reads an object of strings as json.Unmarshal into a
// map[string]string would, for the plain case only: strings without
// escapes or control characters and valid UTF-8, white space anywhere
// JSON allows it, nothing after the object. ok is false for anything else
// (null, an escape, a number, a malformed object): the caller then asks
// json.Unmarshal, which gives the answer it always gave.
func DecodeMap(b []byte) (map[string]string, bool) {
	p := NewScanner(b)
	p.Space()
	m, ok := p.StrMap()
	return m, ok && p.End()
}

// Scanner reads the plain JSON this package takes (DecodeMap, and the
// sender's common request body): strings without escapes or control
// characters and valid UTF-8, objects of them, booleans, white space. Each
// method reports false, or does nothing, where the input is anything else;
// the caller then leaves the input to encoding/json.
type Scanner struct {
	b []byte
	i int
}

// NewScanner scans b from its start.
func NewScanner(b []byte) *Scanner { return &Scanner{b: b} }

// Pos is the offset of the next byte to read.
func (p *Scanner) Pos() int { return p.i }

// Space skips white space.
func (p *Scanner) Space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Byte reads c, if it is next.
func (p *Scanner) Byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (p *Scanner) End() bool {
	p.Space()
	return p.i == len(p.b)
}

// Str reads a string without escapes or control characters, valid UTF-8.
func (p *Scanner) Str() (string, bool) {
	if !p.Byte('"') {
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

// StrMap reads an object of such strings (not null); a repeated key: the
// last wins, as in encoding/json.
func (p *Scanner) StrMap() (map[string]string, bool) {
	if !p.Byte('{') {
		return nil, false
	}
	m := make(map[string]string, 4)
	p.Space()
	if p.Byte('}') {
		return m, true
	}
	for {
		p.Space()
		k, ok := p.Str()
		if !ok {
			return nil, false
		}
		p.Space()
		if !p.Byte(':') {
			return nil, false
		}
		p.Space()
		v, ok := p.Str()
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated key: the last wins, as in encoding/json
		p.Space()
		if p.Byte('}') {
			return m, true
		}
		if !p.Byte(',') {
			return nil, false
		}
	}
}

// Bool reads true or false.
func (p *Scanner) Bool() (bool, bool) {
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
