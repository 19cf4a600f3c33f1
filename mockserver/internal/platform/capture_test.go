package platform_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/mockapi"
)

var (
	sendBody = []byte(`{"touser":"o-bench-user-0000000000000001","template_id":"bench-long-term-template-000000000000000001",` +
		`"page":"pages/order/detail?id=42","data":{"thing1":{"value":"无线耳机"},"character_string2":{"value":"SF1234567890"},` +
		`"time3":{"value":"2024年5月1日 15:01"}},"miniprogram_state":"formal","lang":"zh_CN"}`)
	sendAnswer = []byte(`{"errcode":0,"errmsg":"ok","msgid":1700000000000000001}` + "\n")
)

// handle runs one send-shaped call through Env.Handle, as a platform
// handler would see it: read the body, answer.
func handle(e *platform.Env, h http.Handler) {
	r := httptest.NewRequest(http.MethodPost, "/cgi-bin/message/subscribe/send?access_token=80_ACCESS.TOKEN-abcdefghijklmnop", bytes.NewReader(sendBody))
	h.ServeHTTP(httptest.NewRecorder(), r)
}

func newEnv(limit int) (*platform.Env, http.Handler) {
	e := &platform.Env{Clock: &clock.Clock{}, Journal: ring.New[mockapi.Request](1024), Inbox: ring.New[mockapi.Message](1), CaptureLimit: limit}
	h := e.Handle("wechat", "subscribe_send", func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		_, _ = io.ReadAll(r.Body)
		_, _ = w.Write(sendAnswer)
	})
	return e, h
}

func TestCaptureKeepsWhatTheHandlerSaw(t *testing.T) {
	t.Parallel()
	e, h := newEnv(64)
	handle(e, h)
	calls, _ := e.Journal.Filter(nil, 0, 0)
	c := calls[0]
	if c.Query != "access_token=***" || c.Body != string(sendBody[:64]) || !c.BodyTruncated || c.BodyBytes != int64(len(sendBody)) ||
		c.Answer != string(sendAnswer) || c.AnswerTruncated || c.AnswerBytes != int64(len(sendAnswer)) {
		t.Fatalf("journal entry %+v", c)
	}
}

// BenchmarkHandle measures what keeping bodies adds to a call's journal
// record (make bench compares the whole send path with a plain handler).
func BenchmarkHandle(b *testing.B) {
	for _, limit := range []int{0, 2048} {
		b.Run("capture="+strconv.Itoa(limit), func(b *testing.B) {
			e, h := newEnv(limit)
			b.ReportAllocs()
			for b.Loop() {
				handle(e, h)
			}
		})
	}
}
