// Package platform defines how the sender talks to a mini-program platform:
// a Client per app sends one message and classifies the platform's answer,
// so the dispatcher can decide — deliver, fail, retry, back off the app —
// without knowing any platform's codes. One package per platform
// (platform/wechat, …) implements it against the real API.
package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
)

// Send is one message for the platform.
type Send struct {
	To         string
	TemplateID string
	Data       map[string]string
	Page       string
}

// Result is a successful send.
type Result struct {
	MsgID string // the platform's message id, if it gives one
}

// Client sends through one app. Implementations are safe for concurrent
// use, manage their own access tokens (refreshing once and retrying at once
// on a token error), and never log or return secrets.
type Client interface {
	Send(ctx context.Context, s Send) (Result, error)
	// CheckContent runs the platform's content-security API on texts (the
	// optional check before sending). ErrUnsupported when there is none.
	CheckContent(ctx context.Context, to string, texts []string) (Verdict, error)
}

// Verdict is a content check's judgement.
type Verdict struct {
	Risky bool
	Label string // the platform's label ("20001", "porn", …)
}

// NonBlank is what a content check judges of texts: those that are not
// blank, in order. The platforms refuse empty content, and there is
// nothing in it to judge.
func NonBlank(texts []string) []string {
	var out []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			out = append(out, t)
		}
	}
	return out
}

// ErrUnsupported: the platform has no such API.
var ErrUnsupported = errors.New("not supported by this platform")

// Error is a classified failure. Code is the platform's code as text
// ("43101", "40004/USER_TEMPLATE_ILLEGAL", "http 502", "timeout").
type Error struct {
	Platform string
	Code     string
	Message  string
	Class    message.Outcome // permanent, retryable, throttled or token
	// RetryAfter, when set, is the platform's own hint for throttling.
	RetryAfter time.Duration
	// NotSubscribed: the platform says the user holds no (remaining)
	// subscription for the template (WeChat 43101 and its kin on each
	// platform). The consent ledger learns it (docs/events.md).
	NotSubscribed bool
}

// NotSubscribed reports whether err is the platform saying the user holds
// no (remaining) subscription for the template.
func NotSubscribed(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.NotSubscribed
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s (%s): %s", e.Platform, e.Code, e.Class, e.Message)
}

// Classify returns err's class: the *Error's, or retryable for transport
// errors (timeouts, refused or dropped connections).
func Classify(err error) message.Outcome {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	return message.OutcomeRetryable
}

// HTTPStatusError classifies a non-2xx HTTP answer: 429 throttled, 5xx and
// others retryable (the platforms answer business errors with HTTP 200).
func HTTPStatusError(platformName string, status int) *Error {
	class := message.OutcomeRetryable
	if status == http.StatusTooManyRequests {
		class = message.OutcomeThrottled
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = fmt.Sprintf("unexpected HTTP status %d", status)
	}
	return &Error{Platform: platformName, Code: fmt.Sprintf("http %d", status), Message: msg, Class: class}
}
