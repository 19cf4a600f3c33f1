package reconcile_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/report"
	"github.com/minipush/minipush/loadtest/threshold"
)

func key(n int, user string) reconcile.Key {
	return reconcile.Key{Marker: fmt.Sprintf("lt1-%d", n), OpenID: user}
}

// world is a small clean run against the sender: three valid messages, a
// broadcast to two users, one no-grant message that failed with 43101,
// two refusals. Each test breaks one thing.
func world() reconcile.Input {
	valid := []reconcile.Key{key(1, "u1"), key(2, "u2"), key(3, "u3"), key(4, "u1"), key(4, "u2")}
	in := reconcile.Input{InboxChecked: true, StatusesChecked: true, Statuses: map[reconcile.Key]reconcile.Status{}}
	for _, k := range valid {
		in.Accepted = append(in.Accepted, reconcile.Message{Key: k, Deliver: true, WantStatus: "delivered"})
		in.Inbox = append(in.Inbox, k)
		in.Statuses[k] = reconcile.Status{Status: "delivered", Code: "0"}
	}
	ng := key(5, "nogrant")
	in.Accepted = append(in.Accepted, reconcile.Message{Key: ng, WantStatus: "failed", WantCode: "43101"})
	in.Statuses[ng] = reconcile.Status{Status: "failed", Code: "43101"}
	in.Refusals = []reconcile.Refusal{
		{WantRule: "content:no-fake-invoice", GotRules: []string{"content:no-fake-invoice"}},
		{WantRule: "keyword_exceeds_limit", GotRules: []string{"keyword_exceeds_limit"}},
	}
	return in
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(in *reconcile.Input)
		want   reconcile.Result // only the counts are compared
		lostBy map[string]int
	}{
		{name: "clean", change: func(*reconcile.Input) {},
			want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, Rejected: 2, FailedAsExpected: 1}},
		{name: "a message the sender delivered is missing from the inbox", change: func(in *reconcile.Input) {
			in.Inbox = in.Inbox[1:]
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Rejected: 2, FailedAsExpected: 1},
			lostBy: map[string]int{"delivered": 1}},
		{name: "a dead letter", change: func(in *reconcile.Input) {
			in.Inbox = in.Inbox[1:]
			in.Statuses[key(1, "u1")] = reconcile.Status{Status: "failed", Code: "-1"}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Rejected: 2, FailedAsExpected: 1, StatusMismatch: 1},
			lostBy: map[string]int{"failed:-1": 1}},
		{name: "a message still queued when the drain ended", change: func(in *reconcile.Input) {
			in.Inbox = in.Inbox[1:]
			in.Statuses[key(1, "u1")] = reconcile.Status{Status: "retrying", Code: "45009"}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Pending: 1, Rejected: 2, FailedAsExpected: 1},
			lostBy: map[string]int{"retrying:45009": 1}},
		{name: "a message the sender never listed", change: func(in *reconcile.Input) {
			in.Inbox = in.Inbox[1:]
			delete(in.Statuses, key(1, "u1"))
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Rejected: 2, FailedAsExpected: 1},
			lostBy: map[string]int{"missing": 1}},
		{name: "a duplicate", change: func(in *reconcile.Input) {
			in.Inbox = append(in.Inbox, key(2, "u2"))
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, Duplicated: 1, Rejected: 2, FailedAsExpected: 1}},
		{name: "three copies are two duplicates", change: func(in *reconcile.Input) {
			in.Inbox = append(in.Inbox, key(2, "u2"), key(2, "u2"))
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, Duplicated: 2, Rejected: 2, FailedAsExpected: 1}},
		{name: "a broadcast copy to one recipient is missing", change: func(in *reconcile.Input) {
			in.Inbox = in.Inbox[:4] // key(4,"u2") gone; key(4,"u1") still there
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Rejected: 2, FailedAsExpected: 1},
			lostBy: map[string]int{"delivered": 1}},
		{name: "a no-grant message was delivered", change: func(in *reconcile.Input) {
			in.Inbox = append(in.Inbox, key(5, "nogrant"))
			in.Statuses[key(5, "nogrant")] = reconcile.Status{Status: "delivered", Code: "0"}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, Unexpected: 1, StatusMismatch: 1, Rejected: 2}},
		{name: "an unknown marker of the run in the inbox", change: func(in *reconcile.Input) {
			in.Inbox = append(in.Inbox, key(99, "u9"))
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, Unexpected: 1, Rejected: 2, FailedAsExpected: 1}},
		{name: "an unanswered request that was delivered after all", change: func(in *reconcile.Input) {
			in.Inbox = append(in.Inbox, key(6, "u6"))
			in.Unanswered = []reconcile.Key{key(6, "u6")}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, UnconfirmedDelivered: 1, Rejected: 2, FailedAsExpected: 1}},
		{name: "a refusal for the wrong rule and one accepted", change: func(in *reconcile.Input) {
			in.Refusals[0].GotRules = []string{"required"}
			in.Refusals[1] = reconcile.Refusal{WantRule: "keyword_exceeds_limit", Accepted: true}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 5, RejectionsMissed: 2, FailedAsExpected: 1}},
		{name: "no inbox: delivery judged from the statuses", change: func(in *reconcile.Input) {
			in.Inbox, in.InboxChecked = nil, false
			in.Statuses[key(3, "u3")] = reconcile.Status{Status: "failed", Code: "40003"}
		}, want: reconcile.Result{Accepted: 6, ExpectedDelivered: 5, Delivered: 4, Lost: 1, StatusMismatch: 1, Rejected: 2, FailedAsExpected: 1},
			lostBy: map[string]int{"failed:40003": 1}},
		{name: "mock direct: inbox only", change: func(in *reconcile.Input) {
			in.Statuses, in.StatusesChecked = nil, false
			in.Accepted = in.Accepted[:5]
			in.Inbox = in.Inbox[1:]
		}, want: reconcile.Result{Accepted: 5, ExpectedDelivered: 5, Delivered: 4, Lost: 1, Rejected: 2},
			lostBy: map[string]int{"unchecked": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := world()
			tt.change(&in)
			got := reconcile.Reconcile(in)
			if counts(got) != counts(tt.want) {
				t.Errorf("got  %+v\nwant %+v", counts(got), counts(tt.want))
			}
			if tt.lostBy == nil {
				tt.lostBy = map[string]int{}
			}
			if !maps.Equal(got.LostBy, tt.lostBy) {
				t.Errorf("LostBy = %v, want %v", got.LostBy, tt.lostBy)
			}
			if got.Lost > 0 && len(got.LostExamples) == 0 || got.Duplicated > 0 && len(got.DuplicatedExamples) == 0 ||
				got.Unexpected > 0 && len(got.UnexpectedExamples) == 0 {
				t.Errorf("offences without examples: %+v", got)
			}
		})
	}
}

// counts keeps the comparable counters of a Result.
type counted struct {
	Accepted, ExpectedDelivered, Delivered, Lost, Duplicated, Unexpected, UnconfirmedDelivered int
	Rejected, RejectionsMissed, Pending, StatusMismatch, FailedAsExpected                      int
}

func counts(r reconcile.Result) counted {
	return counted{r.Accepted, r.ExpectedDelivered, r.Delivered, r.Lost, r.Duplicated, r.Unexpected, r.UnconfirmedDelivered,
		r.Rejected, r.RejectionsMissed, r.Pending, r.StatusMismatch, r.FailedAsExpected}
}

// The gates: a dropped message makes lost==0 fire, a duplicate makes
// duplicated==0 fire, and nothing else.
func TestThresholdsFire(t *testing.T) {
	t.Parallel()
	gates := []string{"lost==0", "duplicated==0", "unexpected==0", "pending==0"}
	tests := []struct {
		name     string
		change   func(in *reconcile.Input)
		breached []string
	}{
		{"clean", func(*reconcile.Input) {}, nil},
		{"dropped message", func(in *reconcile.Input) { in.Inbox = in.Inbox[1:] }, []string{"lost==0"}},
		{"duplicate", func(in *reconcile.Input) { in.Inbox = append(in.Inbox, in.Inbox[0]) }, []string{"duplicated==0"}},
		// Without an inbox, duplicates cannot be counted: that gate fails
		// rather than passing unchecked.
		{"no inbox", func(in *reconcile.Input) { in.Inbox, in.InboxChecked = nil, false }, []string{"duplicated==0", "unexpected==0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := world()
			tt.change(&in)
			rc := reconcile.Reconcile(in)
			rep := &report.Report{Reconciliation: rc, Accepted: rc.Accepted, Delivered: rc.Delivered, Rejected: rc.Rejected,
				Lost: rc.Lost, Duplicated: rc.Duplicated}
			var ts []threshold.Threshold
			for _, g := range gates {
				th, err := threshold.Parse(g)
				if err != nil {
					t.Fatal(err)
				}
				ts = append(ts, th)
			}
			var got []string
			for _, b := range threshold.Breached(threshold.Evaluate(ts, rep.Values())) {
				got = append(got, b.Raw)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.breached) {
				t.Errorf("breached %v, want %v", got, tt.breached)
			}
		})
	}
}
