package redact

import (
	"strings"
	"testing"
)

// isKeyByFold is the comparison isKey replaced: every key, by
// strings.EqualFold, at the same length.
func isKeyByFold(name []byte) bool {
	if len(name) == 0 || len(name) > 3*maxKey {
		return false
	}
	if strings.ContainsAny(string(name), "%+") {
		name = []byte(unescape(string(name)))
	}
	for _, k := range Keys {
		if len(k) == len(name) && strings.EqualFold(k, string(name)) {
			return true
		}
	}
	return false
}

func FuzzIsKey(f *testing.F) {
	for _, s := range append(Keys, "Access_Token", "ſecret", "SIGN", "sign_type", "access%5Ftoken", "app+secret", "\u212a", "") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := isKey([]byte(name)), isKeyByFold([]byte(name)); got != want {
			t.Fatalf("isKey(%q) = %v, by EqualFold %v", name, got, want)
		}
	})
}
