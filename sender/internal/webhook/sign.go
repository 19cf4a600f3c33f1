package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Headers of every webhook POST (docs/webhooks.md#headers).
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>" in
	// the style of Stripe's Stripe-Signature: v1 is the HMAC-SHA256, keyed
	// with the webhook's secret, of the decimal timestamp, a dot and the
	// raw body.
	HeaderSignature = "Minipush-Signature"
	// HeaderEventID is the event's id (also the body's "id"): a receiver
	// de-duplicates by it, since a delivery may come more than once.
	HeaderEventID = "Minipush-Event-Id"
	// HeaderEvent is the event type (message.delivered, …).
	HeaderEvent = "Minipush-Event"
	// HeaderAttempt is the attempt's number, 1 for the first.
	HeaderAttempt = "Minipush-Attempt"
)

// Sign returns the Minipush-Signature value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
