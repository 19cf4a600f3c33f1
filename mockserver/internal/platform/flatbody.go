package platform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
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
// JSON name (the struct tag's, lower-case ASCII): a string (Str), a
// map[string]json.RawMessage (Obj), a json.RawMessage (Raw) or an []int
// (Ints). Exactly one of them is set.
type FlatField struct {
	Name string
	Str  *string
	Obj  *map[string]json.RawMessage
	Raw  *json.RawMessage
	Ints *[]int
}

// maxFlatFields bounds the fields DecodeFlat fills.
const maxFlatFields = 8

// DecodeFlat is json.Unmarshal(body, &v) for a fresh struct v whose fields
// are exactly fields, when body has the common shape: one object whose
// keys are ASCII without escapes, each field at most once (matched as
// encoding/json matches, exactly or ignoring ASCII case), a string field's
// value a JSON string without \u escapes, an object field's value an object
// of plain members (see RawObject; its values share body's bytes, so body
// must not change while they are in use), a raw field's value any plain
// value (sharing body's bytes too; null is the raw "null", as encoding/json
// gives a json.RawMessage), an int-list field's value an array of integers
// of at most 18 digits (no fraction, no exponent), any other member a plain value
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
		raws [maxFlatFields][]byte
		ints [maxFlatFields][]int
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
			case fields[f].Raw != nil:
				if end, ok = plainValueEnd(b, i, 0); !ok {
					return false
				}
				raws[f] = b[i:end:end]
			case fields[f].Ints != nil:
				if ints[f], end, ok = intListAt(b, i); !ok {
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
		switch {
		case fields[f].Str != nil:
			*fields[f].Str = strs[f]
		case fields[f].Raw != nil:
			*fields[f].Raw = raws[f]
		case fields[f].Ints != nil:
			*fields[f].Ints = ints[f]
		default:
			*fields[f].Obj = objs[f]
		}
	}
	return true
}

// intListAt reads the array of integers at b[i] as encoding/json fills an
// []int: each a JSON integer without fraction or exponent, of at most 18
// digits (so it fits an int64); false for anything else (null elements,
// larger numbers, which encoding/json judges).
func intListAt(b []byte, i int) ([]int, int, bool) {
	if i >= len(b) || b[i] != '[' {
		return nil, 0, false
	}
	out := make([]int, 0, 4)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, true
	}
	for {
		start := i
		if i < len(b) && b[i] == '-' {
			i++
		}
		digits := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		n := i - digits
		if n == 0 || n > 18 || (n > 1 && b[digits] == '0') {
			return nil, 0, false
		}
		v, err := strconv.ParseInt(string(b[start:i]), 10, 64)
		if err != nil {
			return nil, 0, false
		}
		out = append(out, int(v))
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return out, i + 1, true
		default: // a fraction, an exponent, anything else
			return nil, 0, false
		}
	}
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
// each pointing at its own field, strings as Str, raw-message maps as
// Obj, raw messages as Raw and int slices as Ints: a field added to the struct but not to its list would be skipped as
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
		case sf.Type == reflect.TypeFor[json.RawMessage]() && f.Raw != nil:
			if f.Raw != sv.Field(i).Addr().Interface().(*json.RawMessage) {
				return fmt.Errorf("field %q points elsewhere", name)
			}
		case sf.Type == reflect.TypeFor[[]int]() && f.Ints != nil:
			if f.Ints != sv.Field(i).Addr().Interface().(*[]int) {
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
