package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Object is a push body: named fields in the order the platform writes
// them. Order matters on the wire (XML elements, the bytes a signature
// covers), which a Go map would lose.
type Object []Field

// Field is one field of an Object. Value is a string, a number (int, int64
// or json.Number), a bool, nil, an Object, or a []any of those.
type Field struct {
	Name  string
	Value any
}

// Get returns a field's value.
func (o Object) Get(name string) (any, bool) {
	for _, f := range o {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// String returns a field's value when it is a string, else "".
func (o Object) String(name string) string {
	v, _ := o.Get(name)
	s, _ := v.(string)
	return s
}

// Has reports whether the object has the field.
func (o Object) Has(name string) bool {
	_, ok := o.Get(name)
	return ok
}

// With returns o with the field set: replaced in place, or appended.
func (o Object) With(name string, v any) Object {
	out := append(Object(nil), o...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = v
			return out
		}
	}
	return append(out, Field{name, v})
}

// Prepend returns o with the field first, unless o already has it.
func (o Object) Prepend(name string, v any) Object {
	if o.Has(name) {
		return o
	}
	return append(Object{{name, v}}, o...)
}

// Array returns objects as the []any a parsed event's array holds, so
// encoders handle one array type.
func Array(objects []Object) []any {
	out := make([]any, len(objects))
	for i, o := range objects {
		out[i] = o
	}
	return out
}

// InsertAfter returns o with f after the field named after (at the end
// when o has no such field).
func (o Object) InsertAfter(after string, f Field) Object {
	out := make(Object, 0, len(o)+1)
	done := false
	for _, x := range o {
		out = append(out, x)
		if x.Name == after && !done {
			out = append(out, f)
			done = true
		}
	}
	if !done {
		out = append(out, f)
	}
	return out
}

// MarshalJSON writes the fields in order, without HTML escaping (the
// platforms write <, > and & as they are).
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case json.Number:
		if !json.Valid([]byte(x)) {
			return fmt.Errorf("invalid number %q", string(x))
		}
		b.WriteString(string(x))
	case Object:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.Name)
			b.WriteByte(':')
			if err := writeJSON(b, f.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []Object:
		return writeJSON(b, Array(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return fmt.Errorf("push body: unsupported value of type %T", v)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// Limits on a hand-written event (POST /_mock/events): pushes are small,
// and a decoder of untrusted input must not recurse without bound.
const (
	maxDepth  = 16
	maxFields = 4096
)

// ParseObject reads a JSON object keeping its fields' order; numbers stay
// as written (json.Number). Duplicate names are an error: which one would
// the platform send?
func ParseObject(b []byte) (Object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	p := parser{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("an event must be a JSON object")
	}
	o, err := p.object("", 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the event object")
	}
	return o, nil
}

type parser struct {
	dec    *json.Decoder
	fields int
}

func (p *parser) object(path string, depth int) (Object, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d levels", pathOr(path), maxDepth)
	}
	o := Object{}
	seen := map[string]bool{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%s: malformed object", pathOr(path))
		}
		field := join(path, name)
		if seen[name] {
			return nil, fmt.Errorf("%s: given twice", field)
		}
		seen[name] = true
		if p.fields++; p.fields > maxFields {
			return nil, fmt.Errorf("more than %d fields", maxFields)
		}
		v, err := p.value(field, depth)
		if err != nil {
			return nil, err
		}
		o = append(o, Field{name, v})
	}
	if _, err := p.dec.Token(); err != nil { // the closing }
		return nil, syntaxError(err)
	}
	return o, nil
}

func (p *parser) value(path string, depth int) (any, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return p.object(path, depth+1)
		case '[':
			if depth+1 > maxDepth {
				return nil, fmt.Errorf("%s: nested deeper than %d levels", path, maxDepth)
			}
			arr := []any{}
			for i := 0; p.dec.More(); i++ {
				if p.fields++; p.fields > maxFields {
					return nil, fmt.Errorf("more than %d fields", maxFields)
				}
				v, err := p.value(path+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := p.dec.Token(); err != nil { // the closing ]
				return nil, syntaxError(err)
			}
			return arr, nil
		}
		return nil, fmt.Errorf("%s: malformed value", path)
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("%s: malformed value", path)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func pathOr(path string) string {
	if path == "" {
		return "event"
	}
	return path
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("malformed JSON: the event ends early")
	}
	return fmt.Errorf("malformed JSON: %v", err)
}
