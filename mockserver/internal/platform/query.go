package platform

import (
	"net/url"
	"strings"
)

// QueryValue is url.ParseQuery(raw).Get(key) — the first value of key,
// "" when there is none — without building the map of every parameter
// (a token check reads one parameter of every send).
func QueryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue // ParseQuery skips (and reports) a pair with a semicolon
		}
		k, v, _ := strings.Cut(pair, "=")
		if !strings.Contains(k, "%") && !strings.Contains(k, "+") {
			if k != key {
				continue
			}
		} else if uk, err := url.QueryUnescape(k); err != nil || uk != key {
			continue
		}
		if !strings.Contains(v, "%") && !strings.Contains(v, "+") {
			return v
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			return uv
		}
	}
	return ""
}
