package loadtest

import (
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/minipush/minipush/loadtest/scenario"
)

func TestParseQueueDepth(t *testing.T) {
	t.Parallel()
	const metrics = `# HELP minipush_queue_depth Messages per status in storage.
# TYPE minipush_queue_depth gauge
minipush_queue_depth{status="delivered"} 1200
minipush_queue_depth{status="failed"} 7
minipush_queue_depth{status="queued"} 3
minipush_queue_depth{status="rejected"} 0
minipush_queue_depth{status="retrying"} 2
minipush_queue_depth{status="sending"} 1
minipush_send_latency_seconds_bucket{platform="wechat",le="0.001"} 5
`
	got, err := parseQueueDepth(strings.NewReader(metrics))
	if err != nil || got != 6 {
		t.Errorf("parseQueueDepth = %d, %v; want 6 (queued+sending+retrying)", got, err)
	}
	if _, err := parseQueueDepth(strings.NewReader("go_goroutines 12\n")); err == nil {
		t.Error("no minipush_queue_depth: want an error")
	}
	if _, err := parseQueueDepth(strings.NewReader(`minipush_queue_depth{status="queued"} lots` + "\n")); err == nil {
		t.Error("bad value: want an error")
	}
}

// FuzzParseQueueDepth: whatever /metrics answers, no panic, and a depth
// is never negative unless the text says so.
func FuzzParseQueueDepth(f *testing.F) {
	f.Add("minipush_queue_depth{status=\"queued\"} 3\nminipush_queue_depth{status=\"retrying\"} 2\n")
	f.Add("minipush_queue_depth{status=\"sending\"} 1e3\n")
	f.Add("minipush_queue_depth{ 5\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseQueueDepth(strings.NewReader(s))
		if err == nil && n < 0 && !strings.Contains(s, "-") {
			t.Fatalf("depth %d from %q", n, s)
		}
	})
}

// FuzzClassify: any status and body from a target is judged without a
// panic, and only the expected answers count as expected.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(202), []byte(`{"id":"msg_1","status":"queued"}`), uint8(0))
	f.Add(uint16(202), []byte(`{"id":"bc_1","recipients":3}`), uint8(4))
	f.Add(uint16(422), []byte(`{"error":"validation failed","problems":[{"field":"data.thing1","rule":"keyword_exceeds_limit"}]}`), uint8(2))
	f.Add(uint16(200), []byte(`{"errcode":0,"errmsg":"ok","msgid":1}`), uint8(0))
	f.Add(uint16(200), []byte(`{"errcode":43101}`), uint8(3))
	f.Add(uint16(500), []byte(`<html>`), uint8(1))
	f.Add(uint16(0), []byte(nil), uint8(0))
	e := &env{cfg: &Config{ContentRule: DefaultContentRule, Fanout: 3}, users: []string{"a", "b", "c"}, noGrant: []string{"n"}}
	sender, mock := newSenderTarget(e), newMockTarget(e)
	f.Fuzz(func(t *testing.T, code uint16, body []byte, k uint8) {
		kind := scenario.Kinds[int(k)%len(scenario.Kinds)]
		for _, tgt := range []target{sender, mock} {
			r := &record{kind: kind, marker: "lt1-1", to: e.recipients(kind, 1)}
			tgt.classify(r, &vegeta.Result{Code: code, Body: body, URL: "http://x/#1"})
			if r.ok && r.detail != "" {
				t.Fatalf("an expected answer with an error detail: %+v", r)
			}
			if !r.ok && r.detail == "" {
				t.Fatalf("an unexpected answer without detail: %+v", r)
			}
			if r.ok && code != 200 && code != 202 && code != 422 {
				t.Fatalf("HTTP %d judged as expected", code)
			}
			if code == 0 && (!r.unanswered || r.ok) {
				t.Fatalf("a transport error judged %+v", r)
			}
		}
	})
}
