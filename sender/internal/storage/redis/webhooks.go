package redis

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Result webhooks: the scripts that change a message's status write its
// events (prelude: whevent) given the app's scope; this file claims,
// records and reads them. A delivery's id starts with its message's id,
// which names its app.

// whScope is the webhook scope as the scripts take it.
type whScope struct {
	apps map[string]bool
	keys string // JSON-encoded API key names, one per line
}

// webhookScope is app's SCOPE argument: "" none, "*" all, else the keys.
func (s *Store) webhookScope(app string) string {
	sc := s.whScope.Load()
	switch {
	case sc == nil:
		return ""
	case sc.apps[app]:
		return "*"
	}
	return sc.keys
}

// SetWebhookScope implements storage.Store. The scope lives in this
// process (every instance sets it from the same config) and goes to the
// scripts with each change.
func (s *Store) SetWebhookScope(ctx context.Context, scope storage.WebhookScope) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	sc := &whScope{apps: map[string]bool{}}
	for _, a := range scope.Apps {
		sc.apps[a] = true
	}
	var keys []string
	for _, k := range scope.APIKeys {
		b, err := json.Marshal(k)
		if err != nil {
			return fmt.Errorf("set webhook scope: %w", err)
		}
		keys = append(keys, string(b))
	}
	sc.keys = strings.Join(keys, "\n")
	s.whScope.Store(sc)
	return nil
}

// deliveryApp finds the app of delivery id through its message.
func (s *Store) deliveryApp(ctx context.Context, id string) (string, error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", storage.ErrNotFound
	}
	return s.appOf(ctx, id[:i])
}

type whAttempt struct {
	At      int64   `json:"at"`
	Status  int     `json:"sc"`
	Error   string  `json:"err,omitempty"`
	Latency float64 `json:"lat"`
	N       int     `json:"n"`
}

// decodeDelivery decodes a delivery's HGETALL.
func decodeDelivery(id string, v any) (message.WebhookDelivery, int64, error) {
	f, _ := v.([]any)
	if len(f) == 0 {
		return message.WebhookDelivery{}, 0, fmt.Errorf("webhook delivery %s: %w", id, storage.ErrNotFound)
	}
	h := map[string]string{}
	for i := 0; i+1 < len(f); i += 2 {
		h[str(f[i])] = str(f[i+1])
	}
	d := message.WebhookDelivery{ID: id, MessageID: h["m"], APIKey: h["ak"], Event: message.WebhookEvent(h["e"]),
		MessageStatus: message.Status(h["ms"]), Code: h["lc"], Status: message.WebhookStatus(h["s"]),
		CreatedAt: fromMS(num(h["c"])), UpdatedAt: fromMS(num(h["u"])), WindowAt: fromMS(num(h["w"])),
		Attempts: []message.WebhookAttempt{}}
	d.Reason = reason.Reason(h["rs"])
	d.AttemptCount = int(num(h["a"]))
	if d.Status == message.WebhookPending {
		d.NextAttemptAt = fromMS(num(h["n"]))
	}
	for line := range strings.Lines(h["l"]) {
		var a whAttempt
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			return message.WebhookDelivery{}, 0, fmt.Errorf("webhook delivery %s: attempt: %w", id, err)
		}
		d.Attempts = append(d.Attempts, message.WebhookAttempt{N: a.N, At: fromMS(a.At), StatusCode: a.Status,
			Error: a.Error, LatencyMS: a.Latency})
	}
	q, _ := strconv.ParseInt(h["q"], 10, 64)
	return d, q, nil
}

// ClaimWebhooks implements storage.Store: app by app.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.WebhookDelivery, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	var out []message.WebhookDelivery
	for _, app := range apps {
		if len(out) >= limit {
			break
		}
		v, err := s.run(ctx, app, "whclaim", toMS(now), toMS(now.Add(lease)), limit-len(out)).Result()
		if err := s.done(err); err != nil {
			return out, fmt.Errorf("claim webhooks: %w", err)
		}
		res, _ := v.([]any)
		for i := 0; i+1 < len(res); i += 2 {
			d, _, err := decodeDelivery(str(res[i]), res[i+1])
			if err != nil {
				return out, fmt.Errorf("claim webhooks: %w", err)
			}
			d.App, d.Attempts = app, nil
			out = append(out, d)
		}
	}
	return out, nil
}

// RecordWebhook implements storage.Store.
func (s *Store) RecordWebhook(ctx context.Context, id string, a message.WebhookAttempt, st message.WebhookStatus, next time.Time) error {
	if !st.Valid() {
		return fmt.Errorf("record webhook %s: invalid status %q", id, st)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	app, err := s.deliveryApp(ctx, id)
	if err != nil {
		return fmt.Errorf("record webhook %s: %w", id, err)
	}
	now := s.now()
	if a.At.IsZero() {
		a.At = now
	}
	if st != message.WebhookPending {
		next = time.Time{}
	}
	b, err := json.Marshal(whAttempt{At: toMS(a.At), Status: a.StatusCode, Error: a.Error, Latency: a.LatencyMS})
	if err != nil {
		return fmt.Errorf("record webhook %s: %w", id, err)
	}
	// The script prepends the number: {"n":N, then the rest.
	b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte(`,"n":0}`))
	_, err = s.write(ctx, app, "whrecord", id, string(st), toMS(next), toMS(now), string(b)+"}")
	return scriptErr("record webhook "+id, err)
}

// WebhookDelivery implements storage.Store.
func (s *Store) WebhookDelivery(ctx context.Context, id string) (message.WebhookDelivery, error) {
	if err := s.begin(ctx); err != nil {
		return message.WebhookDelivery{}, err
	}
	app, err := s.deliveryApp(ctx, id)
	if err != nil {
		return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, err)
	}
	v, err := s.run(ctx, app, "whget", id).Result()
	if err != nil {
		return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, classify(err))
	}
	res, _ := v.([]any)
	if len(res) != 1 {
		return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, storage.ErrNotFound)
	}
	d, _, err := decodeDelivery(id, res[0])
	d.App = app
	return d, err
}

// whCursor is a page's end: the last delivery's score and id.
type whCursor struct {
	Q  int64  `json:"q"`
	ID string `json:"id"`
}

func (c whCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// WebhookDeliveries implements storage.Store: each app's index read from
// the cursor down, merged by score, newest first (ties: the larger id
// first). A message's deliveries are read by their ids.
func (s *Store) WebhookDeliveries(ctx context.Context, f storage.WebhookFilter) ([]message.WebhookDelivery, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	limit := storage.PageSize(f.Limit)
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", fmt.Errorf("list webhook deliveries: status %q: %w", f.Status, storage.ErrNotFound)
	}
	var cur *whCursor
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		var c whCursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
			return nil, "", fmt.Errorf("list webhook deliveries: bad cursor: %w", storage.ErrNotFound)
		}
		cur = &c
	}
	type entry struct {
		d message.WebhookDelivery
		q int64
	}
	var all []entry
	keep := func(d message.WebhookDelivery, q int64) bool {
		if f.Status != "" && d.Status != f.Status {
			return false
		}
		return cur == nil || q < cur.Q || (q == cur.Q && d.ID < cur.ID)
	}
	if f.MessageID != "" {
		app, err := s.appOf(ctx, f.MessageID)
		if err != nil {
			if err == storage.ErrNotFound {
				return []message.WebhookDelivery{}, "", nil
			}
			return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
		}
		v, err := s.run(ctx, app, "msgwh", f.MessageID).Result()
		if err != nil {
			return nil, "", fmt.Errorf("list webhook deliveries: %w", classify(err))
		}
		var ids []any
		for n := num(v); n > 0; n-- {
			ids = append(ids, f.MessageID+"."+strconv.FormatInt(n, 10))
		}
		if len(ids) > 0 {
			v, err = s.run(ctx, app, "whget", ids...).Result()
			if err != nil {
				return nil, "", fmt.Errorf("list webhook deliveries: %w", classify(err))
			}
			res, _ := v.([]any)
			for i, x := range res {
				d, q, err := decodeDelivery(str(ids[i]), x)
				if err != nil {
					continue // pruned
				}
				d.App = app
				if keep(d, q) {
					all = append(all, entry{d, q})
				}
			}
		}
	} else {
		apps, err := s.appList(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
		}
		idx := "whall"
		if f.Status != "" {
			idx = "whst:" + string(f.Status)
		}
		max := "+inf"
		if cur != nil {
			max = strconv.FormatInt(cur.Q, 10)
		}
		for _, app := range apps {
			// Ties with the cursor's score are skipped below: read a few
			// more than a page.
			v, err := s.run(ctx, app, "whlist", idx, max, limit+17).Result()
			if err != nil {
				return nil, "", fmt.Errorf("list webhook deliveries: %w", classify(err))
			}
			res, _ := v.([]any)
			for i := 0; i+1 < len(res); i += 2 {
				d, q, err := decodeDelivery(str(res[i]), res[i+1])
				if err != nil {
					continue
				}
				d.App = app
				if keep(d, q) {
					all = append(all, entry{d, q})
				}
			}
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.q != b.q {
			if a.q > b.q {
				return -1
			}
			return 1
		}
		return strings.Compare(b.d.ID, a.d.ID)
	})
	next := ""
	if len(all) > limit {
		all = all[:limit]
		next = whCursor{Q: all[limit-1].q, ID: all[limit-1].d.ID}.encode()
	}
	out := make([]message.WebhookDelivery, len(all))
	for i, e := range all {
		out[i] = e.d
	}
	return out, next, nil
}

// RedeliverWebhook implements storage.Store.
func (s *Store) RedeliverWebhook(ctx context.Context, id string, now time.Time) (message.WebhookDelivery, error) {
	if err := s.begin(ctx); err != nil {
		return message.WebhookDelivery{}, err
	}
	app, err := s.deliveryApp(ctx, id)
	if err != nil {
		return message.WebhookDelivery{}, fmt.Errorf("redeliver webhook %s: %w", id, err)
	}
	if _, err := s.write(ctx, app, "whredeliver", id, toMS(now)); err != nil {
		return message.WebhookDelivery{}, scriptErr("redeliver webhook "+id, err)
	}
	return s.WebhookDelivery(ctx, id)
}

// WebhookCounts implements storage.Store: two ZCARDs per app.
func (s *Store) WebhookCounts(ctx context.Context) (map[message.WebhookStatus]int, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, fmt.Errorf("count webhook deliveries: %w", err)
	}
	out := map[message.WebhookStatus]int{message.WebhookPending: 0, message.WebhookFailed: 0}
	for _, app := range apps {
		v, err := s.run(ctx, app, "whcounts").Result()
		if err != nil {
			return nil, fmt.Errorf("count webhook deliveries: %w", classify(err))
		}
		res, _ := v.([]any)
		if len(res) == 2 {
			out[message.WebhookPending] += int(num(res[0]))
			out[message.WebhookFailed] += int(num(res[1]))
		}
	}
	return out, nil
}
