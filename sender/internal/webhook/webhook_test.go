package webhook_test

import (
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/webhook"
	"github.com/minipush/minipush/sender/senderclient"
)

// Backoff doubles from BackoffBase up to BackoffMax, and jitter takes at
// most half of it off.
func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		jitter   float64
		n        int
		min, max time.Duration
	}{
		{0, 1, 5 * time.Second, 5 * time.Second}, // half of 10s
		{0.999, 1, 9900 * time.Millisecond, 10 * time.Second},
		{0, 2, 10 * time.Second, 10 * time.Second},
		{0, 3, 20 * time.Second, 20 * time.Second},
		{0, 30, 30 * time.Minute, 30 * time.Minute}, // capped at an hour
		{0.999, 30, 59 * time.Minute, time.Hour},
	} {
		d := webhook.New(webhook.Config{BackoffBase: 10 * time.Second, BackoffMax: time.Hour,
			Jitter: func() float64 { return tc.jitter }})
		if got := d.Backoff(tc.n); got < tc.min || got > tc.max {
			t.Errorf("Backoff(%d) with jitter %v = %s, want %s..%s", tc.n, tc.jitter, got, tc.min, tc.max)
		}
	}
}

// Sign is what the documented verification (senderclient.VerifyWebhook)
// accepts, and only for the same secret, body and a fresh timestamp.
func TestSignVerifies(t *testing.T) {
	t.Parallel()
	secret, body := []byte("0123456789abcdef"), []byte(`{"id":"msg_1.1"}`)
	now := time.Now()
	h := webhook.Sign(secret, now, body)
	if err := senderclient.VerifyWebhook(secret, h, body, now, 0); err != nil {
		t.Fatalf("Verify(Sign) = %v", err)
	}
	for name, err := range map[string]error{
		"other secret": senderclient.VerifyWebhook([]byte("another-secret-xx"), h, body, now, 0),
		"other body":   senderclient.VerifyWebhook(secret, h, []byte(`{"id":"msg_1.2"}`), now, 0),
		"stale":        senderclient.VerifyWebhook(secret, h, body, now.Add(6*time.Minute), 0),
		"future":       senderclient.VerifyWebhook(secret, h, body, now.Add(-6*time.Minute), 0),
		"no header":    senderclient.VerifyWebhook(secret, "", body, now, 0),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
