// Package reason is the sender's one error vocabulary: why a message did
// not reach (or has not yet reached) its user, in words a caller can branch
// on whatever the platform. Every failed, rejected or cancelled message
// carries one of these next to the platform's raw code and message, and
// every platform client's code table (sender/internal/platform/<platform>/
// codes.go) maps each code it knows to one (issue 11: "43101",
// "40004/USER_NOT_SUBSCRIBED", "28014043", "100200110" and "4007" are all
// not_subscribed).
//
// The list is part of the API's contract: it is the enum of `reason` in
// sender/internal/openapi/sender.yaml (a test holds the two together) and
// the reason table of the README.
package reason

// Reason says why a message ended without delivery, or why its last
// attempt failed.
type Reason string

// The vocabulary.
const (
	// NotSubscribed: the user holds no (remaining) subscription for the
	// template — never accepted, refused, cancelled or used up.
	NotSubscribed Reason = "not_subscribed"
	// InvalidRecipient: the recipient is not a user of the app.
	InvalidRecipient Reason = "invalid_recipient"
	// InvalidTemplate: the template is not the app's (or not approved), or
	// the data's keywords are not the template's.
	InvalidTemplate Reason = "invalid_template"
	// InvalidData: a value breaks its keyword's rule, or the page is
	// refused.
	InvalidData Reason = "invalid_data"
	// InvalidRequest: the platform refused the request's form (an empty
	// body, a wrong method or parameter the sender builds itself): a fault
	// of the sender, or a platform rule it does not know.
	InvalidRequest Reason = "invalid_request"
	// RiskyContent: a content check (the platform's, or its answer to the
	// send) judged the content risky.
	RiskyContent Reason = "risky_content"
	// NotPermitted: the platform does not allow this send: the capability
	// or template is banned, or the user did not grant what it needs.
	NotPermitted Reason = "not_permitted"
	// QuotaExceeded: the app's quota for the period (a day) is used up;
	// it resets when the platform's window ends.
	QuotaExceeded Reason = "quota_exceeded"
	// RateLimited: the platform throttled the app (per-second or
	// per-minute caps), or the sender's own token-fetch limit was reached.
	RateLimited Reason = "rate_limited"
	// TokenInvalid: the platform kept refusing the app's access token after
	// a refresh.
	TokenInvalid Reason = "token_invalid"
	// CredentialsInvalid: the platform refused the app's credentials or
	// configuration (secret, key, app id, IP whitelist, base URL).
	CredentialsInvalid Reason = "credentials_invalid"
	// SignatureInvalid: the platform's answer failed its signature check
	// (Alipay signs every answer).
	SignatureInvalid Reason = "signature_invalid"
	// PlatformUnavailable: the platform answered busy, a 5xx, or an answer
	// the sender could not read.
	PlatformUnavailable Reason = "platform_unavailable"
	// PlatformError: the platform refused with a code the sender does not
	// know.
	PlatformError Reason = "platform_error"
	// Network: the platform could not be reached (refused or dropped
	// connection, timeout).
	Network Reason = "network"
	// Cancelled: an operator cancelled the message before it was sent.
	Cancelled Reason = "cancelled"
	// AppNotConfigured: the message's app is no longer in the sender's
	// configuration.
	AppNotConfigured Reason = "app_not_configured"
	// Duplicate: the app's dedup window (or the message's own) already
	// holds a message of the same user, template and dedup key: the later
	// one is refused before any send, with duplicate_of naming the first
	// (docs/campaigns.md). Not an idempotency key's retry: that answers
	// the first message itself.
	Duplicate Reason = "duplicate"
	// FrequencyCap: the user already got the app's cap of messages for the
	// period (a day, a week, in the app's time zone), optionally of the
	// template's category (docs/campaigns.md).
	FrequencyCap Reason = "frequency_cap"
)

// Entry is one reason with what it means and whether resending the same
// message can help.
type Entry struct {
	Reason Reason
	// Meaning says what happened, for people.
	Meaning string
	// Action is what a caller or operator does about it.
	Action string
}

// All lists the vocabulary in the order the documentation shows it.
var All = []Entry{
	{NotSubscribed, "the user holds no (remaining) subscription for the template", "ask the user to subscribe again; do not resend until they do"},
	{InvalidRecipient, "the recipient is not a user of the app", "fix the recipient id"},
	{InvalidTemplate, "the template is not the app's, or the data's keywords are not the template's", "fix the template id or the keywords"},
	{InvalidData, "a value breaks its keyword's rule, or the page is refused", "fix the named value or page"},
	{InvalidRequest, "the platform refused the form of the request the sender built", "report it: a sender fault or an unknown platform rule"},
	{RiskyContent, "a content check judged the content risky", "change the content"},
	{NotPermitted, "the platform does not allow this send (capability or template banned, user permission missing)", "check the app's capabilities in the platform's console"},
	{QuotaExceeded, "the app's quota for the period is used up", "wait for the window to end, or resume the app (POST /v1/apps/{name}/resume)"},
	{RateLimited, "the platform throttled the app", "nothing: the sender backs off and retries"},
	{TokenInvalid, "the platform kept refusing the app's access token", "redrive; check that no other service fetches the app's tokens"},
	{CredentialsInvalid, "the platform refused the app's credentials or configuration", "fix the app's secret, key, app id or IP whitelist, then redrive"},
	{SignatureInvalid, "the platform's answer failed its signature check", "check the app's platform public key"},
	{PlatformUnavailable, "the platform answered busy, a 5xx or an unreadable answer", "nothing: retried with backoff; redrive dead letters later"},
	{PlatformError, "the platform answered a code the sender does not know", "read the code and message; retried with backoff"},
	{Network, "the platform could not be reached", "nothing: retried with backoff; check the network if it lasts"},
	{Cancelled, "an operator cancelled the message", "redrive it to send it after all"},
	{AppNotConfigured, "the message's app is no longer configured", "configure the app again, then redrive"},
	{Duplicate, "a message of the same user, template and dedup key was accepted within the dedup window (duplicate_of names it)", "nothing: the user has it already; send with another dedup key if it is really new"},
	{FrequencyCap, "the user reached the app's frequency cap for the period", "send later, or mark it urgent only if it really is; on_exceed: hold holds it to the next period instead"},
}

// Valid reports whether r is in the vocabulary.
func (r Reason) Valid() bool {
	for _, e := range All {
		if e.Reason == r {
			return true
		}
	}
	return false
}

// Names lists the vocabulary's reasons as strings, in order.
func Names() []string {
	out := make([]string, len(All))
	for i, e := range All {
		out[i] = string(e.Reason)
	}
	return out
}
