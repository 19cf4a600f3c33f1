package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

var _ storage.Retainer = (*Store)(nil)

// PruneMessages implements storage.Retainer: script pruneMessages on each
// app's slot until limit messages are deleted, then their global id keys.
func (s *Store) PruneMessages(ctx context.Context, status message.Status, before time.Time, limit int) (int, error) {
	switch status {
	case message.StatusDelivered, message.StatusFailed, message.StatusRejected, message.StatusCancelled:
	default:
		return 0, fmt.Errorf("prune messages: status %q: only delivered, failed, rejected and cancelled messages are pruned", status)
	}
	if limit <= 0 {
		return 0, nil
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune messages: %w", err)
	}
	n := 0
	for _, app := range apps {
		v, err := s.run(ctx, app, "pruneMessages", string(status), toMS(before), limit-n).Result()
		if err := s.done(err); err != nil {
			return n, fmt.Errorf("prune messages: %w", err)
		}
		ids, _ := v.([]any)
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.midKey(str(id))
		}
		s.unreserve(keys)
		if n += len(ids); n >= limit {
			break
		}
	}
	return n, nil
}
