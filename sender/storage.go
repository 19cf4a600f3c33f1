package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// redisStartWait is how long a starting sender waits for Redis to answer
// (in compose, the sender may start before Redis listens).
const redisStartWait = 30 * time.Second

// openStore opens the configured backend. shared is the Redis store when
// the deployment shares one (its rate limits and pauses go there too).
// poll is the dispatcher's poll interval: a pause in claims several times
// longer is an interruption to the Redis store (Config.ResumeGap).
func openStore(ctx context.Context, st config.Storage, poll time.Duration, log *slog.Logger) (storage.Store, *redis.Store, error) {
	if st.Driver != config.DriverRedis {
		var opts []sqlite.Option
		if st.Sync == "full" {
			opts = append(opts, sqlite.WithSynchronousFull())
		}
		if st.Initialize {
			opts = append(opts, sqlite.WithInitialize())
		}
		s, err := sqlite.Open(ctx, st.Path, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("open storage %s: %w", st.Path, err)
		}
		return s, nil, nil
	}
	cfg := redis.Config{URL: st.URL, Password: st.Password, Prefix: st.Prefix, Cluster: st.Cluster,
		RequireAOFAlways: st.RequireAOFAlways, WaitReplicas: st.WaitReplicas, WaitTimeout: st.WaitTimeout,
		ResumeGap: max(redis.DefaultResumeGap, 4*poll), Log: log.With("part", "storage")}
	deadline := time.Now().Add(redisStartWait)
	for {
		s, err := redis.Open(ctx, cfg)
		if err == nil {
			return s, s, nil
		}
		// Only "not reachable yet" is waited out; a server refused for its
		// configuration (or a bad URL) stops the start at once. The URL is
		// named without its password.
		if !errors.Is(err, storage.ErrUnavailable) || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("open storage %s: %w", st.Where(), err)
		}
		log.Warn("redis not reachable yet: retrying", "storage", st.Where(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
