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
		b = AppendString(b, m[k], escapeHTML)
	}
	return append(b, '}')
}

// DecodeMap reads an object of strings as json.Unmarshal into a
// map[string]string would, for the plain case only: strings without
// escapes or control characters and valid UTF-8, white space anywhere
// JSON allows it, nothing after the object. ok is false for anything else
// (null, an escape, a number, a malformed object): the caller then asks
// json.Unmarshal, which gives the answer it always gave.
func DecodeMap(b []byte) (m map[string]string, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	m = make(map[string]string, 4)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, skipSpace(b, i+1) == len(b)
	}
	for {
		var k, v string
		if k, i, ok = plainString(b, skipSpace(b, i)); !ok {
			return nil, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		if v, i, ok = plainString(b, skipSpace(b, i+1)); !ok {
			return nil, false
		}
		m[k] = v // a repeated key: the last wins, as in encoding/json
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return m, skipSpace(b, i+1) == len(b)
		case ',':
			i++
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainString reads a string at b[i] without escapes or control
// characters, valid UTF-8; it returns the index after its closing quote.
func plainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	start, ascii := i+1, true
	for j := start; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			s := b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", i, false
			}
			return string(s), j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", i, false
}
