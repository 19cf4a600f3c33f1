package keyword_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/keyword"
)

// verdicts of the mock's rules, one row per reading of the table
// (docs/mock-wechat.md). reason "" is valid; limit is the Violation's.
var verdicts = []struct {
	key, value string
	enum       []string
	reason     keyword.Reason
	limit      int
}{
	// The table's own examples.
	{"thing1", "配送中", nil, "", 0},
	{"time1", "15:01", nil, "", 0},
	{"time2", "2019年10月1日 15:01", nil, "", 0},
	{"date1", "2019年10月1日", nil, "", 0},
	{"date2", "2019-12-25 09:42", nil, "", 0},
	{"amount1", "¥100.00", nil, "", 0},
	{"phone_number1", "+86-0766-66888866", nil, "", 0},
	{"car_number1", "粤A8Z888挂", nil, "", 0},
	{"phrase1", "配送中", nil, "", 0},
	{"name1", "张三", nil, "", 0},

	// Every type: blank is empty; a second line or bad UTF-8 is invalid.
	{"thing1", "", nil, keyword.ReasonEmpty, 0},
	{"date1", " \t\u3000", nil, keyword.ReasonEmpty, 0},
	{"custom1", "", nil, keyword.ReasonEmpty, 0},
	{"thing1", "一\n二", nil, keyword.ReasonInvalid, 0},
	{"custom1", "a\u2029b", nil, keyword.ReasonInvalid, 0},
	{"thing1", "ok\xfe", nil, keyword.ReasonInvalid, 0},
	// Invalid wins over too long.
	{"thing1", strings.Repeat("长", 30) + "\n", nil, keyword.ReasonInvalid, 0},

	{"thing1", strings.Repeat("事", 20), nil, "", 0},
	{"thing1", strings.Repeat("事", 21), nil, keyword.ReasonTooLong, 20},
	{"thing1", "🎉 Sale, 50% off!", nil, "", 0},
	{"thing1", "a\u200bb", nil, keyword.ReasonInvalid, 0},
	{"short_thing1", "12345", nil, "", 0},
	{"short_thing1", "123456", nil, keyword.ReasonTooLong, 5},

	{"number1", "3.14", nil, "", 0},
	{"number1", strings.Repeat("1", 32), nil, "", 0},
	{"number1", strings.Repeat("1", 33), nil, keyword.ReasonTooLong, 32},
	{"number1", "1.2.3", nil, keyword.ReasonInvalid, 0},
	{"number1", "-1", nil, keyword.ReasonInvalid, 0},
	{"number1", "１２", nil, keyword.ReasonInvalid, 0},
	{"number1", "7.", nil, keyword.ReasonInvalid, 0},

	{"letter1", "Hello", nil, "", 0},
	{"letter1", "héllo", nil, keyword.ReasonInvalid, 0},
	{"letter1", strings.Repeat("z", 33), nil, keyword.ReasonTooLong, 32},

	{"symbol1", "%&*", nil, "", 0},
	{"symbol1", "！？", nil, "", 0},
	{"symbol1", "a!", nil, keyword.ReasonInvalid, 0},
	{"symbol1", "++++++", nil, keyword.ReasonTooLong, 5},

	{"character_string1", "A-2019/10#01", nil, "", 0},
	{"character_string1", "测试订阅消息1", nil, keyword.ReasonInvalid, 0},
	{"character_string1", "a b", nil, keyword.ReasonInvalid, 0},
	{"character_string1", strings.Repeat("x", 33), nil, keyword.ReasonTooLong, 32},

	{"time1", "9:05", nil, "", 0},
	{"time1", "09:05:59", nil, "", 0},
	{"time1", "15:01~16:30", nil, "", 0},
	{"time1", "2019/10/01 15:01 ~ 2019/10/02 08:00", nil, "", 0},
	{"time1", "2019年10月1日 15:01~16:00", nil, "", 0},
	{"time1", "24:00", nil, keyword.ReasonInvalid, 0},
	{"time1", "15:1", nil, keyword.ReasonInvalid, 0},
	{"time1", "15：01", nil, keyword.ReasonInvalid, 0},
	{"time1", "15:01～16:00", nil, keyword.ReasonInvalid, 0},
	{"time1", "2019年10月1日", nil, keyword.ReasonInvalid, 0},
	{"time1", "3:00 PM", nil, keyword.ReasonInvalid, 0},
	{"time1", " 15:01", nil, keyword.ReasonInvalid, 0},

	{"date1", "2019.10.01", nil, "", 0},
	{"date1", "2019年10月1日~2019年10月7日", nil, "", 0},
	{"date1", "2019-10-01 ~ 2019-10-07", nil, "", 0},
	{"date1", "2019年10月1日 15:01~16:00", nil, keyword.ReasonInvalid, 0},
	{"date1", "2019-10/01", nil, keyword.ReasonInvalid, 0},
	{"date1", "2019-13-01", nil, keyword.ReasonInvalid, 0},
	{"date1", "2019-02-32", nil, keyword.ReasonInvalid, 0},
	{"date1", "19-10-01", nil, keyword.ReasonInvalid, 0},
	{"date1", "2019-10-01T15:01", nil, keyword.ReasonInvalid, 0},
	{"date1", "2019年10月1日 ", nil, keyword.ReasonInvalid, 0},

	{"amount1", "100", nil, "", 0},
	{"amount1", "100元", nil, "", 0},
	{"amount1", "$9.9", nil, "", 0},
	{"amount1", "￥1234567890.00元", nil, "", 0},
	{"amount1", "¥12345678901", nil, keyword.ReasonTooLong, 10},
	{"amount1", "1,000.00", nil, keyword.ReasonInvalid, 0},
	{"amount1", "1.000", nil, keyword.ReasonInvalid, 0},
	{"amount1", "-5", nil, keyword.ReasonInvalid, 0},
	{"amount1", "¥¥5", nil, keyword.ReasonInvalid, 0},
	{"amount1", "元", nil, keyword.ReasonInvalid, 0},

	{"phone_number1", "(0766)6688-8866#1", nil, "", 0},
	{"phone_number1", "+-()", nil, keyword.ReasonInvalid, 0},
	{"phone_number1", "0766 66888866", nil, keyword.ReasonInvalid, 0},
	{"phone_number1", strings.Repeat("8", 18), nil, keyword.ReasonTooLong, 17},

	{"car_number1", "京B12345", nil, "", 0},
	{"car_number1", "ab12", nil, "", 0},
	{"car_number1", "京B1警345", nil, keyword.ReasonInvalid, 0},
	{"car_number1", "京B-12345", nil, keyword.ReasonInvalid, 0},
	{"car_number1", "京B1234567", nil, keyword.ReasonTooLong, 8},

	{"name1", "Zhang San", nil, "", 0},
	{"name1", "O'Neil-José", nil, "", 0},
	{"name1", "阿卜杜·买买提", nil, "", 0},
	{"name1", "张三Li", nil, "", 0},
	{"name1", "R2D2", nil, keyword.ReasonInvalid, 0},
	{"name1", "张三李四王五赵六钱七", nil, "", 0},
	{"name1", "张三李四王五赵六钱七孙", nil, keyword.ReasonTooLong, 10},
	{"name1", "张Abcdefghij", nil, keyword.ReasonTooLong, 10},
	{"name1", strings.Repeat("a", 21), nil, keyword.ReasonTooLong, 20},

	{"phrase1", "已完成配送", nil, "", 0},
	{"phrase1", "已完成的配送", nil, keyword.ReasonTooLong, 5},
	{"phrase1", "配送中！", nil, keyword.ReasonInvalid, 0},
	{"phrase1", "ok", nil, keyword.ReasonInvalid, 0},

	{"enum1", "已发货", []string{"待付款", "已发货"}, "", 0},
	{"enum1", "已签收", []string{"待付款", "已发货"}, keyword.ReasonInvalid, 0},
	{"enum1", strings.Repeat("长", 25), []string{strings.Repeat("长", 25)}, "", 0},
	{"enum1", strings.Repeat("长", 21), nil, keyword.ReasonTooLong, 20},

	// Types the table does not list: lenient, at most 20.
	{"site01", "广州市新港中路397号", nil, "", 0},
	{"const3", strings.Repeat("c", 21), nil, keyword.ReasonTooLong, 20},
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range verdicts {
		err := keyword.Check(tt.key, tt.value, tt.enum)
		var v *keyword.Violation
		switch {
		case tt.reason == "":
			if err != nil {
				t.Errorf("Check(%q, %q) = %v, want valid", tt.key, tt.value, err)
			}
		case !errors.As(err, &v):
			t.Errorf("Check(%q, %q) = %v, want %s", tt.key, tt.value, err, tt.reason)
		case v.Reason != tt.reason || v.Limit != tt.limit || v.Key != tt.key || v.Type != keyword.Type(tt.key):
			t.Errorf("Check(%q, %q) = %+v, want %s with limit %d", tt.key, tt.value, *v, tt.reason, tt.limit)
		}
	}
}

// The errmsg texts of docs/mock-wechat.md (after "argument invalid! ").
func TestViolationText(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{
		"":                      "data.thing1.value is empty",
		strings.Repeat("x", 21): "data.thing1.value exceeds limit",
		"a\nb":                  "data.thing1.value invalid",
	} {
		if err := keyword.Check("thing1", value, nil); err == nil || err.Error() != want {
			t.Errorf("Check(thing1, %q) = %v, want %q", value, err, want)
		}
	}
}

func TestType(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"thing1": "thing", "character_string12": "character_string", "thing": "thing", "12": "", "a1b2": "a1b", "": "",
	} {
		if got := keyword.Type(key); got != want {
			t.Errorf("Type(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"thing1":             "",
		"character_string12": "",
		"short_thing3":       "",
		"thing":              `keyword "thing" must be a type followed by digits, e.g. thing1`,
		"Thing1":             `keyword "Thing1" must be a type followed by digits, e.g. thing1`,
		"1":                  `keyword "1" must be a type followed by digits, e.g. thing1`,
		"th1ng2":             `keyword "th1ng2" must be a type followed by digits, e.g. thing1`,
		"site1":              `keyword "site1" has unknown type "site"`,
	} {
		err := keyword.CheckKey(key)
		if got := errText(err); got != want {
			t.Errorf("CheckKey(%q) = %q, want %q", key, got, want)
		}
	}
	for key, want := range map[string]string{
		"keyword1":  "",
		"keyword12": "",
		"thing2":    "",
		"keyword":   `keyword "keyword" must be keyword<N> or a typed key such as thing1`,
		"Keyword1":  `keyword "Keyword1" must be keyword<N> or a typed key such as thing1`,
		"site1":     `keyword "site1" must be keyword<N> or a typed key such as thing1`,
	} {
		if got := errText(keyword.CheckNumberedKey(key)); got != want {
			t.Errorf("CheckNumberedKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The send path judges every keyword of every message: a value that
// passes must cost no allocation (the mock's send benchmark,
// go test -bench 'Handler/' ./mockserver/, counts them per request).
func TestCheckAllocatesNothingWhenValid(t *testing.T) {
	enum := []string{"待付款", "已发货"}
	valid := [][2]string{
		{"thing1", "您的订单已发货"}, {"number2", "3.14"}, {"time3", "2019-10-01 15:01~16:00"},
		{"date4", "2019年10月1日"}, {"amount5", "¥100.00元"}, {"name6", "张三"}, {"car_number7", "粤A8Z888挂"},
		{"phone_number8", "+86-0766-66888866"}, {"phrase9", "配送中"}, {"enum10", "已发货"}, {"custom11", "x"},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, kv := range valid {
			if keyword.Check(kv[0], kv[1], enum) != nil {
				t.Fatalf("%s=%q refused", kv[0], kv[1])
			}
		}
	})
	if allocs != 0 {
		t.Errorf("valid values cost %v allocations per round, want 0", allocs)
	}
}

func FuzzCheck(f *testing.F) {
	for _, tt := range verdicts {
		f.Add(tt.key, tt.value)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		err := keyword.Check(key, value, nil)
		var v *keyword.Violation
		if err != nil && (!errors.As(err, &v) || v.Key != key || !strings.HasPrefix(v.Error(), "data."+key+".value ")) {
			t.Fatalf("Check(%q, %q) = %v", key, value, err)
		}
	})
}
