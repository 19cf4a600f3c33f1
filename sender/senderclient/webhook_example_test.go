package senderclient_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/minipush/minipush/sender/senderclient"
)

// Verify a result webhook on the receiving side. In an http.Handler: read
// the raw body first, verify, then decode; answer 2xx quickly and drop a
// repeat by the event id (Minipush-Event-Id), since a delivery may come
// more than once. The signature is built here by hand to show the scheme
// (docs/webhooks.md#verifying): hex(HMAC-SHA256(secret, "<t>.<body>")).
func ExampleVerifyWebhook() {
	secret := []byte("whsec-example-0123456789")
	body := []byte(`{"id":"msg_0123.1","type":"message.delivered","message":{"id":"msg_0123","status":"delivered"}}`)
	now := time.Unix(1_800_000_000, 0)

	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(now.Unix(), 10) + "." + string(body)))
	header := fmt.Sprintf("t=%d,v1=%s", now.Unix(), hex.EncodeToString(mac.Sum(nil)))

	fmt.Println(senderclient.VerifyWebhook(secret, header, body, now.Add(time.Minute), 0))
	// A POST replayed an hour later, or with another body, is refused.
	err := senderclient.VerifyWebhook(secret, header, body, now.Add(time.Hour), 0)
	fmt.Println(errors.Is(err, senderclient.ErrWebhookSignature), err)
	err = senderclient.VerifyWebhook(secret, header, append(body, ' '), now, 0)
	fmt.Println(err)
	// Output:
	// <nil>
	// true webhook signature: timestamp 1h0m0s from now, more than 5m0s
	// webhook signature: does not match
}
