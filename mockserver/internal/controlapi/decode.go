package controlapi

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// unknownField extracts the name from encoding/json's
// `json: unknown field "x"` error.
func unknownField(err error) (string, bool) {
	const prefix = `json: unknown field "`
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(msg, prefix), `"`), true
}

func itoa(n int) string { return strconv.Itoa(n) }
