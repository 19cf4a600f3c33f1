package platform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/redact"
)

// A send body is usually a flat JSON object: a few strings and one object
// of keyword values (WeChat's subscribe/send, Douyin's notify). Decoding it
// with encoding/json costs a validity scan, then a second pass with
// reflection, then a copy of every keyword item: the largest single step of
// those sends' handlers. DecodeFlat reads the common shape in one pass and
// leaves everything else to encoding/json, so every answer is still
// encoding/json's (flatbody_test.go and FuzzDecodeFlat hold both to the
// same result on the same bytes).

// FlatField is one field of the struct a flat body decodes into, by its
// JSON name (the struct tag's, lower-case ASCII): a string (Str) or a
// map[string]json.RawMessage (Obj). Exactly one of them is set.
type FlatField struct {
	Name string
	Str  *string
	Obj  *map[string]json.RawMessage
}

// maxFlatFields bounds the fields DecodeFlat fills.
const maxFlatFields = 8

// DecodeFlat is json.Unmarshal(body, &v) for a fresh struct v whose fields
// are exactly fields, when body has the common shape: one object whose
// keys are ASCII without escapes, each field at most once (matched as
// encoding/json matches, exactly or ignoring ASCII case), a string field's
// value a JSON string without \u escapes, an object field's value an object
// of plain members (see RawObject; its values share body's bytes, so body
// must not change while they are in use), any other member a plain value
// (ignored, as encoding/json ignores unknown keys), and nothing after the
// object but whitespace. Then it fills the fields and reports true. For
// anything else it writes nothing and reports false: the caller decodes
// body with encoding/json, whose verdict that is.
func DecodeFlat(body []byte, fields []FlatField) bool {
	if len(fields) > maxFlatFields {
		return false
	}
	var (
		strs [maxFlatFields]string
		objs [maxFlatFields]map[string]json.RawMessage
		seen uint
	)
	b := body
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return false
			}
			kEnd, plain := plainStringEnd(b, i)
			if !plain {
				return false
			}
			key := b[i+1 : kEnd-1]
			i = skipSpace(b, kEnd)
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i = skipSpace(b, i+1)
			f, ok := flatField(fields, key)
			if !ok {
				return false
			}
			end := 0
			switch {
			case f < 0: // not a field: skipped, once it is valid
				if end, ok = plainValueEnd(b, i, 0); !ok {
					return false
				}
			case seen&(1<<f) != 0: // a repeated field: encoding/json's rules
				return false
			case fields[f].Str != nil:
				if i >= len(b) || b[i] != '"' {
					return false
				}
				if end, plain = plainStringEnd(b, i); plain {
					strs[f] = string(b[i+1 : end-1])
				} else if end, ok = redact.StringEnd(b, i); !ok { // unescapeSimple judges the string
					return false
				} else if strs[f], ok = unescapeSimple(b[i:end]); !ok {
					return false
				}
			default:
				if objs[f], end, ok = plainObjectAt(b, i); !ok {
					return false
				}
			}
			if f >= 0 {
				seen |= 1 << f
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return false
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return false
	}
	for f := range fields {
		if seen&(1<<f) == 0 {
			continue
		}
		if fields[f].Str != nil {
			*fields[f].Str = strs[f]
		} else {
			*fields[f].Obj = objs[f]
		}
	}
	return true
}

// flatField is the index of the field key names (-1: none), false when the
// key is not plain ASCII (encoding/json folds some non-ASCII letters onto
// ASCII ones, the Kelvin sign onto k: those are left to it).
func flatField(fields []FlatField, key []byte) (int, bool) {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return 0, false
		}
	}
	for f := range fields {
		if string(key) == fields[f].Name {
			return f, true
		}
	}
	for f := range fields {
		if equalFoldASCII(key, fields[f].Name) {
			return f, true
		}
	}
	return -1, true
}

func equalFoldASCII(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := range k {
		c, n := k[i], name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= n && n <= 'Z' {
			n += 'a' - 'A'
		}
		if c != n {
			return false
		}
	}
	return true
}

// FlatFieldsMatch reports, for the tests of a body that DecodeFlat reads,
// whether fields are exactly the JSON fields of the struct *v points to,
// each pointing at its own field, strings as Str and raw-message maps as
// Obj: a field added to the struct but not to its list would be skipped as
// unknown by DecodeFlat and decoded by encoding/json.
func FlatFieldsMatch(v any, fields []FlatField) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%T is not a pointer to a struct", v)
	}
	sv := rv.Elem()
	byName := map[string]FlatField{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	if len(byName) != len(fields) {
		return fmt.Errorf("a name twice in %d fields", len(fields))
	}
	n := 0
	for i := range sv.NumField() {
		sf := sv.Type().Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		n++
		f, ok := byName[name]
		switch {
		case !ok:
			return fmt.Errorf("field %s (%q) is not listed", sf.Name, name)
		case sf.Type.Kind() == reflect.String && f.Str != nil:
			if f.Str != sv.Field(i).Addr().Interface().(*string) {
				return fmt.Errorf("field %q points elsewhere", name)
			}
		case sf.Type == reflect.TypeFor[map[string]json.RawMessage]() && f.Obj != nil:
			if f.Obj != sv.Field(i).Addr().Interface().(*map[string]json.RawMessage) {
				return fmt.Errorf("field %q points elsewhere", name)
			}
		default:
			return fmt.Errorf("field %q: type %s with the wrong kind of FlatField", name, sf.Type)
		}
	}
	if n != len(fields) {
		return fmt.Errorf("%d fields listed, the struct has %d", len(fields), n)
	}
	return nil
}
