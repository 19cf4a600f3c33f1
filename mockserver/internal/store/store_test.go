package store_test

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := store.New()
	if !s.PutApp(&store.App{Platform: "wechat", AppID: "wx1", Secret: "s"}) {
		t.Fatal("PutApp of a new app did not report created")
	}
	if err := s.PutTemplate("wechat", "wx1", &store.Template{ID: "t1", Keywords: []string{"thing1"}}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendChecksInOrderAndConsumes(t *testing.T) {
	t.Parallel()
	errBad := errors.New("bad data")
	tests := []struct {
		name     string
		setup    func(s *store.Store)
		app      string
		openID   string
		template string
		validate func(*store.Template) error
		want     error
	}{
		{"unknown app", nil, "wx9", "o1", "t1", nil, store.ErrUnknownApp},
		{"unknown user before unknown template", nil, "wx1", "o1", "t9", nil, store.ErrUnknownUser},
		{"unknown template", func(s *store.Store) { _, _ = s.AddUser("wechat", "wx1", "o1") }, "wx1", "o1", "t9", nil, store.ErrUnknownTemplate},
		{"validation before grant", func(s *store.Store) { _, _ = s.AddUser("wechat", "wx1", "o1") }, "wx1", "o1", "t1",
			func(*store.Template) error { return errBad }, errBad},
		{"no grant", func(s *store.Store) { _, _ = s.AddUser("wechat", "wx1", "o1") }, "wx1", "o1", "t1", nil, store.ErrNoGrant},
		{"grant", func(s *store.Store) { _, _ = s.Grant("wechat", "wx1", "o1", "t1", 1, false) }, "wx1", "o1", "t1", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			if err := s.Send("wechat", tc.app, tc.openID, tc.template, tc.validate); !errors.Is(err, tc.want) {
				t.Fatalf("Send = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGrantsAreConsumedOnceAndLongTermIsUnlimited(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	st, err := s.Grant("wechat", "wx1", "o1", "t1", 2, false)
	if err != nil || st.Remaining != 2 || st.LongTerm {
		t.Fatalf("Grant = %+v, %v", st, err)
	}
	if !s.HasUser("wechat", "wx1", "o1") {
		t.Fatal("a grant did not register its user")
	}
	for i := range 2 {
		if err := s.Send("wechat", "wx1", "o1", "t1", nil); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	if err := s.Send("wechat", "wx1", "o1", "t1", nil); !errors.Is(err, store.ErrNoGrant) {
		t.Fatalf("third send = %v, want ErrNoGrant", err)
	}
	// A failed validation spends nothing.
	_, _ = s.Grant("wechat", "wx1", "o1", "t1", 1, false)
	_ = s.Send("wechat", "wx1", "o1", "t1", func(*store.Template) error { return errors.New("no") })
	if g := s.Grants("wechat", "wx1", "o1"); len(g) != 1 || g[0].Remaining != 1 {
		t.Fatalf("grants after a rejected send: %+v", g)
	}
	_, _ = s.Grant("wechat", "wx1", "o2", "t1", 0, true)
	for range 5 {
		if err := s.Send("wechat", "wx1", "o2", "t1", nil); err != nil {
			t.Fatalf("long-term send: %v", err)
		}
	}
	if _, err := s.Grant("wechat", "wx1", "o1", "t9", 1, false); !errors.Is(err, store.ErrUnknownTemplate) {
		t.Fatalf("grant for unknown template = %v", err)
	}
	if _, err := s.Grant("wechat", "wx9", "o1", "t1", 1, false); !errors.Is(err, store.ErrUnknownApp) {
		t.Fatalf("grant for unknown app = %v", err)
	}
}

func TestGrantSaturates(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_, _ = s.Grant("wechat", "wx1", "o1", "t1", math.MaxInt, false)
	st, _ := s.Grant("wechat", "wx1", "o1", "t1", math.MaxInt, false)
	if st.Remaining != math.MaxInt {
		t.Fatalf("remaining %d after two huge grants, want MaxInt", st.Remaining)
	}
	if err := s.Send("wechat", "wx1", "o1", "t1", nil); err != nil {
		t.Fatalf("send after huge grants: %v", err)
	}
}

func TestConcurrentSendsNeverSpendACreditTwice(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_, _ = s.Grant("wechat", "wx1", "o1", "t1", 10, false)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Send("wechat", "wx1", "o1", "t1", nil) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Fatalf("%d sends succeeded on 10 credits", ok.Load())
	}
}

func TestPutAppKeepsStateAndDeleteTemplateDropsGrants(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_, _ = s.Grant("wechat", "wx1", "o1", "t1", 1, false)
	if s.PutApp(&store.App{Platform: "wechat", AppID: "wx1", Secret: "new"}) {
		t.Fatal("replacing an app reported created")
	}
	a, _ := s.App("wechat", "wx1")
	if a.Secret != "new" || !s.HasUser("wechat", "wx1", "o1") {
		t.Fatal("PutApp lost users or kept the old settings")
	}
	if apps, users, templates := s.Counts(); apps != 1 || users != 1 || templates != 1 {
		t.Fatalf("counts %d %d %d", apps, users, templates)
	}
	if !s.DeleteTemplate("wechat", "wx1", "t1") || s.DeleteTemplate("wechat", "wx1", "t1") {
		t.Fatal("DeleteTemplate should succeed once")
	}
	if g := s.Grants("wechat", "wx1", ""); len(g) != 0 {
		t.Fatalf("grants survive their template: %+v", g)
	}
	if len(s.Templates("wechat", "wx1")) != 0 {
		t.Fatal("template still listed")
	}
}

func TestListingsAreOrdered(t *testing.T) {
	t.Parallel()
	s := store.New()
	for _, id := range []string{"wx2", "wx1"} {
		s.PutApp(&store.App{Platform: "wechat", AppID: id, Pages: map[string]bool{"b": true, "a": true}})
	}
	s.PutApp(&store.App{Platform: "alipay", AppID: "2021"})
	apps := s.Apps()
	if len(apps) != 3 || apps[0].Platform != "alipay" || apps[1].AppID != "wx1" || apps[2].AppID != "wx2" {
		t.Fatalf("apps %+v", apps)
	}
	if p := apps[1].Pages; len(p) != 2 || p[0] != "a" {
		t.Fatalf("pages %v, want sorted", p)
	}
	for _, id := range []string{"t3", "t1", "t2"} {
		_ = s.PutTemplate("wechat", "wx1", &store.Template{ID: id})
	}
	_ = s.PutTemplate("wechat", "wx1", &store.Template{ID: "t3", Title: "replaced"})
	ts := s.Templates("wechat", "wx1")
	if len(ts) != 3 || ts[0].ID != "t3" || ts[0].Title != "replaced" || ts[2].ID != "t2" {
		t.Fatalf("templates not in creation order: %v %v %v", ts[0].ID, ts[1].ID, ts[2].ID)
	}
	for _, g := range [][2]string{{"o2", "t1"}, {"o1", "t2"}, {"o1", "t1"}} {
		_, _ = s.Grant("wechat", "wx1", g[0], g[1], 1, false)
	}
	gs := s.Grants("wechat", "wx1", "")
	if len(gs) != 3 || gs[0].OpenID != "o1" || gs[0].TemplateID != "t1" || gs[2].OpenID != "o2" {
		t.Fatalf("grants %+v", gs)
	}
	if !s.Revoke("wechat", "wx1", "o1", "t1") || s.Revoke("wechat", "wx1", "o1", "t1") {
		t.Fatal("Revoke should succeed once")
	}
	if gs := s.Grants("wechat", "wx1", "o1"); len(gs) != 1 || gs[0].TemplateID != "t2" {
		t.Fatalf("o1 grants after revoke %+v", gs)
	}
	s.Clear()
	if a, _, _ := s.Counts(); a != 0 {
		t.Fatal("Clear left apps")
	}
	if _, err := s.AddUser("wechat", "wx1", "o"); !errors.Is(err, store.ErrUnknownApp) {
		t.Fatalf("AddUser on cleared store = %v", err)
	}
}

// A popup reject needs no grant, registers the user, refuses sends and
// lasts until the next grant; deleting the template forgets it.
func TestRejectUntilTheNextGrant(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Reject("wechat", "wx9", "o1", "t1"); !errors.Is(err, store.ErrUnknownApp) {
		t.Fatalf("reject on an unknown app: %v", err)
	}
	if _, err := s.Reject("wechat", "wx1", "o1", "t9"); !errors.Is(err, store.ErrUnknownTemplate) {
		t.Fatalf("reject of an unknown template: %v", err)
	}
	had, err := s.Reject("wechat", "wx1", "o1", "t1")
	if err != nil || had {
		t.Fatalf("first reject = %v, %v; want no grant removed", had, err)
	}
	if users, _ := s.Users("wechat", "wx1"); len(users) != 1 || users[0] != "o1" {
		t.Fatalf("users after a reject: %v", users)
	}
	if err := s.Send("wechat", "wx1", "o1", "t1", nil); !errors.Is(err, store.ErrNoGrant) {
		t.Fatalf("send after reject: %v", err)
	}
	if _, err := s.Grant("wechat", "wx1", "o1", "t1", 2, false); err != nil {
		t.Fatal(err)
	}
	if r := s.Rejections("wechat", "wx1", ""); len(r) != 0 {
		t.Fatalf("rejections after a grant: %v", r)
	}
	if had, _ := s.Reject("wechat", "wx1", "o1", "t1"); !had {
		t.Fatal("reject did not report the grant it removed")
	}
	if g := s.Grants("wechat", "wx1", "o1"); len(g) != 0 {
		t.Fatalf("grants after reject: %v", g)
	}
	if r := s.Rejections("wechat", "wx1", "o1"); len(r) != 1 || r[0].TemplateID != "t1" {
		t.Fatalf("rejections: %v", r)
	}
	s.DeleteTemplate("wechat", "wx1", "t1")
	if r := s.Rejections("wechat", "wx1", ""); len(r) != 0 {
		t.Fatalf("rejections after the template is deleted: %v", r)
	}
	if _, err := s.Users("wechat", "wx9"); !errors.Is(err, store.ErrUnknownApp) {
		t.Fatalf("users of an unknown app: %v", err)
	}
}
