package redis

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/storage"
)

var _ storage.Sessions = (*Store)(nil)

// Console sessions are global keys, one per session:
// <prefix>:csess:<hex SHA-256 of the cookie's value>, a hash (k: the API
// key's name, c: the CSRF token, cr and e: created and expires, Unix ms)
// that Redis removes at its expiry (PEXPIREAT). An API key's sessions are
// also in <prefix>:csessk:<key name>, a zset (score the creation ms,
// member the hex hash, ':' and the expiry ms) that expires with its last
// session, for the cap on live sessions per key. Single-key commands and
// scripts only (the keys are in different cluster slots).

func init() {
	// sessCap: KEYS[1] a key's session index; ARGV hex hash, created,
	// expires, now (ms), perKey. Adds the session (replacing an entry of
	// the same hash), drops the entries ended by now, and answers the
	// entries (members) of the oldest live ones beyond perKey (never the
	// one added), left in the index: the caller deletes their keys, then
	// removes them from the index (ZREM). A failure between the two leaves
	// a revoked session still indexed — counted, named again by the next
	// sign-in — never a live one missing from the index, which nothing
	// would revoke until it expires. The index holds at most perKey live
	// entries once the caller is done, and the ended ones until the next
	// put or its expiry.
	globalSrc["sessCap"] = `
local idx, h, now, per = KEYS[1], ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local mine = h .. ':' .. ARGV[3]
local live, last = {}, tonumber(ARGV[3])
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local e = tonumber(string.sub(m, 66)) or 0
  if e <= now or (string.sub(m, 1, 64) == h and m ~= mine) then
    redis.call('ZREM', idx, m)
  elseif m ~= mine then
    live[#live+1] = m
    if e > last then last = e end
  end
end
local out = {}
if last <= now then
  redis.call('DEL', idx)
  return out
end
if tonumber(ARGV[3]) > now then redis.call('ZADD', idx, tonumber(ARGV[2]), mine) end
if per > 0 then
  for i = 1, #live - (per - 1) do
    out[#out+1] = live[i]
  end
end
redis.call('PEXPIREAT', idx, last)
return out
`
}

func (s *Store) sessKey(hash [32]byte) string { return s.sessKeyHex(hex.EncodeToString(hash[:])) }

// sessKeyHex is the key of the session whose hash is h in hex (as the
// index's members name it).
func (s *Store) sessKeyHex(h string) string { return s.prefix + ":csess:" + h }

// sessIndexKey is the index of key name's sessions.
func (s *Store) sessIndexKey(name string) string { return s.prefix + ":csessk:" + name }

// PutSession implements storage.Sessions: the hash and its expiry in one
// MULTI on its key, then the key's index (script sessCap, which names the
// sessions beyond the cap), the revoked sessions' keys deleted, and only
// then the revoked ones removed from the index — in that order, so that a
// failure at any step leaves no live session out of the index. Concurrent
// sign-ins of one key may name the same victims: both deletes and
// removals are idempotent.
func (s *Store) PutSession(ctx context.Context, hash [32]byte, ss storage.Session, perKey int) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	key := s.sessKey(hash)
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "k", ss.KeyName, "c", ss.CSRF, "cr", toMS(ss.Created), "e", toMS(ss.Expires))
		p.PExpireAt(ctx, key, ss.Expires)
		return nil
	})
	if err := s.done(err); err != nil {
		return fmt.Errorf("put console session: %w", err)
	}
	v, err := s.sc.global["sessCap"].Run(ctx, s.c, []string{s.sessIndexKey(ss.KeyName)},
		hex.EncodeToString(hash[:]), toMS(ss.Created), toMS(ss.Expires), toMS(ss.Created), perKey).StringSlice()
	if errors.Is(err, goredis.Nil) {
		err = nil // an empty answer: none revoked
	}
	if err := s.done(err); err != nil {
		return fmt.Errorf("put console session: index: %w", err)
	}
	if len(v) == 0 {
		return nil
	}
	members := make([]any, len(v))
	for i, m := range v {
		h, _, _ := strings.Cut(m, ":")
		if err := s.done(s.c.Del(ctx, s.sessKeyHex(h)).Err()); err != nil {
			return fmt.Errorf("put console session: revoke the oldest: %w", err)
		}
		members[i] = m
	}
	if err := s.done(s.c.ZRem(ctx, s.sessIndexKey(ss.KeyName), members...).Err()); err != nil {
		return fmt.Errorf("put console session: unindex the revoked: %w", err)
	}
	return nil
}

// GetSession implements storage.Sessions. The stored expiry is checked
// against now as well as by Redis's own clock.
func (s *Store) GetSession(ctx context.Context, hash [32]byte, now time.Time) (storage.Session, bool, error) {
	if err := s.begin(ctx); err != nil {
		return storage.Session{}, false, err
	}
	v, err := s.c.HMGet(ctx, s.sessKey(hash), "k", "c", "cr", "e").Result()
	if err != nil {
		return storage.Session{}, false, fmt.Errorf("get console session: %w", classify(err))
	}
	if v[0] == nil || v[1] == nil || v[3] == nil {
		return storage.Session{}, false, nil
	}
	ss := storage.Session{KeyName: str(v[0]), CSRF: str(v[1]), Created: fromMS(num(v[2])), Expires: fromMS(num(v[3]))}
	if !now.Before(ss.Expires) {
		return storage.Session{}, false, nil
	}
	return ss, true, nil
}

// DeleteSession implements storage.Sessions.
func (s *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	key := s.sessKey(hash)
	v, err := s.c.HMGet(ctx, key, "k", "e").Result()
	if err != nil {
		return fmt.Errorf("delete console session: %w", classify(err))
	}
	if err := s.done(s.c.Del(ctx, key).Err()); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	if v[0] != nil && v[1] != nil { // out of its key's index too: it no longer counts
		member := hex.EncodeToString(hash[:]) + ":" + str(v[1])
		if err := s.done(s.c.ZRem(ctx, s.sessIndexKey(str(v[0])), member).Err()); err != nil {
			return fmt.Errorf("delete console session: %w", err)
		}
	}
	return nil
}
