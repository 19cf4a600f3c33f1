package api

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// jsonPath is the path ("data.thing1", "to[2]") of the value of body that
// ends at byte offset off, where encoding/json reports a type error: its
// UnmarshalTypeError names only the struct field ("data"), not the map key
// or array index a caller needs to find the value.
func jsonPath(body []byte, off int64) string {
	type frame struct {
		object bool
		key    string
		index  int
	}
	var stack []frame
	path := func() string {
		var b []byte
		for i, f := range stack {
			if f.object {
				if i > 0 {
					b = append(b, '.')
				}
				b = append(b, f.key...)
			} else {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.index), 10)
				b = append(b, ']')
			}
		}
		return string(b)
	}
	// valueDone moves the enclosing array on to its next element.
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	wantKey := false
	last := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return last
		}
		if wantKey {
			if k, ok := tok.(string); ok {
				stack[len(stack)-1].key = k
				wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			last = path()
			if dec.InputOffset() >= off {
				return last
			}
			stack = append(stack, frame{object: tok == json.Delim('{')})
			wantKey = tok == json.Delim('{')
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			wantKey = len(stack) > 0 && stack[len(stack)-1].object
		default:
			last = path()
			if dec.InputOffset() >= off {
				return last
			}
			valueDone()
			wantKey = len(stack) > 0 && stack[len(stack)-1].object
		}
	}
}
