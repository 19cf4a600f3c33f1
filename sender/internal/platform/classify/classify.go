// Package classify turns a platform's own error codes into
// *platform.Error values the dispatcher acts on: a rule table per API maps
// each code to a class (permanent, retryable, throttled, token), a reason
// from the sender's vocabulary (package reason) and, for throttling, how
// long the app should back off.
//
// The tables themselves — which code means what — stay in each platform's
// codes.go; this package holds what the tables are made of and the
// back-off hints computed when an error is classified.
package classify

import (
	"strconv"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Rule is how one code is handled: its class, its reason, and for
// throttling how long the app should back off (0: the dispatcher's own
// backoff).
type Rule struct {
	Class      message.Outcome
	RetryAfter time.Duration
	// Reason is the code's meaning in the sender's vocabulary.
	Reason reason.Reason
	// Window marks a throttle whose RetryAfter is the platform's real
	// window (a daily quota resets at the platform's midnight): the app
	// waits it out. Other throttles are transient, and the app pauses for
	// the sender's delivery.throttle_backoff.
	Window bool
	// NotSubscribed marks the platform's not-subscribed codes: the
	// consent ledger learns from them.
	NotSubscribed bool
}

// Because is r with another reason: Permanent.Because(reason.InvalidRecipient).
func (r Rule) Because(why reason.Reason) Rule {
	r.Reason = why
	return r
}

// untilMidnight is a hint resolved when an error is classified, not
// written in a table.
const untilMidnight time.Duration = -1

// The rules the tables share. Values, to be used as constants.
var (
	// Permanent: the platform refused this message for good. Its reason
	// says why, so the tables use the named rules below (InvalidRecipient,
	// …) or Permanent.Because(…).
	Permanent = Rule{Class: message.OutcomePermanent, Reason: reason.PlatformError}
	// Retryable: busy, or a failure of the platform's own; retried with
	// backoff.
	Retryable = Rule{Class: message.OutcomeRetryable, Reason: reason.PlatformUnavailable}
	// Token: the access token was refused; the client refetches once.
	Token = Rule{Class: message.OutcomeToken, Reason: reason.TokenInvalid}
	// Credentials marks an app-level configuration problem: a wrong
	// secret or key, an unknown app id, an IP not whitelisted, a
	// capability not granted, a wrong base URL. No retry of the message
	// can succeed, and retrying would keep calling the token endpoint,
	// whose quota is small (issue 9: a wrong secret was tried 8 times per
	// message). So the message fails at once with the platform's reason
	// and the app is marked unhealthy (/readyz, minipush_app_healthy)
	// until a fetch or send with its credentials succeeds again; an
	// operator fixes the configuration and redrives the dead letters.
	Credentials = Rule{Class: message.OutcomeCredentials, Reason: reason.CredentialsInvalid}
	// NotSubscribed: the user holds no (remaining) subscription for the
	// template — refused, cancelled or spent. Permanent for the message
	// (the same send gets the same answer until the user accepts again),
	// and what the consent ledger learns from.
	NotSubscribed = Rule{Class: message.OutcomePermanent, Reason: reason.NotSubscribed, NotSubscribed: true}
	// Daily: a daily quota, throttled until the next Beijing midnight, when
	// the platforms' days start. The app waits the window out (it shows
	// paused in GET /v1/apps/{name}, and an operator may resume it).
	Daily = Rule{Class: message.OutcomeThrottled, RetryAfter: untilMidnight, Reason: reason.QuotaExceeded, Window: true}

	// Permanent failures, by what is wrong.
	InvalidRecipient = Permanent.Because(reason.InvalidRecipient)
	InvalidTemplate  = Permanent.Because(reason.InvalidTemplate)
	InvalidData      = Permanent.Because(reason.InvalidData)
	InvalidRequest   = Permanent.Because(reason.InvalidRequest)
	RiskyContent     = Permanent.Because(reason.RiskyContent)
	NotPermitted     = Permanent.Because(reason.NotPermitted)
)

// Throttled is a transient throttle: the app pauses for the sender's
// delivery.throttle_backoff; hint is the platform's own wait (kept on the
// error for the record, not waited out).
func Throttled(hint time.Duration) Rule {
	return Rule{Class: message.OutcomeThrottled, RetryAfter: hint, Reason: reason.RateLimited}
}

// Window is a throttle the app waits out: the platform's window of d
// (an administrator's 24 hours, a quota period).
func Window(d time.Duration, why reason.Reason) Rule {
	return Rule{Class: message.OutcomeThrottled, RetryAfter: d, Reason: why, Window: true}
}

// unknown is the rule of a code no table lists: retryable, since an
// unknown code is more likely new than fatal and the retry budget bounds
// it, with the reason that says the sender did not know it.
var unknown = Rule{Class: message.OutcomeRetryable, Reason: reason.PlatformError}

// Lookup is code's rule in rules. A code not listed is retryable: an
// unknown code is more likely new than fatal, and the retry budget bounds
// it.
func Lookup[C comparable](rules map[C]Rule, code C) Rule {
	if r, ok := rules[code]; ok {
		return r
	}
	return unknown
}

// Classifier makes the errors of one client.
type Classifier struct {
	Platform string
	// Word names a code in an error the platform gave no text for
	// ("errcode 45009").
	Word string
	// Scrubber cleans the platform's text, which may echo a credential.
	Scrubber call.Scrubber
	Options  platform.Options // the clock
}

// Error is the error of code (as text), handled by r, with the platform's
// text msg.
func (c Classifier) Error(r Rule, code, msg string) *platform.Error {
	e := &platform.Error{Platform: c.Platform, Code: code, Message: c.Scrubber.Scrub(msg), Class: r.Class,
		Reason: r.Reason, Window: r.Window, NotSubscribed: r.NotSubscribed}
	switch r.RetryAfter {
	case 0:
	case untilMidnight:
		e.RetryAfter = UntilBeijingMidnight(c.Options.Now())
	default:
		e.RetryAfter = r.RetryAfter
	}
	if e.Message == "" {
		e.Message = c.Word + " " + code
	}
	return e
}

// Code is the error of a numeric code, by its rule in rules.
func Code[C ~int64](c Classifier, rules map[C]Rule, code C, msg string) *platform.Error {
	return c.Error(Lookup(rules, code), strconv.FormatInt(int64(code), 10), msg)
}

// beijing is the zone of the platforms' days (China has no daylight
// saving). That their daily quotas reset at Beijing midnight is
// UNCONFIRMED (the docs say "per day"); the mock counts days the same way.
var beijing = time.FixedZone("CST", 8*60*60)

// UntilBeijingMidnight is the time from now to the next midnight in
// Beijing, at least a minute (a quota reset is not exact to the second).
func UntilBeijingMidnight(now time.Time) time.Duration {
	now = now.In(beijing)
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, beijing)
	return max(next.Sub(now), time.Minute)
}
