package redis

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/storage"
)

var _ storage.Sessions = (*Store)(nil)

// Console sessions are global keys, one per session:
// <prefix>:csess:<hex SHA-256 of the cookie's value>, a hash (k: the API
// key's name, c: the CSRF token, cr and e: created and expires, Unix ms)
// that Redis removes at its expiry (PEXPIREAT). Single-key commands only.

func (s *Store) sessKey(hash [32]byte) string {
	return s.prefix + ":csess:" + hex.EncodeToString(hash[:])
}

// PutSession implements storage.Sessions: the hash and its expiry in one
// MULTI on its key.
func (s *Store) PutSession(ctx context.Context, hash [32]byte, ss storage.Session) error {
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
	if err := s.done(s.c.Del(ctx, s.sessKey(hash)).Err()); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}
