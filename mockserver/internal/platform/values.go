package platform

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/minipush/minipush/mockserver/internal/store"
)

// KeywordValue reads a keyword item {"value": …} of a send's data: a
// string, or a number written as text (SDKs in other languages send
// numbers); null or a missing value is empty (ok, ""). Anything else is
// invalid (ok false).
func KeywordValue(raw json.RawMessage) (string, bool) {
	val, ok := ValueMember(raw)
	if !ok {
		return "", false
	}
	if len(val) == 0 || string(val) == "null" {
		return "", true
	}
	if s, ok := JSONString(val); ok {
		return s, true
	}
	return JSONNumberText(val)
}

// keywordValueSlow is KeywordValue by encoding/json alone (what the tests
// hold KeywordValue to).
func keywordValueSlow(raw json.RawMessage) (string, bool) {
	var item struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &item); err != nil {
		return "", false
	}
	if len(item.Value) == 0 || string(item.Value) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(item.Value, &s); err == nil {
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(item.Value, &n); err == nil {
		return n.String(), true
	}
	return "", false
}

// ValueMember is json.Unmarshal(raw, &struct{Value json.RawMessage
// `json:"value"`}): the raw "value" member of an object (nil when it has
// none, or raw is null), and false when raw is not an object.
func ValueMember(raw json.RawMessage) (json.RawMessage, bool) {
	if val, done := plainItem(raw); done {
		return val, true
	}
	var item struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &item); err != nil {
		return nil, false
	}
	return item.Value, true
}

// ValidPage reports whether page may be a send's jump page: empty (no
// jump), or a path inside the mini-program with an optional query — no
// scheme, spaces or control characters, at most 1024 bytes. When the app
// lists its published pages the path must be one of them (WeChat 41030
// "page路径不正确，需要保证在现网版本小程序中存在"; the other platforms'
// equivalents).
func ValidPage(app *store.App, page string) bool {
	if page == "" {
		return true
	}
	if len(page) > 1024 || strings.Contains(page, "://") {
		return false
	}
	for _, r := range page {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	if app.Pages == nil {
		return true
	}
	path, _, _ := strings.Cut(page, "?")
	return app.Pages[strings.TrimPrefix(path, "/")]
}
