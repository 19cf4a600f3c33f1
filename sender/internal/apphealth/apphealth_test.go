package apphealth_test

import (
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/apphealth"
)

func TestTracker(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := apphealth.New([]string{"shop", "club"}, func() time.Time { return now })
	if s := tr.Snapshot(); !s["shop"].Healthy || !s["club"].Healthy || len(s) != 2 {
		t.Fatalf("at start: %+v", s)
	}
	tr.Refused("shop", "40125 invalid appsecret")
	now = now.Add(time.Minute)
	tr.Refused("shop", "40125 invalid appsecret") // the refusal goes on: since stays
	s := tr.Snapshot()
	if s["shop"].Healthy || s["shop"].Reason != "40125 invalid appsecret" || !s["shop"].Since.Equal(now.Add(-time.Minute)) {
		t.Errorf("refused shop: %+v", s["shop"])
	}
	if !s["club"].Healthy {
		t.Errorf("club caught shop's state: %+v", s["club"])
	}
	tr.Works("shop")
	if s := tr.Snapshot()["shop"]; !s.Healthy || s.Reason != "" || !s.Since.Equal(now) {
		t.Errorf("shop after a success: %+v", s)
	}
}
