package platform

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// Options are the settings every platform client takes besides its
// Config. Each platform package names them (wechat.WithClock, …) and says
// what they change there.
type Options struct {
	Now func() time.Time
	// TokenOptions go to the app's token broker (none for platforms
	// without tokens).
	TokenOptions []tokens.Option
}

// Option configures a platform client.
type Option func(*Options)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// WithTokenOptions passes options to the app's token broker (margin, fetch
// hook for metrics, …).
func WithTokenOptions(opts ...tokens.Option) Option {
	return func(o *Options) { o.TokenOptions = append(o.TokenOptions, opts...) }
}

// NewOptions applies opts to the defaults (time.Now).
func NewOptions(opts []Option) Options {
	o := Options{Now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// NewBroker is the app's token broker: key in store, fetched by fetch, on
// the options' clock and with their token options.
func (o Options) NewBroker(key string, store tokens.Store, fetch tokens.FetchFunc) *tokens.Broker {
	brokerOpts := append([]tokens.Option{tokens.WithClock(o.Now)}, o.TokenOptions...)
	return tokens.New(key, store, fetch, brokerOpts...)
}

// WithToken runs fn with the app's token from b. On a token error it drops
// the token (only if still current: concurrent failures refetch once),
// gets a new one and runs fn once more, at once; a second token error is
// returned as it is, with class token.
//
// Past the broker's fetch limit (tokens.FetchLimitError) the app is
// throttled until fetching is allowed again.
func WithToken(ctx context.Context, b *tokens.Broker, fn func(token string) *Error) error {
	token, err := b.Get(ctx)
	if err != nil {
		return fetchLimited(b, err)
	}
	perr := fn(token)
	if perr == nil {
		return nil
	}
	if perr.Class != message.OutcomeToken {
		return perr
	}
	b.Invalidate(ctx, token)
	if token, err = b.Get(ctx); err != nil {
		return fetchLimited(b, err)
	}
	if perr = fn(token); perr != nil {
		return perr
	}
	return nil
}

// fetchLimited turns the broker's fetch limit into throttling of the app;
// other errors pass as they are.
func fetchLimited(b *tokens.Broker, err error) error {
	var le *tokens.FetchLimitError
	if !errors.As(err, &le) {
		return err
	}
	// The broker's key starts with the platform's name ("wechat/wx…").
	name, _, _ := strings.Cut(b.Key(), "/")
	// The limit's window is the sender's own and exact: the app waits it
	// out (a transient throttle's backoff would only ask again too soon).
	return &Error{Platform: name, Code: "token_fetch_limit", Class: message.OutcomeThrottled,
		Reason: reason.RateLimited, Window: true,
		RetryAfter: max(time.Until(le.Until), time.Second), Message: le.Error()}
}

// ErrNoToken: the app holds no access token yet, and the call is not
// worth fetching one (WithCurrentToken).
var ErrNoToken = errors.New("no access token held yet")

// WithCurrentToken runs fn with the token b holds now, never fetching one
// (the template lists: the platforms cap token fetches, and a send's token
// refresh belongs to the send). ErrNoToken when none is held. A token
// error is returned as it is, the token left alone: the next send meets
// it, refreshes it and lists the refresh among its attempts.
func WithCurrentToken(b *tokens.Broker, fn func(token string) *Error) error {
	token, ok := b.Current()
	if !ok {
		return ErrNoToken
	}
	if perr := fn(token); perr != nil {
		return perr
	}
	return nil
}
