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
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
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
	// Reason is the error's meaning in the sender's vocabulary ("" lets
	// ReasonOf derive it from the class and code).
	Reason reason.Reason
	// RetryAfter, when set, is the platform's own hint for throttling.
	RetryAfter time.Duration
	// Window: RetryAfter is the platform's real window (a daily quota), to
	// be waited out; otherwise a throttle is transient and the app pauses
	// for the sender's throttle backoff.
	Window bool
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

// ReasonOf is err's reason in the sender's vocabulary: the *Error's own,
// else one derived from its class and code (the failures of the transport
// and of reading answers, which no code table lists); an error that is not
// an *Error is the network's.
func ReasonOf(err error) reason.Reason {
	var pe *Error
	if !errors.As(err, &pe) {
		return reason.Network
	}
	switch {
	case pe.Reason != "":
		return pe.Reason
	case pe.NotSubscribed:
		return reason.NotSubscribed
	}
	switch pe.Code {
	case "timeout", "network":
		return reason.Network
	case "malformed":
		return reason.PlatformUnavailable
	}
	switch pe.Class {
	case message.OutcomeToken:
		return reason.TokenInvalid
	case message.OutcomeCredentials:
		return reason.CredentialsInvalid
	case message.OutcomeThrottled:
		return reason.RateLimited
	case message.OutcomeRejected:
		return reason.RiskyContent
	case message.OutcomeRetryable:
		return reason.PlatformUnavailable
	}
	return reason.PlatformError
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
	class, why := message.OutcomeRetryable, reason.PlatformUnavailable
	if status == http.StatusTooManyRequests {
		class, why = message.OutcomeThrottled, reason.RateLimited
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = fmt.Sprintf("unexpected HTTP status %d", status)
	}
	return &Error{Platform: platformName, Code: fmt.Sprintf("http %d", status), Message: msg, Class: class, Reason: why}
}

// Template is one of an app's message templates as its platform lists it
// (WeChat's gettemplate, Douyin's query_app_tpl, Baidu's templatelist).
type Template struct {
	ID    string
	Title string
	// Keywords are the data keys a send of the template carries, in the
	// platform's order: WeChat's typed keys ("thing1"), Douyin's keyword
	// names, Baidu's "keyword1"….
	Keywords []string
	// Enums (WeChat) are the values an enumerated keyword allows.
	Enums map[string][]string
}

// keywordPlaceholder matches a keyword in a template's content text, as
// WeChat and Baidu write it: "物品名称{{thing1.DATA}}".
var keywordPlaceholder = regexp.MustCompile(`\{\{\s*([^{}.\s]+)\.DATA\s*\}\}`)

// ContentKeywords are the keyword keys of a template's content text, in
// order, each once.
func ContentKeywords(content string) []string {
	var keys []string
	for _, m := range keywordPlaceholder.FindAllStringSubmatch(content, -1) {
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	return keys
}
