package wechat

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// The success answer made once is what writeJSON writes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	if err := platform.SameAnswer(func(w http.ResponseWriter) {
		writeJSON(w, sendAnswer{ErrCode: CodeOK, ErrMsg: "ok", MsgID: 1700000000000000042})
	},
		func(w http.ResponseWriter) {
			platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(1700000000000000042))
		}); err != nil {
		t.Fatal(err)
	}
	if err := platform.SameAnswer(func(w http.ResponseWriter) { writeJSON(w, errorBody{ErrCode: CodeOK, ErrMsg: "ok"}) },
		func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okAnswer) }); err != nil {
		t.Fatalf("ok: %v", err)
	}
}
