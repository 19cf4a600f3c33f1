package templates_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/templates"
)

// lister is a platform's template list under the test's control.
type lister struct {
	mu    sync.Mutex
	list  []platform.Template
	err   error
	calls int
}

func (l *lister) Templates(context.Context) ([]platform.Template, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.err != nil {
		return nil, l.err
	}
	return append([]platform.Template(nil), l.list...), nil
}

func (l *lister) set(list []platform.Template, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list, l.err = list, err
}

func (l *lister) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var order = platform.Template{ID: "order", Keywords: []string{"thing1", "time2"}}

func rules(ps []templates.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field+" "+p.Rule)
	}
	return out
}

func wantRules(t *testing.T, ps []templates.Problem, want ...string) {
	t.Helper()
	got := rules(ps)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

// The first check of an app does not wait for its list: it starts the
// fetch in the background.
func TestFirstCheckDoesNotWait(t *testing.T) {
	t.Parallel()
	l := &blockingLister{release: make(chan struct{})}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l}})
	t.Cleanup(c.Close)
	t.Cleanup(func() { close(l.release) })
	// Checked at once against no list, while the fetch hangs.
	wantRules(t, c.Check(context.Background(), "shop", "order", map[string]string{"thing1": "咖啡"}, ""))
	if st, _ := c.State("shop"); st.Source != "none" {
		t.Fatalf("state %+v, want no list yet", st)
	}
}

// blockingLister answers once release is closed.
type blockingLister struct{ release chan struct{} }

func (b *blockingLister) Templates(ctx context.Context) ([]platform.Template, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return []platform.Template{order}, nil
}

func mustRefresh(t *testing.T, c *templates.Catalog, app string) {
	t.Helper()
	if err := c.Refresh(context.Background(), app); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond (background refreshes) with a generous deadline.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListedTemplate(t *testing.T) {
	t.Parallel()
	l := &lister{list: []platform.Template{order}}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l}})
	t.Cleanup(c.Close)
	ctx := context.Background()
	mustRefresh(t, c, "shop")
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡", "time2": "15:01"}, ""))
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡"}, ""), "data.time2 missing_keyword")
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡", "time2": "15:01", "thing3": "x"}, ""),
		"data.thing3 unknown_keyword")
	if n := l.count(); n != 1 {
		t.Errorf("%d list fetches for three checks, want 1 (cached)", n)
	}
	st, _ := c.State("shop")
	if st.Source != "platform" || st.Count != 1 || st.Error != "" || !st.Listable {
		t.Errorf("state %+v, want a platform list of 1", st)
	}
}

// An id the list lacks is fetched again at once, at most every floor.
func TestUnknownTemplateRefetches(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	l := &lister{list: []platform.Template{order}}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l}},
		templates.WithClock(clk.Now), templates.WithRefetchFloor(10*time.Second))
	t.Cleanup(c.Close)
	ctx := context.Background()
	mustRefresh(t, c, "shop")
	data := map[string]string{"thing1": "咖啡"}
	wantRules(t, c.Check(ctx, "shop", "new", data, ""), "template_id unknown_template")
	wantRules(t, c.Check(ctx, "shop", "new", data, ""), "template_id unknown_template")
	if n := l.count(); n != 1 {
		t.Fatalf("%d fetches within the floor, want 1", n)
	}
	// Added on the platform; past the floor the miss fetches again.
	l.set([]platform.Template{order, {ID: "new", Keywords: []string{"thing1"}}}, nil)
	clk.advance(11 * time.Second)
	wantRules(t, c.Check(ctx, "shop", "new", data, ""))
	if n := l.count(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// A list older than Refresh is fetched again in the background.
func TestStaleListRefreshes(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	l := &lister{list: []platform.Template{order}}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l, Refresh: time.Minute}},
		templates.WithClock(clk.Now))
	t.Cleanup(c.Close)
	ctx := context.Background()
	mustRefresh(t, c, "shop")
	ok := map[string]string{"thing1": "咖啡", "time2": "15:01"}
	wantRules(t, c.Check(ctx, "shop", "order", ok, ""))
	l.set([]platform.Template{{ID: "order", Keywords: []string{"thing1"}}}, nil)
	clk.advance(2 * time.Minute)
	c.Check(ctx, "shop", "order", ok, "")
	eventually(t, func() bool { return l.count() == 2 })
	eventually(t, func() bool {
		return strings.Join(rules(c.Check(ctx, "shop", "order", ok, "")), "|") == "data.time2 unknown_keyword"
	})
}

// A platform that cannot be reached blocks nothing: an unlisted id passes,
// a declared template is still checked, and the last good list stays.
func TestListDownDoesNotBlock(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	l := &lister{err: errors.New("wechat http 503 (retryable): Service Unavailable")}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l,
		Declared: map[string][]string{"pinned": {"thing1"}}}}, templates.WithClock(clk.Now))
	t.Cleanup(c.Close)
	ctx := context.Background()
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡", "anything5": "x"}, ""))
	wantRules(t, c.Check(ctx, "shop", "pinned", map[string]string{"thing2": "咖啡"}, ""),
		"data.thing1 missing_keyword", "data.thing2 unknown_keyword")
	eventually(t, func() bool { st, _ := c.State("shop"); return strings.Contains(st.Error, "503") })
	if st, _ := c.State("shop"); st.Source != "config" {
		t.Fatalf("state %+v, want config with the fetch's error", st)
	}
	// Back: fetched again once the floor has passed.
	l.set([]platform.Template{order}, nil)
	clk.advance(time.Minute)
	c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡", "time2": "15:01"}, "")
	eventually(t, func() bool { st, _ := c.State("shop"); return st.Source == "platform" })
	// Down again: the last good list is kept, but not trusted to refuse.
	l.set(nil, errors.New("down"))
	if err := c.Refresh(ctx, "shop"); err == nil {
		t.Fatal("Refresh: no error from a failing list")
	}
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡"}, ""), "data.time2 missing_keyword")
	wantRules(t, c.Check(ctx, "shop", "other", map[string]string{"thing1": "咖啡"}, ""))
}

// Without a list, declared templates are the whole set; a declared
// template wins over the listed one.
func TestDeclaredTemplates(t *testing.T) {
	t.Parallel()
	l := &lister{list: []platform.Template{order}}
	c := templates.New([]templates.App{
		{Name: "ks", Platform: "kuaishou", DefaultPage: "pages/index", Declared: map[string][]string{"ks-order": {"thing01", "date01"}}},
		{Name: "wx", Platform: "wechat", Lister: l, Declared: map[string][]string{"order": {"thing1"}}},
		{Name: "bare", Platform: "alipay", DefaultPage: "pages/index"},
	})
	t.Cleanup(c.Close)
	ctx := context.Background()
	wantRules(t, c.Check(ctx, "ks", "ks-order", map[string]string{"thing01": "咖啡", "date01": "2026年11月25号"}, ""))
	wantRules(t, c.Check(ctx, "ks", "other", map[string]string{"thing01": "咖啡"}, ""), "template_id unknown_template")
	wantRules(t, c.Check(ctx, "wx", "order", map[string]string{"thing1": "咖啡"}, ""))
	// Nothing declared, no list: only the value rules.
	wantRules(t, c.Check(ctx, "bare", "any", map[string]string{"keyword1": "x"}, ""))
	wantRules(t, c.Check(ctx, "nobody", "any", map[string]string{"keyword1": ""}, ""))
	for app, want := range map[string]string{"ks": "config", "bare": "none"} {
		if st, _ := c.State(app); st.Source != want || st.Listable {
			t.Errorf("%s: state %+v, want %s, not listed", app, st, want)
		}
	}
}

// One test per value rule (docs/platforms/).
func TestCheckValue(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("豆", n) }
	tests := []struct {
		name, platform, key, value string
		enum                       []string
		rule                       string // "" valid
	}{
		{"wechat thing ≤ 20", "wechat", "thing1", long(20), nil, ""},
		{"wechat thing over 20", "wechat", "thing1", long(21), nil, "keyword_exceeds_limit"},
		{"wechat number", "wechat", "number2", "12.5", nil, ""},
		{"wechat number with letters", "wechat", "number2", "12a", nil, "keyword_invalid"},
		{"wechat date", "wechat", "date3", "2026年11月25日", nil, ""},
		{"wechat date malformed", "wechat", "date3", "soon", nil, "keyword_invalid"},
		{"wechat phrase ≤ 5", "wechat", "phrase4", "已发货", nil, ""},
		{"wechat phrase over 5", "wechat", "phrase4", "正在配送途中", nil, "keyword_exceeds_limit"},
		{"wechat empty", "wechat", "thing1", " ", nil, "keyword_empty"},
		{"kuaishou date", "kuaishou", "date01", "2026年11月25号", nil, ""},
		{"kuaishou date ISO", "kuaishou", "date01", "2026-11-25", nil, "keyword_invalid"},
		{"kuaishou phone short", "kuaishou", "phone01", "1380013800", nil, "keyword_invalid"},
		{"kuaishou amount with unit", "kuaishou", "amount01", "5元", nil, "keyword_invalid"},
		{"douyin ≤ 50", "douyin", "物品名称", long(50), nil, ""},
		{"douyin over 50", "douyin", "物品名称", long(51), nil, "keyword_exceeds_limit"},
		{"douyin two lines", "douyin", "物品名称", "a\nb", nil, "keyword_invalid"},
		{"baidu empty", "baidu", "keyword1", "", nil, "keyword_empty"},
		{"baidu over 200", "baidu", "keyword1", long(201), nil, "keyword_exceeds_limit"},
		{"alipay untyped 30", "alipay", "keyword1", long(30), nil, ""},
		{"alipay control character", "alipay", "keyword1", "a\tb", nil, "keyword_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, bad := templates.CheckValue(tt.platform, tt.key, tt.value, tt.enum)
			switch {
			case tt.rule == "" && bad:
				t.Fatalf("%+v, want valid", p)
			case tt.rule != "" && (!bad || p.Rule != tt.rule || p.Field != "data."+tt.key || !strings.Contains(p.Message, tt.key)):
				t.Fatalf("%+v (bad %v), want rule %s on data.%s", p, bad, tt.rule, tt.key)
			}
		})
	}
}

func TestCheckPage(t *testing.T) {
	t.Parallel()
	c := templates.New([]templates.App{
		{Name: "ali", Platform: "alipay"}, {Name: "ali-default", Platform: "alipay", DefaultPage: "pages/index"},
		{Name: "ks", Platform: "kuaishou"}, {Name: "wx", Platform: "wechat"},
	})
	t.Cleanup(c.Close)
	ctx := context.Background()
	d := map[string]string{"keyword1": "x"}
	wantRules(t, c.Check(ctx, "ali", "t", d, ""), "page page_required")
	wantRules(t, c.Check(ctx, "ali", "t", d, "pages/order"))
	wantRules(t, c.Check(ctx, "ali-default", "t", d, ""))
	wantRules(t, c.Check(ctx, "ks", "t", map[string]string{"thing01": "x"}, ""), "page page_required")
	wantRules(t, c.Check(ctx, "wx", "t", map[string]string{"thing1": "x"}, ""))
	wantRules(t, c.Check(ctx, "wx", "t", map[string]string{"thing1": "x"}, "https://example.com"), "page page_invalid")
	wantRules(t, c.Check(ctx, "wx", "t", map[string]string{"thing1": "x"}, "pages/a b"), "page page_invalid")
}

// Baidu's subscribe_id rides in data but is no keyword.
func TestBaiduSubscribeID(t *testing.T) {
	t.Parallel()
	l := &lister{list: []platform.Template{{ID: "bd", Keywords: []string{"keyword1"}}}}
	c := templates.New([]templates.App{{Name: "bd", Platform: "baidu", Lister: l}})
	t.Cleanup(c.Close)
	mustRefresh(t, c, "bd")
	wantRules(t, c.Check(context.Background(), "bd", "bd", map[string]string{"keyword1": "x", "subscribe_id": "order-1"}, ""))
}

// Until the app holds a token the list is not fetched (no token is fetched
// for it) and nothing is refused for want of it; the next check tries
// again, without waiting for a floor.
func TestNoTokenYet(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	l := &lister{err: platform.ErrNoToken}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l}}, templates.WithClock(clk.Now))
	t.Cleanup(c.Close)
	ctx := context.Background()
	wantRules(t, c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡"}, ""))
	if st, _ := c.State("shop"); st.Error != "" || st.Source != "none" {
		t.Fatalf("state %+v: no token yet is no error", st)
	}
	l.set([]platform.Template{order}, nil)
	eventually(t, func() bool {
		return strings.Join(rules(c.Check(ctx, "shop", "order", map[string]string{"thing1": "咖啡"}, "")), "|") == "data.time2 missing_keyword"
	})
}

// Watch fetches a list as soon as the app holds a token, with no message
// asking for it.
func TestWatch(t *testing.T) {
	t.Parallel()
	l := &lister{err: platform.ErrNoToken}
	c := templates.New([]templates.App{{Name: "shop", Platform: "wechat", Lister: l}})
	t.Cleanup(c.Close)
	c.Watch(5 * time.Millisecond)
	eventually(t, func() bool { return l.count() >= 2 })
	if st, _ := c.State("shop"); st.Source != "none" || st.Error != "" {
		t.Fatalf("state %+v before the token, want nothing and no error", st)
	}
	l.set([]platform.Template{order}, nil)
	eventually(t, func() bool { st, _ := c.State("shop"); return st.Source == "platform" && st.Count == 1 })
}
