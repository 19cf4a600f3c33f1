package baidu

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// The success answer made once is what writeJSON writes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	if err := platform.SameAnswer(func(w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, businessAnswer{Errno: ErrnoOK, Msg: ErrnoOK.Message(), Data: sendAnswerData{MsgKey: 4330042}})
	},
		func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(4330042)) }); err != nil {
		t.Fatal(err)
	}
	// template/send answers the same bytes (its data type is its own).
	if err := platform.SameAnswer(func(w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, businessAnswer{Errno: ErrnoOK, Msg: ErrnoOK.Message(), Data: templateSendData{MsgKey: 4330042}})
	},
		func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(4330042)) }); err != nil {
		t.Fatalf("template/send: %v", err)
	}
}
