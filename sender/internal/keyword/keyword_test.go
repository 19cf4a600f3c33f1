package keyword_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/keyword"
)

const (
	thing20 = "您的订单已发货，请留意查收快递信息谢谢！"  // 20 runes
	thing21 = "您的订单已发货，请留意查收快递信息谢谢您！" // 21 runes
)

type checkCase struct {
	key, value string
	enum       []string
	reason     keyword.Reason // "" means valid
	limit      int            // expected Violation.Limit
}

// ok, empty, invalid and tooLong build table rows.
func ok(key, value string) checkCase { return checkCase{key: key, value: value} }
func empty(key, value string) checkCase {
	return checkCase{key: key, value: value, reason: keyword.ReasonEmpty}
}
func invalid(key, value string) checkCase {
	return checkCase{key: key, value: value, reason: keyword.ReasonInvalid}
}
func tooLong(key, value string, limit int) checkCase {
	return checkCase{key: key, value: value, reason: keyword.ReasonTooLong, limit: limit}
}

var checkCases = []checkCase{
	// Rules shared by every type.
	empty("thing1", ""),
	empty("thing1", "   "),
	empty("time2", " \t\n"),
	empty("number3", "\u3000"),
	empty("enum4", ""),
	empty("custom5", ""),
	invalid("thing1", "第一行\n第二行"),
	invalid("thing1", "tab\there"),
	invalid("thing1", "line\u2028sep"),
	invalid("thing1", "bad\xffutf8"),
	invalid("custom5", "a\rb"),

	// thing
	ok("thing1", "配送中"),
	ok("thing1", "Order #123 已发货!"),
	ok("thing1", "🎉 活动开始"),
	ok("thing1", thing20),
	ok("thing01", strings.Repeat("a", 20)),
	tooLong("thing1", thing21, 20),
	tooLong("thing1", strings.Repeat("a", 21), 20),
	invalid("thing1", "zero\u200bwidth"),

	// short_thing (UNCONFIRMED type)
	ok("short_thing1", "已发货"),
	ok("short_thing1", "ab cd"),
	ok("short_thing1", "已经发货了"),
	tooLong("short_thing1", "订单已经发货", 5),
	tooLong("short_thing1", "abcdef", 5),

	// number
	ok("number1", "339208499"),
	ok("number1", "12"),
	ok("number1", "3.50"),
	ok("number1", "0"),
	ok("number1", strings.Repeat("9", 32)),
	ok("number1", strings.Repeat("9", 30)+".5"),
	tooLong("number1", strings.Repeat("9", 33), 32),
	tooLong("number1", strings.Repeat("9", 31)+".5", 32),
	invalid("number1", ".5"),
	invalid("number1", "5."),
	invalid("number1", "-3"),
	invalid("number1", "1e3"),
	invalid("number1", "1.2.3"),
	invalid("number1", "1,000"),
	invalid("number1", " 12"),
	invalid("number1", "１２"),
	invalid("number1", strings.Repeat("9", 40)+"x"),

	// letter
	ok("letter1", "abcXYZ"),
	ok("letter1", strings.Repeat("z", 32)),
	tooLong("letter1", strings.Repeat("z", 33), 32),
	invalid("letter1", "abc1"),
	invalid("letter1", "ab cd"),
	invalid("letter1", "José"),
	invalid("letter1", "字母"),

	// symbol
	ok("symbol1", "!"),
	ok("symbol1", "+-*/%"),
	ok("symbol1", "￥，。"),
	tooLong("symbol1", "!!!!!!", 5),
	invalid("symbol1", "a!"),
	invalid("symbol1", "1"),
	invalid("symbol1", "! !"),

	// character_string
	ok("character_string1", "ORDER-2019-0001"),
	ok("character_string12", "a1!@#$%^&*()_+={}[]"),
	ok("character_string1", strings.Repeat("x", 32)),
	tooLong("character_string1", strings.Repeat("x", 33), 32),
	invalid("character_string1", "订单123"),
	invalid("character_string1", "AB 12"),
	invalid("character_string1", "ＡＢ"),

	// time
	ok("time1", "15:01"),
	ok("time1", "9:05"),
	ok("time1", "00:00:00"),
	ok("time1", "23:59:59"),
	ok("time1", "2019年10月1日 15:01"),
	ok("time1", "2019-12-25 09:42"),
	ok("time1", "2019/12/25 09:42:10"),
	ok("time1", "2019.1.5 9:42"),
	ok("time1", "15:01~16:00"),
	ok("time1", "15:01 ~ 16:00"),
	ok("time1", "2019年10月1日 15:01~2019年10月2日 15:01"),
	ok("time1", "2019年10月1日 15:01~16:00"),
	ok("time1", "2023-08-21 22:48:54"),
	invalid("time1", "2019年10月1日"),
	invalid("time1", "15:01～16:00"),
	invalid("time1", "24:00"),
	invalid("time1", "15:60"),
	invalid("time1", "15:01:60"),
	invalid("time1", "15:1"),
	invalid("time1", "123:01"),
	invalid("time1", "15：01"),
	invalid("time1", "3pm"),
	invalid("time1", "2019-10-0115:01"),
	invalid("time1", "2019-10-01T15:01"),
	invalid("time1", "15:01~"),
	invalid("time1", "15:01~16:00~17:00"),
	invalid("time1", " 15:01"),
	invalid("time1", "15:01 "),
	invalid("time1", "2019-13-01 15:01"),

	// date
	ok("date1", "2019年10月1日"),
	ok("date1", "2019年10月1日 15:01"),
	ok("date1", "2019-12-25 09:42"),
	ok("date1", "2019-10-01"),
	ok("date1", "2019/10/01"),
	ok("date1", "2019.10.01"),
	ok("date1", "2019-1-1"),
	ok("date1", "2019年10月1日~2019年10月2日"),
	ok("date1", "2019-10-01 ~ 2019-10-07"),
	ok("date1", "2019-10-01 08:00~2019-10-01 18:00:00"),
	ok("date01", "2015年01月05日"),
	invalid("date1", "2019年10月1日～2019年10月2日"),
	invalid("date1", "15:01"),
	invalid("date1", "2019-13-01"),
	invalid("date1", "2019-00-01"),
	invalid("date1", "2019-10-32"),
	invalid("date1", "2019-10-00"),
	invalid("date1", "2019-10/01"),
	invalid("date1", "19-10-01"),
	invalid("date1", "2019年10月1"),
	invalid("date1", "2019-100-01"),
	invalid("date1", "2019-10-01 25:00"),
	invalid("date1", "2019年10月1日 15:01~16:00"),
	invalid("date1", "明天"),

	// amount
	ok("amount1", "¥100.00"),
	ok("amount1", "100元"),
	ok("amount1", "￥8.5元"),
	ok("amount1", "$0.99"),
	ok("amount1", "€12"),
	ok("amount1", "£3"),
	ok("amount1", "100.00"),
	ok("amount1", "¥1234567890.00"),
	tooLong("amount1", "¥12345678901", 10),
	tooLong("amount1", "12345678901.00元", 10),
	invalid("amount1", "¥¥100"),
	invalid("amount1", "¥-100"),
	invalid("amount1", "¥1,000.00"),
	invalid("amount1", "¥.50"),
	invalid("amount1", "¥100."),
	invalid("amount1", "¥1.234"),
	invalid("amount1", "100元元"),
	invalid("amount1", "元"),
	invalid("amount1", "¥"),
	invalid("amount1", "¥ 100"),
	invalid("amount1", "100 USD"),
	invalid("amount1", "一百元"),

	// phone_number
	ok("phone_number1", "+86-0766-66888866"),
	ok("phone_number1", "(010)12345678"),
	ok("phone_number1", "13800138000"),
	ok("phone_number1", "400-800-8888#1"),
	ok("phone_number1", strings.Repeat("1", 17)),
	tooLong("phone_number1", strings.Repeat("1", 18), 17),
	tooLong("phone_number1", "+86-0766-66888866-1", 17),
	invalid("phone_number6", "call me"),
	invalid("phone_number1", "138 0013 8000"),
	invalid("phone_number1", "电话13800138000"),
	invalid("phone_number1", "+-()"),

	// car_number
	ok("car_number1", "粤A8Z888挂"),
	ok("car_number1", "京A12345"),
	ok("car_number1", "粤AD12345"),
	ok("car_number1", "a8z888"),
	tooLong("car_number1", "粤A1234567", 8),
	tooLong("car_number1", "粤A123456挂", 8),
	invalid("car_number1", "粤A-12345"),
	invalid("car_number1", "粤A 12345"),
	invalid("car_number1", "粤A12粤345"),
	invalid("car_number1", "粤A１２３４５"),

	// name
	ok("name1", "张三"),
	ok("name1", "Zhang San"),
	ok("name1", "O'Neil"),
	ok("name1", "José"),
	ok("name1", "阿卜杜·买买提"),
	ok("name1", "张San"),
	ok("name1", strings.Repeat("张", 10)),
	ok("name1", strings.Repeat("a", 20)),
	tooLong("name1", strings.Repeat("张", 11), 10),
	tooLong("name1", "张"+strings.Repeat("a", 10), 10),
	tooLong("name1", strings.Repeat("a", 21), 20),
	invalid("name1", "Agent 007"),
	invalid("name1", "张三3"),

	// phrase
	ok("phrase1", "配送中"),
	ok("phrase1", "审核通过"),
	ok("phrase2", "货物配送中"),
	tooLong("phrase1", "货物正在配送中", 5),
	invalid("phrase1", "配送中!"),
	invalid("phrase1", "OK"),
	invalid("phrase1", "配送 中"),
	invalid("phrase1", "１"),

	// enum
	ok("enum1", "anything up to 20"),
	tooLong("enum1", strings.Repeat("e", 21), 20),
	{key: "enum1", value: "已支付", enum: []string{"已支付", "未支付"}},
	{key: "enum1", value: strings.Repeat("长", 30), enum: []string{strings.Repeat("长", 30)}},
	{key: "enum1", value: "已退款", enum: []string{"已支付", "未支付"}, reason: keyword.ReasonInvalid},
	{key: "enum1", value: " 已支付", enum: []string{"已支付"}, reason: keyword.ReasonInvalid},
	{key: "enum1", value: " ", enum: []string{" "}, reason: keyword.ReasonEmpty},
	// The list is for enum only.
	{key: "thing1", value: "配送中", enum: []string{"x"}},

	// unknown types are lenient
	ok("site01", "TIT创意园"),
	ok("custom", "anything !@# 中文"),
	ok("123", "all-digit key"),
	tooLong("site02", strings.Repeat("路", 21), 20),
}

func TestCheck(t *testing.T) {
	t.Parallel()
	if n := utf8.RuneCountInString(thing20); n != 20 {
		t.Fatalf("thing20 has %d runes", n)
	}
	if n := utf8.RuneCountInString(thing21); n != 21 {
		t.Fatalf("thing21 has %d runes", n)
	}
	for _, tc := range checkCases {
		name := fmt.Sprintf("%s=%q", tc.key, tc.value)
		if len(tc.enum) > 0 {
			name += fmt.Sprintf("/enum%q", tc.enum)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := keyword.Check(tc.key, tc.value, tc.enum)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check(%q, %q) = %v, want nil", tc.key, tc.value, err)
				}
				return
			}
			var v *keyword.Violation
			if !errors.As(err, &v) {
				t.Fatalf("Check(%q, %q) = %v, want *Violation with reason %q", tc.key, tc.value, err, tc.reason)
			}
			want := keyword.Violation{Key: tc.key, Type: keyword.Type(tc.key), Reason: tc.reason, Limit: tc.limit}
			if *v != want {
				t.Fatalf("Check(%q, %q) = %+v, want %+v", tc.key, tc.value, *v, want)
			}
		})
	}
}

func TestCheckReturnsUntypedNil(t *testing.T) {
	t.Parallel()
	if err := keyword.Check("thing1", "ok", nil); err != nil {
		t.Fatalf("Check returned non-nil error %#v for a valid value", err)
	}
}

func TestViolationError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    keyword.Violation
		want string
	}{
		{keyword.Violation{Key: "thing1", Type: "thing", Reason: keyword.ReasonTooLong, Limit: 20}, "data.thing1.value exceeds limit"},
		{keyword.Violation{Key: "time2", Type: "time", Reason: keyword.ReasonEmpty}, "data.time2.value is empty"},
		{keyword.Violation{Key: "phone_number6", Type: "phone_number", Reason: keyword.ReasonInvalid}, "data.phone_number6.value invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.v.Error(); got != tc.want {
				t.Fatalf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
	// Through Check.
	checks := []struct{ key, value, want string }{
		{"thing1", thing21, "data.thing1.value exceeds limit"},
		{"time2", "", "data.time2.value is empty"},
		{"phone_number6", "abc", "data.phone_number6.value invalid"},
	}
	for _, tc := range checks {
		t.Run("Check/"+tc.want, func(t *testing.T) {
			t.Parallel()
			err := keyword.Check(tc.key, tc.value, nil)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Check(%q, %q) = %v, want %q", tc.key, tc.value, err, tc.want)
			}
		})
	}
}

func TestType(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, want string }{
		{"thing1", "thing"},
		{"thing01", "thing"},
		{"character_string12", "character_string"},
		{"phone_number6", "phone_number"},
		{"short_thing3", "short_thing"},
		{"thing", "thing"},
		{"site", "site"},
		{"a1b2", "a1b"},
		{"123", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			if got := keyword.Type(tc.key); got != tc.want {
				t.Fatalf("Type(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestKnownAndLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ   string
		known bool
		limit int
	}{
		{"thing", true, 20},
		{"number", true, 32},
		{"letter", true, 32},
		{"symbol", true, 5},
		{"character_string", true, 32},
		{"time", true, 0},
		{"date", true, 0},
		{"amount", true, 0},
		{"phone_number", true, 17},
		{"car_number", true, 8},
		{"name", true, 20},
		{"phrase", true, 5},
		{"enum", true, 20},
		{"short_thing", true, 5},
		{"site", false, 20},
		{"thing1", false, 20},
		{"", false, 20},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			if got := keyword.Known(tc.typ); got != tc.known {
				t.Errorf("Known(%q) = %v, want %v", tc.typ, got, tc.known)
			}
			if got := keyword.Limit(tc.typ); got != tc.limit {
				t.Errorf("Limit(%q) = %d, want %d", tc.typ, got, tc.limit)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	for _, tc := range checkCases {
		f.Add(tc.key, tc.value)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		err := keyword.Check(key, value, nil)
		typ := keyword.Type(key)
		if err == nil {
			if strings.TrimSpace(value) == "" {
				t.Fatalf("Check(%q, %q) accepted an empty value", key, value)
			}
			if !utf8.ValidString(value) {
				t.Fatalf("Check(%q, %q) accepted invalid UTF-8", key, value)
			}
			if l := keyword.Limit(typ); l > 0 && utf8.RuneCountInString(value) > l {
				t.Fatalf("Check(%q, %q) accepted %d runes, limit %d", key, value, utf8.RuneCountInString(value), l)
			}
			return
		}
		var v *keyword.Violation
		if !errors.As(err, &v) {
			t.Fatalf("Check(%q, %q) = %T, want *Violation", key, value, err)
		}
		if v.Key != key || v.Type != typ {
			t.Fatalf("Check(%q, %q) = %+v: wrong key or type", key, value, *v)
		}
		switch v.Reason {
		case keyword.ReasonTooLong:
			if v.Limit <= 0 || utf8.RuneCountInString(value) <= v.Limit {
				t.Fatalf("Check(%q, %q) = %+v: bad limit", key, value, *v)
			}
		case keyword.ReasonEmpty:
			if strings.TrimSpace(value) != "" || v.Limit != 0 {
				t.Fatalf("Check(%q, %q) = %+v for a non-empty value", key, value, *v)
			}
		case keyword.ReasonInvalid:
			if v.Limit != 0 {
				t.Fatalf("Check(%q, %q) = %+v: limit set", key, value, *v)
			}
		default:
			t.Fatalf("Check(%q, %q) = %+v: unknown reason", key, value, *v)
		}
		if !strings.HasPrefix(v.Error(), "data."+key+".value ") {
			t.Fatalf("Error() = %q", v.Error())
		}
	})
}

func ExampleCheck() {
	fmt.Println(keyword.Check("thing1", "配送中", nil))
	fmt.Println(keyword.Check("thing1", "您的订单已发货，请留意查收快递信息谢谢您！", nil))
	fmt.Println(keyword.Check("time2", "", nil))
	fmt.Println(keyword.Check("phone_number6", "call me", nil))
	fmt.Println(keyword.Check("enum3", "已退款", []string{"已支付", "未支付"}))

	var v *keyword.Violation
	if errors.As(keyword.Check("amount4", "¥12345678901.00", nil), &v) {
		fmt.Printf("%s %s: %s (limit %d)\n", v.Key, v.Type, v.Reason, v.Limit)
	}
	// Output:
	// <nil>
	// data.thing1.value exceeds limit
	// data.time2.value is empty
	// data.phone_number6.value invalid
	// data.enum3.value invalid
	// amount4 amount: exceeds limit (limit 10)
}
