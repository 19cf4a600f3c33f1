// Package reconcile compares what a load run sent with what came out the
// other end: the mock's inbox (found by each message's marker) and the
// sender's view of every message's final status. It is pure: the loadtest
// package gathers the inputs over HTTP and hands them over.
//
// The rules (docs/loadtest.md):
//
//   - delivered: messages that should reach a user and are in the inbox;
//   - lost: messages that should reach a user and are not in the inbox (or,
//     without an inbox, that the sender does not report delivered) — whatever
//     the sender says about them, which is reported alongside;
//   - duplicated: extra copies in the inbox of one message (marker and
//     recipient), whether it should have been delivered or not;
//   - unexpected: inbox messages of this run that should not be there (a
//     refused or no-grant message that was delivered anyway); a deliverable
//     message whose request got no answer (a timeout) may or may not be
//     delivered: found in the inbox it counts as unconfirmed delivered, not
//     unexpected (the missing answer is already an error);
//   - rejected: requests refused with the expected rule; rejections missed:
//     requests that should have been refused and were not, or for another
//     rule;
//   - pending: accepted messages the sender has not finished when the drain
//     ended; status mismatch: finished with another status or code than
//     expected.
package reconcile

import (
	"maps"
	"slices"
	"strings"
)

// Key names one message to one recipient: a broadcast's copies share a
// marker and differ in recipient.
type Key struct {
	Marker string
	OpenID string
}

func (k Key) String() string { return k.Marker + "→" + k.OpenID }

// Message is one accepted message and what should become of it.
type Message struct {
	Key Key
	// Deliver: it should land in the inbox exactly once.
	Deliver bool
	// WantStatus and WantCode are the sender's expected final status and
	// platform code ("delivered", or "failed" with "43101"); empty when
	// the target has no statuses (the mock directly).
	WantStatus string
	WantCode   string
}

// Refusal is one request that should have been refused.
type Refusal struct {
	WantRule string
	// GotRules are the rules (or platform codes) the target answered;
	// Accepted is set when it accepted the request instead.
	GotRules []string
	Accepted bool
}

// Status is the sender's view of one message.
type Status struct {
	Status string // queued, sending, retrying, delivered, failed, rejected
	Code   string // last platform code
}

// Final reports whether the sender is done with the message.
func (s Status) Final() bool {
	return s.Status == "delivered" || s.Status == "failed" || s.Status == "rejected"
}

// Input is everything reconciliation looks at.
type Input struct {
	// Accepted are the messages the target accepted (one per recipient).
	Accepted []Message
	// Refusals are the requests that should have been refused.
	Refusals []Refusal
	// Unanswered are deliverable messages whose request got no answer
	// (transport error or timeout): the target may have taken them.
	Unanswered []Key
	// Inbox holds the keys of every inbox message carrying this run's
	// marker prefix, repeats included. InboxChecked says whether the inbox
	// was read at all.
	Inbox        []Key
	InboxChecked bool
	// Statuses is the sender's view by key; StatusesChecked says whether it
	// was read (false against the mock directly).
	Statuses        map[Key]Status
	StatusesChecked bool
}

// Result is the reconciliation.
type Result struct {
	Accepted          int `json:"accepted"`
	ExpectedDelivered int `json:"expected_delivered"`
	Delivered         int `json:"delivered"`
	Lost              int `json:"lost"`
	Duplicated        int `json:"duplicated"`
	Unexpected        int `json:"unexpected"`
	// UnconfirmedDelivered counts unanswered messages found in the inbox.
	UnconfirmedDelivered int `json:"unconfirmed_delivered"`
	Rejected             int `json:"rejected"`
	RejectionsMissed     int `json:"rejections_missed"`
	Pending              int `json:"pending"`
	StatusMismatch       int `json:"status_mismatch"`
	// FailedAsExpected counts accepted messages that failed as planned
	// (no grant → 43101).
	FailedAsExpected int `json:"failed_as_expected"`

	// RejectedBy counts expected refusals by rule; LostBy counts lost
	// messages by what the sender says of them ("delivered" is a silent
	// loss, "failed:-1" a dead letter, "missing" unknown to the sender,
	// "unchecked" when statuses were not read); MismatchBy counts status
	// mismatches as "want→got".
	RejectedBy map[string]int `json:"rejected_by_rule"`
	LostBy     map[string]int `json:"lost_by_sender_status,omitempty"`
	MismatchBy map[string]int `json:"status_mismatch_by,omitempty"`

	// Examples name a few offending messages for the report.
	LostExamples       []string `json:"lost_examples,omitempty"`
	DuplicatedExamples []string `json:"duplicated_examples,omitempty"`
	UnexpectedExamples []string `json:"unexpected_examples,omitempty"`

	InboxChecked    bool `json:"inbox_checked"`
	StatusesChecked bool `json:"statuses_checked"`
}

// maxExamples bounds each example list.
const maxExamples = 5

// Reconcile compares in and returns the counts.
func Reconcile(in Input) Result {
	r := Result{Accepted: len(in.Accepted), RejectedBy: map[string]int{}, LostBy: map[string]int{},
		MismatchBy: map[string]int{}, InboxChecked: in.InboxChecked, StatusesChecked: in.StatusesChecked}
	example := func(list *[]string, s string) {
		if len(*list) < maxExamples {
			*list = append(*list, s)
		}
	}

	for _, f := range in.Refusals {
		if !f.Accepted && slices.Contains(f.GotRules, f.WantRule) {
			r.Rejected++
			r.RejectedBy[f.WantRule]++
		} else {
			r.RejectionsMissed++
		}
	}

	inbox := make(map[Key]int, len(in.Inbox))
	for _, k := range in.Inbox {
		inbox[k]++
	}
	expected := make(map[Key]bool, len(in.Accepted))
	for _, m := range in.Accepted {
		expected[m.Key] = m.Deliver
		st, known := in.Statuses[m.Key]
		if in.StatusesChecked {
			switch {
			case !known:
				// Not found in the sender's listing: counted by the
				// delivery checks below, not as a status mismatch.
			case !st.Final():
				r.Pending++
			case m.WantStatus != "" && (st.Status != m.WantStatus || (m.WantCode != "" && st.Code != m.WantCode)):
				r.StatusMismatch++
				r.MismatchBy[want(m)+"→"+got(st)]++
			case !m.Deliver:
				r.FailedAsExpected++
			}
		}
		if !m.Deliver {
			continue
		}
		r.ExpectedDelivered++
		delivered := false
		switch {
		case in.InboxChecked:
			delivered = inbox[m.Key] > 0
		case in.StatusesChecked:
			delivered = known && st.Status == "delivered"
		}
		if delivered {
			r.Delivered++
			continue
		}
		r.Lost++
		example(&r.LostExamples, m.Key.String())
		switch {
		case !in.StatusesChecked:
			r.LostBy["unchecked"]++
		case !known:
			r.LostBy["missing"]++
		case st.Code != "" && st.Status != "delivered":
			r.LostBy[st.Status+":"+st.Code]++
		default:
			r.LostBy[st.Status]++
		}
	}

	unanswered := make(map[Key]bool, len(in.Unanswered))
	for _, k := range in.Unanswered {
		unanswered[k] = true
	}
	if in.InboxChecked {
		keys := slices.SortedFunc(maps.Keys(inbox), func(a, b Key) int {
			return strings.Compare(a.String(), b.String())
		})
		for _, k := range keys {
			n := inbox[k]
			if n > 1 {
				r.Duplicated += n - 1
				example(&r.DuplicatedExamples, k.String())
			}
			switch {
			case expected[k]:
			case unanswered[k]:
				r.UnconfirmedDelivered++
			default:
				r.Unexpected++
				example(&r.UnexpectedExamples, k.String())
			}
		}
	}
	return r
}

func want(m Message) string {
	if m.WantCode != "" {
		return m.WantStatus + ":" + m.WantCode
	}
	return m.WantStatus
}

func got(s Status) string {
	if s.Code != "" && s.Status != "delivered" {
		return s.Status + ":" + s.Code
	}
	return s.Status
}
