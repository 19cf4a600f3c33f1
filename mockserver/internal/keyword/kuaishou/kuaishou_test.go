package kuaishou_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/keyword/kuaishou"
)

// One row per line of the send doc's table, and per reading of
// docs/mock-kuaishou.md. reason "" is valid.
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value string
		reason     keyword.Reason
		limit      int
	}{
		// The doc's example data.
		{"thing01", "会员卡", "", 0},
		{"thing02", "这是一张会员卡", "", 0},
		{"date01", "2020年02月25号", "", 0},
		{"licensePlate01", "京B12345", "", 0},

		{"thing01", strings.Repeat("物", 21), keyword.ReasonTooLong, 20},
		{"thing01", "  ", keyword.ReasonEmpty, 0},
		{"number01", "12.5", "", 0},
		{"number01", "12a", keyword.ReasonInvalid, 0},
		{"letter01", strings.Repeat("k", 33), keyword.ReasonTooLong, 32},

		{"symbol01", "+-*/", "", 0},
		{"symbol01", "%", keyword.ReasonInvalid, 0},
		{"symbol01", "++++++", keyword.ReasonTooLong, 5},
		{"string01", "abc123", "", 0},
		{"string01", "abc-123", keyword.ReasonInvalid, 0},
		{"string01", strings.Repeat("9", 33), keyword.ReasonTooLong, 32},
		{"date01", "2020 年 2 月 5 号", "", 0},
		{"date01", "2020年02月25日", "", 0},
		{"date01", "2020-02-25", keyword.ReasonInvalid, 0},
		{"date01", "2020年13月25号", keyword.ReasonInvalid, 0},
		{"date01", "2020年02月25号 ", keyword.ReasonInvalid, 0},
		{"date01", " 2020年02月25号", keyword.ReasonInvalid, 0},
		{"amount01", "99.90", "", 0},
		{"amount01", "99.999", keyword.ReasonInvalid, 0},
		{"amount01", "99元", keyword.ReasonInvalid, 0},
		{"amount01", "¥99", keyword.ReasonInvalid, 0},
		{"amount01", strings.Repeat("1", 21), keyword.ReasonTooLong, 20},
		{"phone01", "13800138000", "", 0},
		{"phone01", "1380013800", keyword.ReasonInvalid, 0},
		{"phone01", "138001380001", keyword.ReasonTooLong, 11},
		{"phone01", "+8613800138", keyword.ReasonInvalid, 0},
		{"licensePlate01", "粤A12345学", "", 0},
		{"licensePlate01", "B123456", keyword.ReasonInvalid, 0},
		{"licensePlate01", "京B1234", keyword.ReasonInvalid, 0},
		{"licensePlate01", "京B1234567", keyword.ReasonTooLong, 8},
		{"status01", "已完成", "", 0},
		{"status01", "done", keyword.ReasonInvalid, 0},
		{"status01", "已完成的订单", keyword.ReasonTooLong, 5},
		{"custom01", strings.Repeat("x", 21), keyword.ReasonTooLong, 20},
		{"custom01", "a\tb", keyword.ReasonInvalid, 0},
	}
	for _, tt := range tests {
		err := kuaishou.Check(tt.key, tt.value)
		var v *keyword.Violation
		switch {
		case tt.reason == "":
			if err != nil {
				t.Errorf("Check(%q, %q) = %v, want valid", tt.key, tt.value, err)
			}
		case !errors.As(err, &v):
			t.Errorf("Check(%q, %q) = %v, want %s", tt.key, tt.value, err, tt.reason)
		case v.Reason != tt.reason || v.Limit != tt.limit || v.Key != tt.key:
			t.Errorf("Check(%q, %q) = %+v, want %s with limit %d", tt.key, tt.value, *v, tt.reason, tt.limit)
		}
	}
}

func TestKnownType(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"thing", "number", "letter", "symbol", "string", "date", "amount", "phone", "licensePlate", "status"} {
		if !kuaishou.KnownType(typ) {
			t.Errorf("KnownType(%q) = false", typ)
		}
	}
	for _, typ := range []string{"character_string", "phone_number", "car_number", "time", ""} {
		if kuaishou.KnownType(typ) {
			t.Errorf("KnownType(%q) = true, a WeChat-only type", typ)
		}
	}
}

func TestCheckAllocatesNothingWhenValid(t *testing.T) {
	valid := [][2]string{{"thing01", "会员卡"}, {"date01", "2020年02月25号"}, {"amount01", "99.90"},
		{"phone01", "13800138000"}, {"licensePlate01", "京B12345"}, {"status01", "已完成"}, {"symbol01", "+"}}
	allocs := testing.AllocsPerRun(100, func() {
		for _, kv := range valid {
			if kuaishou.Check(kv[0], kv[1]) != nil {
				t.Fatalf("%s=%q refused", kv[0], kv[1])
			}
		}
	})
	if allocs != 0 {
		t.Errorf("valid values cost %v allocations per round, want 0", allocs)
	}
}
