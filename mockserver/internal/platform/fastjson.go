package platform

import (
	"encoding/json"
	"unicode/utf8"
)

// The send paths read small JSON values that the body's decode already
// handed over as raw bytes (a keyword item {"value": …}, a string, a
// number). Decoding each again with encoding/json costs a validity scan
// and reflection per value, about a third of a WeChat send's handler. The
// readers below take the common shapes — an object of plain keys whose
// values are strings without escapes, numbers and literals; a string
// without escapes; a number — in one pass and hand everything else
// (escapes, nesting, non-ASCII keys, anything malformed) to encoding/json,
// so every answer is exactly encoding/json's (fastjson_test.go checks both
// on the same inputs).

// JSONString is json.Unmarshal(raw, &s): the string raw holds, and false
// when raw is not a JSON string (null included: Unmarshal leaves s empty
// without error, and so does this).
func JSONString(raw []byte) (string, bool) {
	if s, ok, done := plainString(raw); done {
		return s, ok
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// JSONNumberText is json.Unmarshal(raw, &n) for a json.Number n: the
// number's text as written, and false when raw is not a JSON number
// (null gives "", true, as Unmarshal does).
func JSONNumberText(raw []byte) (string, bool) {
	b := trimSpace(raw)
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && validNumber(b) {
		return string(b), true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	return n.String(), true
}

// plainString reads a JSON string without escapes or control characters
// whose bytes are valid UTF-8, surrounded by JSON whitespace only; done
// false means raw is something else, for encoding/json to judge.
func plainString(raw []byte) (s string, ok, done bool) {
	b := trimSpace(raw)
	if len(b) < 2 || b[0] != '"' {
		return "", false, false
	}
	end, plain := plainStringEnd(b, 0)
	if plain && end == len(b) {
		return string(b[1 : end-1]), true, true
	}
	// A string with escapes other than \u (a JSON text carried as a
	// string, as Alipay's data is): unescaped here.
	if u, ok := unescapeSimple(b); ok {
		return u, true, true
	}
	return "", false, false
}

// unescapeSimple decodes the JSON string b (quotes included) when its
// escapes are all one of \" \\ \/ \b \f \n \r \t and the rest is valid
// UTF-8 without control characters; false for anything else.
func unescapeSimple(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	out := make([]byte, 0, len(in))
	ascii := true
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
			out = append(out, c)
		case c != '\\':
			out = append(out, c)
		default:
			i++
			if i >= len(in) {
				return "", false
			}
			switch in[i] {
			case '"', '\\', '/':
				out = append(out, in[i])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			default: // \u…, or not JSON
				return "", false
			}
		}
	}
	if !ascii && !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// plainStringEnd scans the string starting at b[i] (a quote): the index
// just past its closing quote, and false when it holds an escape, a control
// character or invalid UTF-8, or is not closed.
func plainStringEnd(b []byte, i int) (int, bool) {
	ascii := true
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[i+1:j]) {
				return 0, false
			}
			return j + 1, true
		case c == '\\' || c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

// numberEnd is the end of the number-like run starting at b[i].
func numberEnd(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			i++
			continue
		}
		break
	}
	return i
}

// isValueKey reports whether a plain ASCII key names the field "value"
// the way encoding/json matches struct fields: exactly, or ignoring ASCII
// case.
func isValueKey(k []byte) bool {
	const want = "value"
	if len(k) != len(want) {
		return false
	}
	for i := range k {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// plainItem reads a keyword item {"value": …} whose members are plain:
// keys of printable ASCII without escapes, values that are plain strings,
// numbers or the literals null, true and false. It returns the raw value
// of the last member named value (as encoding/json keeps the last of
// duplicates; nil when there is none); done false means the item is
// something else.
func plainItem(raw []byte) (val []byte, done bool) {
	b := raw
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		kEnd, plain := plainStringEnd(b, i)
		if !plain {
			return nil, false
		}
		key := b[i+1 : kEnd-1]
		for _, c := range key {
			if c >= utf8.RuneSelf {
				// encoding/json folds some non-ASCII letters onto ASCII
				// ones (the Kelvin sign onto k): leave those to it.
				return nil, false
			}
		}
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return nil, false
		}
		vStart := i
		switch c := b[i]; {
		case c == '"':
			end, plain := plainStringEnd(b, i)
			if !plain {
				return nil, false
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			i = numberEnd(b, i)
			if !validNumber(b[vStart:i]) {
				return nil, false
			}
		case hasWord(b[i:], "null"):
			i += 4
		case hasWord(b[i:], "true"):
			i += 4
		case hasWord(b[i:], "false"):
			i += 5
		default: // an object, an array, or not JSON
			return nil, false
		}
		if isValueKey(key) {
			val = b[vStart:i]
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return nil, false
			}
			return val, true
		default:
			return nil, false
		}
	}
}

func hasWord(b []byte, w string) bool { return len(b) >= len(w) && string(b[:len(w)]) == w }

// RawObject is json.Unmarshal(raw, &m) for m a map[string]json.RawMessage:
// the members of a JSON object (nil for null), false when raw is not one.
// The common shape — keys without escapes, values that are plain strings,
// numbers, literals, or objects and arrays of them — is split in one pass;
// its values share raw's bytes (encoding/json copies them), so raw must not
// change while the map is in use.
func RawObject(raw []byte) (map[string]json.RawMessage, bool) {
	if m, done := plainObject(raw); done {
		return m, true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// RawArray is json.Unmarshal(raw, &s) for s a []json.RawMessage: the
// elements of a JSON array (nil for null), false when raw is not one. The
// common shape — elements that are plain values (see RawObject) — is split
// in one pass, its elements sharing raw's bytes; anything else goes to
// encoding/json.
func RawArray(raw []byte) ([]json.RawMessage, bool) {
	if s, ok := plainArray(raw); ok {
		return s, true
	}
	var s []json.RawMessage
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	return s, true
}

func plainArray(b []byte) ([]json.RawMessage, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	out := make([]json.RawMessage, 0, 4)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			end, ok := plainValueEnd(b, i, 0)
			if !ok {
				return nil, false
			}
			out = append(out, json.RawMessage(b[i:end:end]))
			i = skipSpace(b, end)
			if i >= len(b) {
				return nil, false
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, false
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return nil, false
	}
	return out, true
}

// maxPlainDepth bounds the nesting the one-pass reader follows.
const maxPlainDepth = 16

func plainObject(raw []byte) (map[string]json.RawMessage, bool) {
	b := raw
	m, end, ok := plainObjectAt(b, skipSpace(b, 0))
	if !ok || skipSpace(b, end) != len(b) {
		return nil, false
	}
	return m, true
}

// plainObjectAt splits the plain object at b[i] (see RawObject): its
// members, sharing b's bytes, and the index just past its closing brace.
func plainObjectAt(b []byte, i int) (map[string]json.RawMessage, int, bool) {
	if i >= len(b) || b[i] != '{' {
		return nil, 0, false
	}
	m := map[string]json.RawMessage{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, 0, false
		}
		kEnd, plain := plainStringEnd(b, i)
		if !plain {
			return nil, 0, false
		}
		key := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return nil, 0, false
		}
		i = skipSpace(b, i+1)
		end, ok := plainValueEnd(b, i, 0)
		if !ok {
			return nil, 0, false
		}
		m[string(key)] = json.RawMessage(b[i:end:end])
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return m, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// plainValueEnd is the end of the plain JSON value at b[i] (see RawObject),
// false for anything else.
func plainValueEnd(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return plainStringEnd(b, i)
	case c == '-' || c >= '0' && c <= '9':
		end := numberEnd(b, i)
		return end, validNumber(b[i:end])
	case hasWord(b[i:], "null"), hasWord(b[i:], "true"):
		return i + 4, true
	case hasWord(b[i:], "false"):
		return i + 5, true
	case c == '{' || c == '[':
		if depth >= maxPlainDepth {
			return 0, false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				kEnd, plain := plainStringEnd(b, i)
				if !plain {
					return 0, false
				}
				i = skipSpace(b, kEnd)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipSpace(b, i+1)
			}
			end, ok := plainValueEnd(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case closing:
				return i + 1, true
			default:
				return 0, false
			}
		}
	}
	return 0, false
}
