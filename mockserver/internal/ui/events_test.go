package ui_test

import (
	"bufio"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mocktest"
)

// event is one Server-Sent Event.
type event struct {
	name, data, id string
}

// sse reads a stream: events on the channel, which closes when the stream
// ends. The connection closes with the test.
func sse(t *testing.T, m *mocktest.Mock, path, lastID string) (<-chan event, int) {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(c, http.MethodGet, m.URL+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan event, 100)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(out)
		return out, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev event
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || len(data) > 0 || ev.id != "" {
					ev.data = strings.Join(data, "\n")
					out <- ev
				}
				ev, data = event{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[len("data: "):])
			case strings.HasPrefix(line, "id: "):
				ev.id = line[len("id: "):]
			}
		}
	}()
	return out, resp.StatusCode
}

// next waits for the next event with a name (ids alone are skipped, the
// last one seen is returned with it).
func next(t *testing.T, events <-chan event) (event, string) {
	t.Helper()
	lastID := ""
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.id != "" {
				lastID = ev.id
			}
			if ev.name != "" {
				return ev, lastID
			}
		case <-timeout:
			t.Fatal("no event in 10 s")
		}
	}
}

// waitID reads until an id arrives.
func waitID(t *testing.T, events <-chan event) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.id != "" {
				return ev.id
			}
		case <-timeout:
			t.Fatal("no id in 10 s")
		}
	}
}

var streamAttr = regexp.MustCompile(`data-stream="([^"]+)"`)

// streamOf is the live stream a page subscribes to.
func streamOf(t *testing.T, m *mocktest.Mock, pagePath string) string {
	t.Helper()
	match := streamAttr.FindStringSubmatch(get(t, m, pagePath).body)
	if match == nil {
		t.Fatalf("%s has no live stream", pagePath)
	}
	return html.UnescapeString(match[1])
}

func TestInboxStream(t *testing.T) {
	t.Parallel()
	m := start(t)
	send(t, m, alice, "Before the page", "SF0")
	stream := streamOf(t, m, "/_ui/phone?"+url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}}.Encode())
	events, status := sse(t, m, stream, "")
	if status != http.StatusOK {
		t.Fatalf("stream %s: %d", stream, status)
	}
	send(t, m, bob, "Not Alice's", "SF1") // another user: not on Alice's phone
	send(t, m, alice, "Live one", xss)
	ev, _ := next(t, events)
	if ev.name != "item" || !strings.Contains(ev.data, "Live one") || !strings.Contains(ev.data, html.EscapeString(xss)) ||
		strings.Contains(ev.data, xss) || strings.Contains(ev.data, "Before the page") || strings.Contains(ev.data, "Not Alice") {
		t.Fatalf("first live event: %+v", ev)
	}
	id := waitID(t, events) // the cursor after the item
	// A browser that reconnects with Last-Event-ID gets what it missed and
	// nothing twice.
	send(t, m, alice, "While away", "SF2")
	again, _ := sse(t, m, stream, id)
	ev, _ = next(t, again)
	if !strings.Contains(ev.data, "While away") {
		t.Fatalf("resumed stream: %+v", ev)
	}
	// A reset tells the page to reload.
	resp, err := http.Post(m.URL+"/_mock/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ev, _ := next(t, again); ev.name != "reset" {
		t.Fatalf("after reset: %+v", ev)
	}

	for _, bad := range []string{"/_ui/events/inbox", "/_ui/events/inbox?since=x", "/_ui/events/inbox?since=1.x"} {
		if _, status := sse(t, m, bad, ""); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
}

func TestJournalStream(t *testing.T) {
	t.Parallel()
	m := start(t)
	stream := streamOf(t, m, "/_ui/journal?errcode=43101")
	events, _ := sse(t, m, stream, "")
	send(t, m, alice, "Fine", "SF1")
	send(t, m, carol, "Refused", "SF2")
	ev, _ := next(t, events)
	if ev.name != "item" || !strings.Contains(ev.data, carol) || !strings.Contains(ev.data, `<span class="c-errcode">43101</span>`) ||
		!strings.Contains(ev.data, "access_token=***") {
		t.Fatalf("journal event: %+v", ev)
	}
	if _, status := sse(t, m, "/_ui/events/journal?since=1.0&errcode=x", ""); status != http.StatusBadRequest {
		t.Fatalf("bad errcode filter: %d", status)
	}
}
