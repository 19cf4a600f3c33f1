package store_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/store"
)

var t0 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

func TestKefuWindowAllowances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actions []store.KefuTrigger // at t0, t0+1s, …
		at      time.Duration       // when the replies are sent, after t0
		want    error               // the answer to the reply after the allowed ones
		allowed int
	}{
		{"message: 5 replies", []store.KefuTrigger{store.KefuUserMessage}, time.Hour, store.ErrKefuExhausted, 5},
		{"message: closed after 48 h", []store.KefuTrigger{store.KefuUserMessage}, 48 * time.Hour, store.ErrKefuClosed, 0},
		{"enter: 2 replies", []store.KefuTrigger{store.KefuSessionEnter}, 30 * time.Second, store.ErrKefuExhausted, 2},
		{"enter: closed after a minute", []store.KefuTrigger{store.KefuSessionEnter}, time.Minute, store.ErrKefuClosed, 0},
		// Allowances do not add up: the larger one holds.
		{"message then enter", []store.KefuTrigger{store.KefuUserMessage, store.KefuSessionEnter}, 2 * time.Hour, store.ErrKefuExhausted, 5},
		{"enter then message", []store.KefuTrigger{store.KefuSessionEnter, store.KefuUserMessage}, 2 * time.Hour, store.ErrKefuExhausted, 5},
		{"two messages", []store.KefuTrigger{store.KefuUserMessage, store.KefuUserMessage}, time.Hour, store.ErrKefuExhausted, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			for i, a := range tc.actions {
				if _, err := s.OpenKefuWindowBy("wechat", "wx1", "o1", a, t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			at := t0.Add(tc.at)
			for i := range tc.allowed {
				if _, err := s.TakeKefuReply("wechat", "wx1", "o1", at); err != nil {
					t.Fatalf("reply %d: %v", i+1, err)
				}
			}
			if _, err := s.TakeKefuReply("wechat", "wx1", "o1", at); !errors.Is(err, tc.want) {
				t.Fatalf("reply %d: %v, want %v", tc.allowed+1, err, tc.want)
			}
		})
	}
}

func TestKefuWindowRenewal(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t0); !errors.Is(err, store.ErrKefuClosed) {
		t.Fatalf("reply before any window: %v", err)
	}
	w, err := s.OpenKefuWindow("wechat", "wx1", "o1", t0)
	if err != nil || w.Remaining != 5 || !w.Deadline.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("OpenKefuWindow = %+v, %v", w, err)
	}
	if !s.HasUser("wechat", "wx1", "o1") {
		t.Fatal("a user who writes is a user of the app")
	}
	for range 5 {
		if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// The user writes again: 5 more replies, 48 h from the new message.
	t1 := t0.Add(47 * time.Hour)
	w, err = s.OpenKefuWindow("wechat", "wx1", "o1", t1)
	if err != nil || w.Remaining != 5 || !w.Deadline.Equal(t1.Add(48*time.Hour)) || w.Sent != 5 {
		t.Fatalf("renewed window = %+v, %v", w, err)
	}
	if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t1.Add(48*time.Hour-time.Nanosecond)); err != nil {
		t.Fatalf("reply just before the deadline: %v", err)
	}
	if _, err := s.OpenKefuWindow("wechat", "wx9", "o1", t0); !errors.Is(err, store.ErrUnknownApp) {
		t.Fatalf("window of an unknown app: %v", err)
	}
	if _, err := s.OpenKefuWindowBy("wechat", "wx1", "o1", "wave", t0); !errors.Is(err, store.ErrUnknownTrigger) {
		t.Fatalf("unknown trigger: %v", err)
	}
	if got := s.KefuWindows("wechat", "wx1", ""); len(got) != 1 || got[0].OpenID != "o1" {
		t.Fatalf("KefuWindows = %+v", got)
	}
	s.Clear()
	if _, ok := s.KefuWindowOf("wechat", "wx1", "o1"); ok {
		t.Fatal("Clear kept a window")
	}
}

func TestKefuTyping(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.SetKefuTyping("wechat", "wx1", "o1", true, t0); !errors.Is(err, store.ErrKefuClosed) {
		t.Fatalf("typing without a window: %v", err)
	}
	if _, err := s.OpenKefuWindow("wechat", "wx1", "o1", t0); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at     time.Duration
		typing bool
		want   error
	}{
		{10 * time.Second, true, nil},
		{20 * time.Second, true, store.ErrKefuTyping},        // still typing (15 s)
		{24 * time.Second, false, nil},                       // cancelled
		{25 * time.Second, true, nil},                        // may type again
		{41 * time.Second, true, store.ErrKefuNoInteraction}, // 41 s after the message
		{41 * time.Second, false, nil},
	}
	for i, st := range steps {
		if _, err := s.SetKefuTyping("wechat", "wx1", "o1", st.typing, t0.Add(st.at)); !errors.Is(err, st.want) {
			t.Fatalf("step %d: %v, want %v", i, err, st.want)
		}
	}
	// A reply is an interaction and cancels typing.
	if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetKefuTyping("wechat", "wx1", "o1", true, t0.Add(time.Minute+time.Second)); err != nil {
		t.Fatalf("typing after a reply: %v", err)
	}
	if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t0.Add(time.Minute+2*time.Second)); err != nil {
		t.Fatal(err)
	}
	w, _ := s.KefuWindowOf("wechat", "wx1", "o1")
	if w.Typing(t0.Add(time.Minute + 3*time.Second)) {
		t.Fatal("a reply did not cancel typing")
	}
}

func TestKefuRepliesAreSpentOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.OpenKefuWindow("wechat", "wx1", "o1", t0); err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := s.TakeKefuReply("wechat", "wx1", "o1", t0.Add(time.Second)); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d concurrent replies succeeded, want 5", ok.Load())
	}
}
