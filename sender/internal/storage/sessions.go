package storage

import (
	"context"
	"time"
)

// Sessions keeps the web console's sign-in sessions in the deployment's
// storage, so that every sender instance behind a load balancer knows a
// session signed in on another, and a sign-out on one ends it on all
// (sender/internal/console). A Store implements it when it can; the
// console falls back to memory otherwise.
//
// A session is found by the SHA-256 of its cookie's value: the cookie
// itself is never stored, so the stored sessions give nobody a usable
// cookie.
//
// What is stored stays bounded: a session is removed at its expiry (by
// the next put at the latest), and an operator (an API key's name) holds
// at most the puts' perKey live sessions — signing in again and again
// revokes the oldest.
type Sessions interface {
	// PutSession stores s under hash, replacing any session there. It
	// lasts until s.Expires; sessions expired by s.Created (the time of
	// the put) are removed then, a bounded number of them. When perKey
	// > 0, it then revokes the oldest live sessions of s.KeyName (by
	// creation; never s) until perKey are left.
	PutSession(ctx context.Context, hash [32]byte, s Session, perKey int) error
	// GetSession is the session under hash, if one is stored and has not
	// expired by now (ok false otherwise; an error only when the storage
	// could not answer).
	GetSession(ctx context.Context, hash [32]byte, now time.Time) (s Session, ok bool, err error)
	// DeleteSession removes the session under hash (none is no error).
	DeleteSession(ctx context.Context, hash [32]byte) error
}

// Session is one console sign-in: the API key's name (the key itself is
// looked up in the configuration on every request, so a key removed from
// it ends its sessions), the session's CSRF token (not a credential on its
// own: a form needs the cookie too), and when it began and ends. Times
// keep milliseconds.
type Session struct {
	KeyName string
	CSRF    string
	Created time.Time
	Expires time.Time
}
