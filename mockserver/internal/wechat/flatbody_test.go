package wechat

import (
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Every JSON field of a body read by platform.DecodeFlat is listed, so the
// one-pass read fills what encoding/json would.
func TestFlatBodiesListEveryField(t *testing.T) {
	var send sendRequest
	if err := platform.FlatFieldsMatch(&send, send.flatFields()); err != nil {
		t.Errorf("sendRequest: %v", err)
	}
}
