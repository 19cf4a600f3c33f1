package store_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/store"
)

func media(id string, size int, at time.Time) *store.Media {
	return &store.Media{Platform: "wechat", AppID: "wx1", ID: id, Data: make([]byte, size), Created: at, Expires: at.Add(72 * time.Hour)}
}

func TestMediaExpiredAreForgotten(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.PutMedia(media("old", 10, t0), t0)
	s.PutMedia(media("new", 10, t0.Add(71*time.Hour)), t0.Add(71*time.Hour))
	if _, ok := s.MediaByID("wechat", "wx1", "old"); !ok {
		t.Fatal("media forgotten before it expired")
	}
	s.PutMedia(media("newer", 10, t0.Add(72*time.Hour)), t0.Add(72*time.Hour))
	if _, ok := s.MediaByID("wechat", "wx1", "old"); ok {
		t.Fatal("expired media kept")
	}
	if got := s.MediaOf("wechat", "wx1"); len(got) != 2 || got[0].ID != "new" || got[1].ID != "newer" {
		t.Fatalf("MediaOf = %+v", got)
	}
	if _, ok := s.MediaByID("wechat", "wx2", "new"); ok {
		t.Fatal("another app sees the media")
	}
	s.Clear()
	if got := s.MediaOf("wechat", "wx1"); len(got) != 0 {
		t.Fatal("Clear kept media")
	}
}

func TestMediaBytesAreBounded(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	const size = 2 << 20
	n := store.MaxMediaBytes/size + 5
	for i := range n {
		s.PutMedia(media(strconv.Itoa(i), size, t0), t0)
	}
	held := s.MediaOf("wechat", "wx1")
	if len(held)*size > store.MaxMediaBytes || held[len(held)-1].ID != strconv.Itoa(n-1) || held[0].ID == "0" {
		t.Fatalf("held %d files (first %s): the oldest must go first and the total stay under the bound", len(held), held[0].ID)
	}
}

func TestActivities(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.CreateActivity(store.Activity{Platform: "wechat", AppID: "wx1", ID: "a1", Created: t0, Expires: t0.Add(24 * time.Hour)}, t0)
	errNo := errors.New("no")
	if _, err := s.UpdateActivity("wechat", "wx1", "a1", func(a *store.Activity) error {
		a.State = 1
		a.Params = map[string]string{"x": "1"}
		return errNo
	}); !errors.Is(err, errNo) {
		t.Fatalf("refused update: %v", err)
	}
	if got := s.Activities("wechat", "wx1"); len(got) != 1 || got[0].State != 0 || got[0].Params != nil {
		t.Fatalf("a refused update changed the activity: %+v", got)
	}
	a, err := s.UpdateActivity("wechat", "wx1", "a1", func(a *store.Activity) error {
		a.Params = map[string]string{"x": "1"}
		a.Updates++
		return nil
	})
	if err != nil || a.Updates != 1 {
		t.Fatalf("update = %+v, %v", a, err)
	}
	// Callers get copies.
	got := s.Activities("wechat", "wx1")
	got[0].Params["x"] = "changed"
	if s.Activities("wechat", "wx1")[0].Params["x"] != "1" {
		t.Fatal("Activities handed out the stored map")
	}
	if _, err := s.UpdateActivity("wechat", "wx1", "a9", func(*store.Activity) error { return nil }); !errors.Is(err, store.ErrUnknownActivity) {
		t.Fatalf("unknown activity: %v", err)
	}
	// Long-expired activities are forgotten when new ones come.
	later := t0.Add(24*time.Hour + 8*24*time.Hour)
	s.CreateActivity(store.Activity{Platform: "wechat", AppID: "wx1", ID: "a2", Created: later, Expires: later.Add(24 * time.Hour)}, later)
	if got := s.Activities("wechat", "wx1"); len(got) != 1 || got[0].ID != "a2" {
		t.Fatalf("activities = %+v", got)
	}
}
