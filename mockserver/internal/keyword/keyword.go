// Package keyword is the mock's own reading of the value rules of WeChat's
// subscribe-message keywords ("thing1", "time2", "amount3", …). The mock is
// the project's independent oracle: this package is written from the
// platform's documentation, not shared with the production sender (which
// keeps its own copy in sender/internal/keyword), so that a mistake in one
// of them shows up as a disagreement in the differential test
// (sender/internal/keyword/oracle_test.go) instead of passing every test.
//
// Source: the "订阅消息参数值内容限制说明" table of the send API,
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
// (the same table as the older
// https://developers.weixin.qq.com/miniprogram/dev/api-backend/open-api/subscribe-message/subscribeMessage.send.html):
//
//	thing.DATA             20个以内字符              可汉字、数字、字母或符号组合
//	number.DATA            32位以内数字              只能数字,可带小数
//	letter.DATA            32位以内字母              只能字母
//	symbol.DATA            5位以内符号               只能符号
//	character_string.DATA  32位以内数字、字母或符号   可数字、字母或符号组合
//	time.DATA              24小时制时间格式(支持+年月日),支持填时间段,两个时间点之间用“~”符号连接  例如:15:01,或:2019年10月1日 15:01
//	date.DATA              年月日格式(支持+24小时制时间),支持填时间段,两个时间点之间用“~”符号连接  例如:2019年10月1日,或:2019年10月1日 15:01
//	amount.DATA            1个币种符号+10位以内纯数字,可带小数,结尾可带“元”
//	phone_number.DATA      17位以内,数字、符号       例:+86-0766-66888866
//	car_number.DATA        8位以内,第一位与最后一位可为汉字,其余为字母或数字  例:粤A8Z888挂
//	name.DATA              10个以内纯汉字或20个以内纯字母或符号  中文和字母混合按中文名算,10个字内
//	phrase.DATA            5个以内汉字              5个以内纯汉字,例如:配送中
//	enum.DATA              只能上传枚举值范围内的字段值
//
// A refused value answers errcode 47003 "argument invalid! data.<key>.value
// is empty|exceeds limit|invalid" (docs/mock-wechat.md; "is empty" and
// "invalid" are the platform's words as developers quote them, "exceeds
// limit" is the mock's choice for an over-long value). [Violation.Error]
// gives the part after "argument invalid! ".
//
// Where the table is silent the mock picks a reading, documented in
// docs/mock-wechat.md and next to the code below. Lengths count Unicode code
// points (a Chinese character is one). The verdict is, by precedence: empty
// (nothing but whitespace), then invalid (a character or a format the type
// does not take — whatever the length), then too long.
package keyword

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Reason is why a value broke its type's rule; its text is the word the
// mock's errmsg uses.
type Reason string

// The three verdicts of a refused value.
const (
	ReasonEmpty   Reason = "empty"
	ReasonTooLong Reason = "exceeds limit"
	ReasonInvalid Reason = "invalid"
)

// Violation is the error Check returns.
type Violation struct {
	Key    string // the data key as checked ("thing1")
	Type   string // its type ("thing")
	Reason Reason
	Limit  int // the broken length limit (ReasonTooLong only)
}

// Error is the errmsg text after "argument invalid! ", e.g.
// "data.thing1.value exceeds limit".
func (v *Violation) Error() string {
	if v == nil {
		return "<nil>"
	}
	if v.Reason == ReasonEmpty {
		return "data." + v.Key + ".value is empty"
	}
	return "data." + v.Key + ".value " + string(v.Reason)
}

// Type is the type a data key names: the key without its trailing ASCII
// digits ("character_string12" → "character_string").
func Type(key string) string {
	end := len(key)
	for end > 0 && key[end-1] >= '0' && key[end-1] <= '9' {
		end--
	}
	return key[:end]
}

// kind selects how a type's value is judged beyond its character class.
type kind uint8

const (
	plain    kind = iota // a character class and a length limit
	decimal              // number: digits with at most one inner point
	timeKind             // time: clock, optionally after a date; ranges
	dateKind             // date: date, optionally before a clock; ranges
	money                // amount
	phone                // phone_number: also needs a digit
	plate                // car_number: class depends on the position
	person               // name: limit depends on Chinese
	enumKind             // enum: a list of values, if the template has one
)

// rule is one type's rule.
type rule struct {
	kind kind
	max  int             // length limit in code points, 0: none
	ok   func(rune) bool // allowed characters (nil: any printable)
}

// Limits no single type entry carries.
const (
	lenientMax     = 20 // types the table does not list, and enum without a list
	chineseNameMax = 10 // name with a Chinese character
	amountDigitMax = 10 // integer digits of an amount
)

var rules = map[string]rule{
	// "可汉字、数字、字母或符号组合": any printable character (letters,
	// marks, digits, punctuation, symbols — emoji included — and spaces);
	// invisible format characters such as U+200B are none of those.
	"thing": {plain, 20, unicode.IsGraphic},
	// short_thing is in no public table: templates in the wild use it for
	// short texts. Read as thing's characters, at most 5 (UNCONFIRMED).
	"short_thing": {plain, 5, unicode.IsGraphic},
	// "只能数字,可带小数": ASCII digits and one point between digits; the
	// 32 counts the whole value.
	"number": {decimal, 32, nil},
	// "只能字母": ASCII letters.
	"letter": {plain, 32, asciiLetter},
	// "只能符号": Unicode punctuation and symbols.
	"symbol": {plain, 5, punctOrSymbol},
	// "数字、字母或符号": printable ASCII, no space (codes, order numbers);
	// a Chinese value is refused (developers report "character_string4
	// 不合法" for "测试订阅消息1").
	"character_string": {plain, 32, asciiVisible},
	"time":             {timeKind, 0, nil},
	"date":             {dateKind, 0, nil},
	"amount":           {money, 0, nil},
	// "数字、符号": ASCII digits and punctuation/symbols; a space is neither.
	"phone_number": {phone, 17, func(r rune) bool { return asciiDigit(r) || punctOrSymbol(r) }},
	"car_number":   {plate, 8, nil},
	"name":         {person, 20, nil},
	// "5个以内纯汉字": Han characters only; Chinese punctuation is not Han.
	"phrase": {plain, 5, han},
	"enum":   {enumKind, lenientMax, nil},
}

// Check judges value for the data key (its type is Type(key)); enum is the
// template's list of allowed values for an enum key (none: any value up to
// 20 characters). It returns nil or a *Violation. A type the table does not
// list is judged leniently — not blank, one line, at most 20 characters —
// so a new platform type does not make the mock refuse everything.
func Check(key, value string, enum []string) error {
	t := Type(key)
	reason, limit := judge(t, value, enum)
	if reason == "" {
		return nil
	}
	return &Violation{Key: key, Type: t, Reason: reason, Limit: limit}
}

// Known reports whether the table (or the mock's short_thing reading)
// lists type t.
func Known(t string) bool {
	_, ok := rules[t]
	return ok
}

// judge returns the verdict on value for type t ("" when it passes) and,
// for ReasonTooLong, the limit broken. One pass over the value finds
// blankness, characters no keyword may hold, characters the type does not
// take and the length; the formats are parsed after it.
func judge(t, value string, enum []string) (Reason, int) {
	r, known := rules[t]
	if !known {
		r = rule{plain, lenientMax, nil}
	}
	blank, bad, chinese := true, false, false
	n := 0
	for i, c := range value {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(value[i:]); size == 1 {
				bad = true // not UTF-8
			}
		}
		if !unicode.IsSpace(c) {
			blank = false
		}
		// A card shows each keyword on one line: no control character
		// (newline, tab, …) and no line or paragraph separator.
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			bad = true
		}
		switch {
		case r.ok != nil:
			if !r.ok(c) {
				bad = true
			}
		case r.kind == person:
			// Letters (any script, with combining marks), spaces and
			// punctuation/symbols ("O'Neil", "阿卜杜·买买提"); no digits.
			switch {
			case han(c):
				chinese = true
			case unicode.IsLetter(c), unicode.IsMark(c), unicode.IsSpace(c), punctOrSymbol(c):
			default:
				bad = true
			}
		}
		n++
	}
	switch {
	case blank:
		return ReasonEmpty, 0
	case bad:
		return ReasonInvalid, 0
	}
	switch r.kind {
	case decimal:
		if !decimalNumber(value) {
			return ReasonInvalid, 0
		}
	case timeKind:
		if !span(value, timeAt) {
			return ReasonInvalid, 0
		}
		return "", 0
	case dateKind:
		if !span(value, dateAt) {
			return ReasonInvalid, 0
		}
		return "", 0
	case money:
		digits, ok := amountDigits(value)
		if !ok {
			return ReasonInvalid, 0
		}
		return longer(digits, amountDigitMax)
	case phone:
		if !hasASCIIDigit(value) {
			return ReasonInvalid, 0
		}
	case plate:
		if !plateChars(value, n) {
			return ReasonInvalid, 0
		}
	case person:
		if chinese {
			return longer(n, chineseNameMax)
		}
	case enumKind:
		if len(enum) > 0 {
			// The template's list is authoritative: an exact,
			// case-sensitive match passes whatever its length.
			if slices.Contains(enum, value) {
				return "", 0
			}
			return ReasonInvalid, 0
		}
	}
	return longer(n, r.max)
}

// longer is ReasonTooLong when n is over limit.
func longer(n, limit int) (Reason, int) {
	if n > limit {
		return ReasonTooLong, limit
	}
	return "", 0
}

func asciiDigit(c rune) bool    { return c >= '0' && c <= '9' }
func asciiLetter(c rune) bool   { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func asciiVisible(c rune) bool  { return c > ' ' && c < 0x7f }
func punctOrSymbol(c rune) bool { return unicode.IsPunct(c) || unicode.IsSymbol(c) }
func han(c rune) bool           { return unicode.Is(unicode.Han, c) }

func hasASCIIDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// digitRun is the length of the run of ASCII digits at the start of s.
func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// decimalNumber: digits, or digits "." digits — no sign, exponent,
// grouping or full-width digits.
func decimalNumber(s string) bool {
	i := digitRun(s)
	if i == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	j := digitRun(s[i+1:])
	return j > 0 && i+1+j == len(s)
}

// amountDigits parses an amount and returns its count of integer digits.
// Readings of "1个币种符号+10位以内纯数字,可带小数,结尾可带“元”":
//   - the currency sign is optional (real traffic sends "100元" and
//     "100.00"); the signs taken are ¥ ￥ $ € £, the table lists none;
//   - decimals are 1 or 2 digits (cents);
//   - the 10-digit limit is on the integer part (a TooLong with Limit 10);
//   - no sign, space or digit grouping ("1,000.00" is invalid).
func amountDigits(s string) (int, bool) {
	for _, sign := range [...]string{"¥", "￥", "$", "€", "£"} {
		if len(s) >= len(sign) && s[:len(sign)] == sign {
			s = s[len(sign):]
			break
		}
	}
	const yuan = "元"
	if len(s) >= len(yuan) && s[len(s)-len(yuan):] == yuan {
		s = s[:len(s)-len(yuan)]
	}
	whole := digitRun(s)
	if whole == 0 {
		return 0, false
	}
	rest := s[whole:]
	if rest == "" {
		return whole, true
	}
	if rest[0] != '.' {
		return 0, false
	}
	cents := digitRun(rest[1:])
	if cents < 1 || cents > 2 || 1+cents != len(rest) {
		return 0, false
	}
	return whole, true
}

// plateChars: "第一位与最后一位可为汉字,其余为字母或数字" — ASCII letters
// (either case) and digits, and Han in the first or last place only.
func plateChars(s string, n int) bool {
	pos := 0
	for _, c := range s {
		switch {
		case asciiDigit(c), asciiLetter(c):
		case han(c) && (pos == 0 || pos == n-1):
		default:
			return false
		}
		pos++
	}
	return true
}
