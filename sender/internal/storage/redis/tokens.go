package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/storage"
)

// Tokens are global keys (one per platform app: "wechat/wx…"), each
// touched by single-key commands: tok:<key> (hash t, e), toklock:<key>
// (the fetch lock) and tokfetch:<key> (the fetch times, a sorted set).

func (s *Store) tokKey(key string) string   { return s.prefix + ":tok:" + key }
func (s *Store) lockKey(key string) string  { return s.prefix + ":toklock:" + key }
func (s *Store) fetchKey(key string) string { return s.prefix + ":tokfetch:" + key }

// Token implements storage.Store; storage.ErrNotFound when none is stored.
func (s *Store) Token(ctx context.Context, key string) (string, time.Time, error) {
	if err := s.begin(ctx); err != nil {
		return "", time.Time{}, err
	}
	v, err := s.c.HMGet(ctx, s.tokKey(key), "t", "e").Result()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get token %s: %w", key, classify(err))
	}
	if v[0] == nil {
		// The key names an app, not a secret; the token never appears.
		return "", time.Time{}, fmt.Errorf("get token %s: %w", key, storage.ErrNotFound)
	}
	return str(v[0]), fromMS(num(v[1])), nil
}

// PutToken implements storage.Store.
func (s *Store) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.c.HSet(ctx, s.tokKey(key), "t", token, "e", toMS(expires)).Err()
	if err := s.done(err); err != nil {
		return fmt.Errorf("put token %s: %w", key, err)
	}
	return nil
}

// DeleteToken implements storage.Store: compare and delete, so an
// instance dropping the token it found invalid never drops the fresh one
// another instance has just stored.
func (s *Store) DeleteToken(ctx context.Context, key, token string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.sc.global["deleteToken"].Run(ctx, s.c, []string{s.tokKey(key)}, token).Err()
	if err := s.done(err); err != nil {
		return fmt.Errorf("delete token %s: %w", key, err)
	}
	return nil
}

// LockFetch implements tokens.Coordinator: SET NX PX on the key's fetch
// lock. The lock ends by itself after ttl, so an instance that dies
// holding it stops nobody for longer; release deletes it only while this
// holder still has it.
func (s *Store) LockFetch(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	if err := s.begin(ctx); err != nil {
		return nil, false, err
	}
	me := token()
	ok, err := s.c.SetNX(ctx, s.lockKey(key), me, ttl).Result()
	if err := s.done(err); err != nil {
		return nil, false, fmt.Errorf("lock token fetch %s: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	release := func() {
		rctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		_ = s.sc.global["unlock"].Run(rctx, s.c, []string{s.lockKey(key)}, me).Err()
	}
	return release, true, nil
}

// AdmitFetch implements tokens.Coordinator: the fetch limit and the
// refetch floor count every instance's fetches. It records a fetch at now
// unless limit (0: none) fetches already fall in the window before now;
// then it answers when the oldest of them leaves it. Fetch times are kept
// for keep.
func (s *Store) AdmitFetch(ctx context.Context, key string, now time.Time, limit int, window, keep time.Duration) (time.Time, bool, error) {
	if err := s.begin(ctx); err != nil {
		return time.Time{}, false, err
	}
	keep = max(keep, window, time.Minute)
	v, err := s.sc.global["admitFetch"].Run(ctx, s.c, []string{s.fetchKey(key)}, toMS(now), limit, window.Milliseconds(),
		keep.Milliseconds(), token()).Slice()
	if err := s.done(err); err != nil {
		return time.Time{}, false, fmt.Errorf("admit token fetch %s: %w", key, err)
	}
	if num(v[0]) == 1 {
		return time.Time{}, true, nil
	}
	return fromMS(num(v[1])), false, nil
}

// LastFetch implements tokens.Coordinator: when any instance last began a
// fetch of key's token (zero: none known).
func (s *Store) LastFetch(ctx context.Context, key string) (time.Time, error) {
	if err := s.begin(ctx); err != nil {
		return time.Time{}, err
	}
	z, err := s.c.ZRangeWithScores(ctx, s.fetchKey(key), -1, -1).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return time.Time{}, fmt.Errorf("last token fetch %s: %w", key, classify(err))
	}
	if len(z) == 0 {
		return time.Time{}, nil
	}
	return fromMS(int64(math.Round(z[0].Score))), nil
}
