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

// A body read with ReadBody (and ReadForm) is captured without a copy: the
// journal still keeps the first CaptureLimit bytes masked and counts them
// all, and the handler's bytes stay as sent.
func TestCaptureOfReadBody(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, 64, 4096} {
		e := &platform.Env{Clock: &clock.Clock{}, Journal: ring.New[mockapi.Request](16), Inbox: ring.New[mockapi.Message](1), CaptureLimit: limit}
		var got []byte
		h := e.Handle("wechat", "subscribe_send", func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
			got, _ = platform.ReadBody(w, r, 1<<20)
			_, _ = w.Write(sendAnswer)
		})
		body := append([]byte(`{"access_token":"secret-token",`), sendBody[1:]...)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/send", bytes.NewReader(body)))
		calls, _ := e.Journal.Filter(nil, 0, 0)
		c := calls[0]
		masked := bytes.Replace(body, []byte("secret-token"), []byte("***"), 1)
		want := ""
		if limit > 0 {
			want = string(masked[:min(len(masked), limit-len("secret-token")+len("***"))])
			if limit >= len(body) {
				want = string(masked)
			}
		}
		if !bytes.Equal(got, body) || c.BodyBytes != int64(len(body)) || c.BodyTruncated != (limit > 0 && limit < len(body)) || c.Body != want {
			t.Fatalf("limit %d: handler read %q; journal %+v, want body %q", limit, got, c, want)
		}
	}
	// A form through ReadForm: the values and the capture share the bytes.
	e := &platform.Env{Clock: &clock.Clock{}, Journal: ring.New[mockapi.Request](16), Inbox: ring.New[mockapi.Message](1), CaptureLimit: 4096}
	var form map[string][]string
	h := e.Handle("kuaishou", "template_send", func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		if err := platform.ReadForm(w, r, 1<<20); err != nil {
			t.Errorf("ReadForm: %v", err)
		}
		form = r.Form
	})
	r := httptest.NewRequest(http.MethodPost, "/send?app_id=ks1", bytes.NewReader([]byte("access_token=tok&data=%7B%7D&to_user=u")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), r)
	calls, _ := e.Journal.Filter(nil, 0, 0)
	if c := calls[0]; c.Body != "access_token=***&data=%7B%7D&to_user=u" || form["data"][0] != "{}" || form["to_user"][0] != "u" || form["app_id"][0] != "ks1" {
		t.Fatalf("journal %+v, form %v", c, form)
	}
}
