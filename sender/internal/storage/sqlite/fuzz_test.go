package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// FuzzListCursor: the cursor comes from an API caller. Any string must give
// either a page of known messages, newest first, or ErrNotFound — never a
// panic or another error.
func FuzzListCursor(f *testing.F) {
	s := openStore(f, filepath.Join(f.TempDir(), "minipush.db"))
	ctx := context.Background()
	var all []string // newest first
	for i := range 30 {
		out, _, err := s.Enqueue(ctx, []message.Message{testMsg("app1", fmt.Sprint("u", i))})
		if err != nil {
			f.Fatal(err)
		}
		all = append([]string{out[0].ID}, all...)
	}
	_, next, err := s.List(ctx, storage.Filter{Limit: 7})
	if err != nil || next == "" {
		f.Fatalf("List: %q, %v", next, err)
	}
	for _, seed := range []string{next, "", "AAAAAAAAAAA", "_________w8", "AAAAAAAAAAE", "garbage", "%00", "AAAAAAAAAAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		msgs, _, err := s.List(ctx, storage.Filter{Limit: 10, Cursor: cursor})
		if err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("cursor %q: %v, want ErrNotFound", cursor, err)
			}
			return
		}
		if len(msgs) > 10 {
			t.Fatalf("cursor %q: %d messages > limit", cursor, len(msgs))
		}
		// A page is a run of consecutive messages in newest-first order.
		if len(msgs) == 0 {
			return
		}
		i := slices.Index(all, msgs[0].ID)
		if i < 0 || i+len(msgs) > len(all) || !slices.Equal(ids(msgs), all[i:i+len(msgs)]) {
			t.Fatalf("cursor %q: page %v is not a run of %v", cursor, ids(msgs), all)
		}
	})
}

func ids(ms []message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
