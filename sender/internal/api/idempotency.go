package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"time"
)

// Idempotency follows the IETF draft "The Idempotency-Key HTTP Header
// Field": a retried request with the same key and the same content gets
// the first request's answer and does nothing again; the same key with
// different content is refused with 422. The content is compared by a
// fingerprint — a SHA-256 of the request's canonical form: the decoded
// fields that shape what is stored, in a fixed order (map keys sorted),
// with the values the API normalised (recipients trimmed, send_at in
// UTC) and without the key itself. Keys are kept for the configured
// window (idempotency.window, 24 h by default; docs/delivery.md).

// fingerprint hashes v's JSON encoding (struct fields in declaration
// order, map keys sorted: canonical for the types used here).
func fingerprint(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only values the API decoded from JSON get here.
		panic(fmt.Sprintf("fingerprint: %v", err))
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canonicalTime is send_at as it is compared: UTC, or "" when absent.
func canonicalTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// streamFingerprint hashes a streamed request piece by piece.
type streamFingerprint struct{ h hash.Hash }

func newStreamFingerprint(parts ...string) *streamFingerprint {
	f := &streamFingerprint{h: sha256.New()}
	for _, p := range parts {
		f.add(p)
	}
	return f
}

// add hashes s, length-prefixed so that no two sequences collide.
func (f *streamFingerprint) add(s string) {
	fmt.Fprintf(f.h, "%d:", len(s))
	f.h.Write([]byte(s))
}

func (f *streamFingerprint) sum() string { return "sha256:" + hex.EncodeToString(f.h.Sum(nil)) }

// idempotencyKey reads the Idempotency-Key header, which must agree with
// the body's idempotency_key when both are given. It reports false after
// answering 422.
func idempotencyKey(w http.ResponseWriter, r *http.Request, body string) (string, bool) {
	h := r.Header.Get("Idempotency-Key")
	if h != "" && body != "" && h != body {
		writeProblems(w, []Problem{{"idempotency_key", "conflict", "the Idempotency-Key header and the idempotency_key field differ"}})
		return "", false
	}
	if h != "" {
		return h, true
	}
	return body, true
}

// keyMismatch is the 422 for storage.ErrIdempotencyMismatch: a key reused
// with another request.
func keyMismatch(w http.ResponseWriter) {
	writeProblems(w, []Problem{{"idempotency_key", "mismatch",
		"this idempotency key was already used for a different request (its fingerprint differs): " +
			"a retry must repeat the request unchanged; a new request needs a new key"}})
}
