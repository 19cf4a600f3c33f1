package sender_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
)

// The fourth defect, per the IETF Idempotency-Key draft: a key
// reused with a different body returned the first message silently, and
// broadcasts ignored the key, so a client retrying a slow broadcast sent
// the whole fan-out twice. Now the same key and the same request get the
// first answer and nothing is done again; the same key with another
// request is refused with 422 naming the conflict; broadcasts (to a list or
// a group) and group writes honour the key too.
func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	mismatch := func(t *testing.T, code int, b []byte) {
		t.Helper()
		var p problemsBody
		mustJSON(t, b, &p)
		if code != http.StatusUnprocessableEntity || len(p.Problems) != 1 || p.Problems[0].Field != "idempotency_key" ||
			p.Problems[0].Rule != "mismatch" {
			t.Fatalf("same key, different request: %d %s, want 422 naming idempotency_key, rule mismatch", code, b)
		}
	}

	t.Run("message with another body", func(t *testing.T) {
		body := msg(shopApp, users[0], "key-a")
		id := s.send(body, "Idempotency-Key", "msg-key-1")
		changed := msg(shopApp, users[0], "key-b") // other data
		code, b := s.do(http.MethodPost, "/v1/messages", changed, "Idempotency-Key", "msg-key-1")
		mismatch(t, code, b)
		changed = msg(shopApp, users[1], "key-a") // another recipient
		code, b = s.do(http.MethodPost, "/v1/messages", changed, "Idempotency-Key", "msg-key-1")
		mismatch(t, code, b)
		// The same request is still the first one.
		code, b = s.do(http.MethodPost, "/v1/messages", body, "Idempotency-Key", "msg-key-1")
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusOK || a.ID != id {
			t.Fatalf("retry: %d %s, want 200 with %s", code, b, id)
		}
		s.wait(id, message.StatusDelivered, 10*time.Second)
		if n := countMarker(inbox(t, mock, shopAppID, users[1], 0), "key-a"); n != 0 {
			t.Errorf("the refused request reached %s", users[1])
		}
	})

	t.Run("list broadcast retried", func(t *testing.T) {
		body := msg(shopApp, "", "bc-key")
		delete(body, "to")
		body["to"] = []string{users[2], users[3]}
		code, b := s.do(http.MethodPost, "/v1/broadcasts", body, "Idempotency-Key", "bc-key-1")
		var first accepted
		mustJSON(t, b, &first)
		if code != http.StatusAccepted || first.Recipients != 2 {
			t.Fatalf("broadcast: %d %s", code, b)
		}
		// A client whose first attempt timed out sends it again.
		code, b = s.do(http.MethodPost, "/v1/broadcasts", body, "Idempotency-Key", "bc-key-1")
		var again accepted
		mustJSON(t, b, &again)
		if code != http.StatusOK || again.ID != first.ID || again.Recipients != 2 {
			t.Fatalf("retried broadcast: %d %s, want 200 with %s", code, b, first.ID)
		}
		// The key may ride in the body too.
		body["idempotency_key"] = "bc-key-1"
		if code, b := s.do(http.MethodPost, "/v1/broadcasts", body); code != http.StatusOK || !strings.Contains(string(b), first.ID) {
			t.Fatalf("retry with the key in the body: %d %s", code, b)
		}
		body["to"] = []string{users[2]}
		code, b = s.do(http.MethodPost, "/v1/broadcasts", body)
		mismatch(t, code, b)
		for _, u := range users[2:4] {
			inbox(t, mock, shopAppID, u, 1)
		}
		time.Sleep(200 * time.Millisecond) // room for a second fan-out to land, were there one
		for _, u := range users[2:4] {
			if n := countMarker(inbox(t, mock, shopAppID, u, 0), "bc-key"); n != 1 {
				t.Errorf("%s received the broadcast %d times, want 1", u, n)
			}
		}
	})

	t.Run("group broadcast and group writes", func(t *testing.T) {
		put := map[string]any{"app": shopApp, "members": []string{users[4], users[5]}}
		if code, b := s.do(http.MethodPut, "/v1/groups/keyed", put, "Idempotency-Key", "put-1"); code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, b)
		}
		// The group changes; a retry of the first PUT changes nothing back.
		if code, b := s.do(http.MethodPut, "/v1/groups/keyed", map[string]any{"app": shopApp, "members": []string{users[4]}}); code != http.StatusOK {
			t.Fatalf("second PUT: %d %s", code, b)
		}
		code, b := s.do(http.MethodPut, "/v1/groups/keyed", put, "Idempotency-Key", "put-1")
		if code != http.StatusOK || !strings.Contains(string(b), `"size":2`) {
			t.Fatalf("retried PUT: %d %s, want the first answer (2 members)", code, b)
		}
		if code, b := s.do(http.MethodGet, query("/v1/groups/keyed", "app", shopApp), nil); code != http.StatusOK || !strings.Contains(string(b), `"size":1`) {
			t.Fatalf("after the retried PUT: %d %s, want the later group (1 member) untouched", code, b)
		}
		code, b = s.do(http.MethodPut, "/v1/groups/keyed", map[string]any{"app": shopApp, "members": []string{users[0]}}, "Idempotency-Key", "put-1")
		mismatch(t, code, b)

		if code, b := s.do(http.MethodPut, "/v1/groups/keyed", put); code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, b)
		}
		body := msg(shopApp, "", "group-key")
		delete(body, "to")
		body["group"] = "keyed"
		code, b = s.do(http.MethodPost, "/v1/broadcasts", body, "Idempotency-Key", "gb-1")
		var first accepted
		mustJSON(t, b, &first)
		if code != http.StatusAccepted {
			t.Fatalf("group broadcast: %d %s", code, b)
		}
		// Retried after the group is gone: still the first answer.
		if code, b := s.do(http.MethodDelete, query("/v1/groups/keyed", "app", shopApp), nil, "Idempotency-Key", "del-1"); code != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", code, b)
		}
		if code, b := s.do(http.MethodDelete, query("/v1/groups/keyed", "app", shopApp), nil, "Idempotency-Key", "del-1"); code != http.StatusNoContent {
			t.Fatalf("retried DELETE: %d %s, want 204 as the first", code, b)
		}
		code, b = s.do(http.MethodPost, "/v1/broadcasts", body, "Idempotency-Key", "gb-1")
		var again accepted
		mustJSON(t, b, &again)
		if code != http.StatusOK || again.ID != first.ID || again.Recipients != 2 {
			t.Fatalf("retried group broadcast: %d %s, want 200 with %s", code, b, first.ID)
		}
		for _, u := range users[4:6] {
			inbox(t, mock, shopAppID, u, 1)
		}
		time.Sleep(200 * time.Millisecond)
		for _, u := range users[4:6] {
			if n := countMarker(inbox(t, mock, shopAppID, u, 0), "group-key"); n != 1 {
				t.Errorf("%s received the group broadcast %d times, want 1", u, n)
			}
		}
	})
}
