package douyin

import (
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Every JSON field of a body read by platform.DecodeFlat is listed, so the
// one-pass read fills what encoding/json would.
func TestFlatBodiesListEveryField(t *testing.T) {
	var v1 notifyV1Request
	if err := platform.FlatFieldsMatch(&v1, v1.flatFields()); err != nil {
		t.Errorf("notifyV1Request: %v", err)
	}
	var v2 notifyV2Request
	if err := platform.FlatFieldsMatch(&v2, v2.flatFields()); err != nil {
		t.Errorf("notifyV2Request: %v", err)
	}
}
