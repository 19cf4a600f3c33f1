package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
)

// failCmds fails every command named cmd whose key holds part, while
// armed: the step of a sign-in it stands for fails as on a lost Redis.
type failCmds struct {
	cmd, part string
	armed     atomic.Bool
	failed    atomic.Int64
}

func (f *failCmds) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (f *failCmds) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if args := cmd.Args(); f.armed.Load() && len(args) > 1 && strings.EqualFold(cmd.Name(), f.cmd) &&
			strings.Contains(fmt.Sprint(args[1]), f.part) {
			f.failed.Add(1)
			err := &net.OpError{Op: "write", Net: "tcp", Err: errors.New("injected failure")}
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (f *failCmds) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestSessionCapFailsSafe: a sign-in beyond the cap that fails after
// naming the sessions it revokes — their keys not deleted, or deleted
// but not yet out of the key's index — leaves every live session in the
// index (so the next sign-in still counts and revokes it), and the next
// sign-in finishes the work: exactly the cap's newest sessions live and
// indexed.
func TestSessionCapFailsSafe(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := fmt.Sprintf("t%d", prefixes.Add(1))
	s := open(t, srv, redis.Config{Prefix: prefix})
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	hash := func(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint("ops", i))) }
	put := func(i int) error {
		at := now.Add(time.Duration(i) * time.Millisecond)
		return s.PutSession(ctx, hash(i), storage.Session{KeyName: "ops", CSRF: "x", Created: at, Expires: at.Add(time.Hour)}, 2)
	}
	// live answers the sessions of 0..n-1 that are valid, and fails the
	// test for any of them missing from the index.
	live := func(n int) []int {
		t.Helper()
		idx, err := s.Client().ZRange(ctx, prefix+":csessk:ops", 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := range n {
			h := hash(i)
			_, ok, err := s.GetSession(ctx, h, now)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			out = append(out, i)
			if !slices.ContainsFunc(idx, func(m string) bool { return strings.HasPrefix(m, hex.EncodeToString(h[:])+":") }) {
				t.Errorf("session %d is live but not in the key's index %q: no sign-in would revoke it", i, idx)
			}
		}
		return out
	}
	for i := range 2 {
		if err := put(i); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		fail *failCmds
		live []int
	}{
		// The revoked session's key not deleted: still live, so still indexed.
		{"delete the revoked", &failCmds{cmd: "del", part: ":csess:"}, []int{0, 1, 2}},
		// Deleted, then the index not updated: 0 and 1 revoked (the index
		// still named 0), the newest two live.
		{"unindex the revoked", &failCmds{cmd: "zrem", part: ":csessk:"}, []int{2, 3}},
	}
	for n, st := range steps {
		s.Client().AddHook(st.fail)
		st.fail.armed.Store(true)
		err := put(n + 2)
		st.fail.armed.Store(false)
		if err == nil || st.fail.failed.Load() == 0 {
			t.Fatalf("%s: PutSession = %v after %d injected failures; want the failure", st.name, err, st.fail.failed.Load())
		}
		if got := live(n + 3); !slices.Equal(got, st.live) {
			t.Fatalf("after a failure to %s: live %v, want %v", st.name, got, st.live)
		}
	}
	if err := put(4); err != nil {
		t.Fatal(err)
	}
	if got := live(5); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("the next sign-in: live %v, want the newest two, [3 4]", got)
	}
	idx, err := s.Client().ZRange(ctx, prefix+":csessk:ops", 0, -1).Result()
	if err != nil || len(idx) != 2 {
		t.Fatalf("the key's index after the next sign-in: %q, %v; want the two live sessions alone", idx, err)
	}
}
