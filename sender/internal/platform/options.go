package platform

import (
	"context"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// Options are the settings every platform client takes besides its
// Config. Each platform package names them (wechat.WithClock, …) and says
// what they change there.
type Options struct {
	Now func() time.Time
	// CredentialsBackoff is the RetryAfter of configuration errors (wrong
	// secret or key, capability not granted, …): long enough not to hammer
	// the platform with calls that cannot succeed, short enough that a fixed
	// configuration takes effect soon.
	CredentialsBackoff time.Duration
	// TokenOptions go to the app's token broker (none for platforms
	// without tokens).
	TokenOptions []tokens.Option
}

// Option configures a platform client.
type Option func(*Options)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// WithCredentialsBackoff sets the RetryAfter of configuration errors.
func WithCredentialsBackoff(d time.Duration) Option {
	return func(o *Options) { o.CredentialsBackoff = d }
}

// WithTokenOptions passes options to the app's token broker (margin, fetch
// hook for metrics, …).
func WithTokenOptions(opts ...tokens.Option) Option {
	return func(o *Options) { o.TokenOptions = append(o.TokenOptions, opts...) }
}

// NewOptions applies opts to the defaults: time.Now and credentialsBackoff.
func NewOptions(credentialsBackoff time.Duration, opts []Option) Options {
	o := Options{Now: time.Now, CredentialsBackoff: credentialsBackoff}
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
func WithToken(ctx context.Context, b *tokens.Broker, fn func(token string) *Error) error {
	token, err := b.Get(ctx)
	if err != nil {
		return err
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
		return err
	}
	if perr = fn(token); perr != nil {
		return perr
	}
	return nil
}
