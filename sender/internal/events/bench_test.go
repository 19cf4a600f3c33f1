package events_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	wxutil "github.com/silenceper/wechat/v2/util"

	"github.com/minipush/minipush/sender/internal/events"
)

// BenchmarkReceive measures one push from arrival to the answer — verify,
// decrypt (safe mode), decode, store in SQLite — pushes one after another,
// every one distinct. One at a time, each push pays a whole commit of its
// own; concurrent pushes share commits (the store's group commit).
func BenchmarkReceive(b *testing.B) {
	for _, mode := range []string{"plain", "safe"} {
		for _, format := range []string{"xml", "json"} {
			b.Run(format+"/"+mode, func(b *testing.B) {
				key := ""
				if mode == "safe" {
					key = wxAESKey
				}
				path := b.TempDir() + "/db/minipush.db"
				st, err := openStore(path)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				now := time.Now()
				rc, err := events.NewReceiver([]events.App{wechatApp(key)}, st, discard(), events.WithClock(func() time.Time { return now }))
				if err != nil {
					b.Fatal(err)
				}
				h := rc.Handler()
				ts := fmt.Sprint(now.Unix())
				sig := wxutil.Signature(wxToken, ts, "1")
				reqs := make([]*http.Request, b.N)
				for i := range b.N {
					body := popup(format, int64(i), "tpl-order:accept")
					q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {"1"}}
					if mode == "safe" {
						enc, _ := wxutil.EncryptMsg([]byte("0123456789abcdef"), []byte(body), wxAppID, wxAESKey)
						q.Set("encrypt_type", "aes")
						q.Set("msg_signature", wxutil.Signature(wxToken, ts, "1", string(enc)))
						body = envelope(b, format, mode, body, string(enc))
					}
					reqs[i] = httptest.NewRequest(http.MethodPost, "/v1/platform-events/"+wxAppName+"?"+q.Encode(), strings.NewReader(body))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, reqs[i])
					if w.Code != http.StatusOK {
						b.Fatalf("push %d: %d %s", i, w.Code, w.Body)
					}
				}
			})
		}
	}
}
