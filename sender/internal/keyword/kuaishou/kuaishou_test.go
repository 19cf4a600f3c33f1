package kuaishou_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/keyword"
	"github.com/minipush/minipush/sender/internal/keyword/kuaishou"
)

// The keyword types the control API cannot register yet (string, phone,
// licensePlate, status: it accepts WeChat-typed keys only) are tested here
// directly; the others are also driven over HTTP in send_test.go.
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value string
		want       keyword.Reason // "" = valid
	}{
		{"thing01", "会员卡", ""},
		{"thing01", strings.Repeat("a", 20), ""},
		{"thing01", strings.Repeat("a", 21), keyword.ReasonTooLong},
		{"thing02", "", keyword.ReasonEmpty},
		{"thing01", "a\nb", keyword.ReasonInvalid},
		{"number01", "3.14", ""},
		{"number01", "-3", keyword.ReasonInvalid},
		{"number01", strings.Repeat("9", 33), keyword.ReasonTooLong},
		{"letter01", "abcXYZ", ""},
		{"letter01", "abc1", keyword.ReasonInvalid},
		{"symbol01", "+-*/", ""},
		{"symbol01", "+-*/+", ""},
		{"symbol01", "+-*/+-", keyword.ReasonTooLong},
		{"symbol01", "%", keyword.ReasonInvalid}, // WeChat would take it
		{"string01", "AB12cd", ""},
		{"string01", "AB-12", keyword.ReasonInvalid},
		{"string01", strings.Repeat("a", 33), keyword.ReasonTooLong},
		{"date01", "2020年02月25号", ""},
		{"date01", "2020年2月5日", ""},
		{"date01", "2020 年 02 月 25 号", ""},
		{"date01", "2020-02-25", keyword.ReasonInvalid},
		{"date01", "2020年13月25号", keyword.ReasonInvalid},
		{"date01", "2020年02月32号", keyword.ReasonInvalid},
		{"date01", "2020年02月25号 15:00", keyword.ReasonInvalid},
		{"date01", " 2020年02月25号", keyword.ReasonInvalid},
		{"amount01", "100", ""},
		{"amount01", "99.50", ""},
		{"amount01", "99.505", keyword.ReasonInvalid},
		{"amount01", "¥100", keyword.ReasonInvalid},
		{"amount01", "100元", keyword.ReasonInvalid},
		{"amount01", strings.Repeat("1", 21), keyword.ReasonTooLong},
		{"phone01", "13800138000", ""},
		{"phone01", "1380013800", keyword.ReasonInvalid},
		{"phone01", "138001380001", keyword.ReasonTooLong},
		{"phone01", "+8613800138", keyword.ReasonInvalid},
		{"licensePlate01", "京B12345", ""},
		{"licensePlate01", "粤AD12345", ""}, // new-energy plate, 8
		{"licensePlate01", "粤B1234学", ""},
		{"licensePlate01", "京B1234", keyword.ReasonInvalid},
		{"licensePlate01", "京B1234567", keyword.ReasonTooLong},
		{"licensePlate01", "BB12345", keyword.ReasonInvalid},
		{"licensePlate01", "京B12学45", keyword.ReasonInvalid},
		{"status01", "已发货", ""},
		{"status01", "已经完成发货", keyword.ReasonTooLong},
		{"status01", "done", keyword.ReasonInvalid},
		{"time01", strings.Repeat("x", 20), ""}, // not a Kuaishou type: lenient
		{"time01", strings.Repeat("x", 21), keyword.ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			err := kuaishou.Check(tt.key, tt.value)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckKeyword(%q, %q) = %v, want valid", tt.key, tt.value, err)
				}
				return
			}
			var v *keyword.Violation
			if !errors.As(err, &v) {
				t.Fatalf("CheckKeyword(%q, %q) = %v, want a %s violation", tt.key, tt.value, err, tt.want)
			}
			if v.Reason != tt.want || v.Key != tt.key {
				t.Fatalf("violation %+v, want reason %q for %s", v, tt.want, tt.key)
			}
		})
	}
}

func TestKnownType(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"thing", "number", "letter", "symbol", "string", "date", "amount", "phone", "licensePlate", "status"} {
		if !kuaishou.KnownType(typ) {
			t.Errorf("KnownType(%q) = false, want true", typ)
		}
	}
	for _, typ := range []string{"time", "character_string", "phone_number", ""} {
		if kuaishou.KnownType(typ) {
			t.Errorf("KnownType(%q) = true, want false", typ)
		}
	}
}
