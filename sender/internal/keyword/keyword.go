// Package keyword encodes the value rules of WeChat mini-program subscribe
// message keywords ("thing1", "time2", "amount3", ...), as documented in the
// "订阅消息参数值内容限制说明" table of
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
//
// The sender applies them to refuse a value before spending a network call
// on it; a refusal reads like WeChat's 47003 errmsg after "argument invalid! "
// ("data.thing1.value exceeds limit"). The mock judges the same values with
// its own, independently written rules (mockserver/internal/keyword); the
// two are cross-checked by a differential test (oracle_test.go here).
//
// A keyword's rule type is its key without the trailing digits (see [Type]).
// Lengths are counted in Unicode code points (runes), not bytes: the docs say
// "20个以内字符" and WeChat counts a Chinese character as one.
//
// The docs give one line per type and are silent on many details. Where they
// are, this package picks one reading and says so in a comment next to the
// code that implements it. The rules applied to every type are:
//
//   - a value that is empty or only whitespace is [ReasonEmpty] (this is what
//     WeChat reports for "" as well as for a missing keyword);
//   - a value that is not valid UTF-8, or holds a control character (newline,
//     tab, ...) or a line/paragraph separator (U+2028, U+2029), is
//     [ReasonInvalid] — the message card is a single line per keyword;
//   - values are taken as they are: nothing is trimmed, so a leading or
//     trailing space counts as a character and, for the types that do not
//     allow spaces, makes the value invalid.
//
// [Check] tests, in this order: empty, invalid characters or format, too long.
// So an over-long value made only of allowed characters is [ReasonTooLong],
// and a value holding a character its type does not allow is [ReasonInvalid]
// whatever its length.
package keyword

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type returns the keyword's rule type: the key without its trailing digits
// ("thing1" -> "thing", "character_string12" -> "character_string"). Keys
// with no trailing digits return the key itself. Only ASCII digits are
// stripped; a key made only of digits yields "" (an unknown type).
func Type(key string) string {
	return strings.TrimRight(key, "0123456789")
}

// Reason says why a value broke its rule.
type Reason string

// The reasons a value can break its rule. The strings are the words WeChat
// uses in its errmsg.
const (
	ReasonEmpty   Reason = "empty"         // value is empty (or only whitespace)
	ReasonTooLong Reason = "exceeds limit" // longer than the type allows
	ReasonInvalid Reason = "invalid"       // characters/format the type does not allow
)

// Violation describes one broken rule. Check returns it as its error.
type Violation struct {
	Key    string // the keyword as given to Check, e.g. "thing1"
	Type   string // Type(Key), e.g. "thing"
	Reason Reason
	Limit  int // max length when Reason == ReasonTooLong, else 0
}

// Error returns exactly the part of WeChat's errmsg that follows
// "argument invalid! ": "data.<key>.value is empty",
// "data.<key>.value exceeds limit" or "data.<key>.value invalid".
func (v *Violation) Error() string {
	if v == nil {
		return "<nil>"
	}
	var what string
	switch v.Reason {
	case ReasonEmpty:
		what = "is empty"
	default: // ReasonTooLong and ReasonInvalid are used verbatim.
		what = string(v.Reason)
	}
	return "data." + v.Key + ".value " + what
}

// Limits in runes. Limit reports these; some types have a second, tighter
// limit on part of the value, reported only in Violation.Limit.
const (
	unknownLimit     = 20 // unknown types and enum without a list
	chineseNameLimit = 10 // name holding any Chinese character
	amountDigits     = 10 // integer digits of an amount
)

// limits lists the known types and their max length in runes (0: none).
var limits = map[string]int{
	"thing":            20,
	"number":           32,
	"letter":           32,
	"symbol":           5,
	"character_string": 32,
	"time":             0, // format-bound, no length limit in the docs
	"date":             0, // format-bound, no length limit in the docs
	// amount: the docs limit the digits ("10位以内纯数字"), not the whole
	// value; the 10-digit limit is reported in Violation.Limit.
	"amount":       0,
	"phone_number": 17,
	"car_number":   8,
	"name":         20, // 10 when the name holds Chinese, see checkName
	"phrase":       5,
	"enum":         unknownLimit, // only when no list of values is given
	// short_thing: UNCONFIRMED. It is not in the documented table; templates
	// in the wild use it for short texts and it is said to take thing's
	// characters with a 5-character limit. Treated so until confirmed.
	"short_thing": 5,
}

// Known reports whether t is a documented type, that is one Check applies a
// type-specific rule to. short_thing counts as known although its rule is
// UNCONFIRMED (see limits).
func Known(t string) bool {
	_, ok := limits[t]
	return ok
}

// Limit returns the max length in runes for a type (0 if the type has none:
// time, date and amount are bounded by their format instead). For unknown
// types it returns 20, the limit Check applies to them. For name it returns
// 20, the limit of a name without Chinese characters (10 with them). For enum
// it is the limit applied when no list of allowed values is given.
func Limit(t string) int {
	if l, ok := limits[t]; ok {
		return l
	}
	return unknownLimit
}

// Check validates value for the keyword key (type from Type(key)). enum is
// the allowed values list for type "enum" (nil = any non-empty value up to 20
// runes); it is ignored for other types. Check returns nil or a *Violation.
func Check(key, value string, enum []string) error {
	t := Type(key)
	reason, limit := check(t, value, enum)
	if reason == "" {
		return nil
	}
	if reason != ReasonTooLong {
		limit = 0
	}
	return &Violation{Key: key, Type: t, Reason: reason, Limit: limit}
}

// check returns the reason value breaks the rule of type t ("" if none) and,
// for ReasonTooLong, the limit it broke.
func check(t, value string, enum []string) (Reason, int) {
	if strings.TrimSpace(value) == "" {
		return ReasonEmpty, 0
	}
	if !utf8.ValidString(value) {
		return ReasonInvalid, 0
	}
	for _, r := range value {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ReasonInvalid, 0
		}
	}
	n := utf8.RuneCountInString(value)

	switch t {
	case "thing", "short_thing":
		// "可汉字、数字、字母或符号组合". Reading: every printable character
		// (letters, marks, numbers, punctuation, symbols, spaces) — emoji are
		// symbols. Invisible format characters (zero-width space, joiners,
		// BOM) are none of those and are invalid.
		return all(value, n, Limit(t), unicode.IsGraphic)
	case "number":
		// "只能数字,可带小数". Reading: ASCII digits with at most one decimal
		// point between digits; no sign, exponent, grouping or full-width
		// digits. The 32 counts the whole value, point included, so that no
		// accepted value is longer than Limit("number").
		if !isDecimal(value) {
			return ReasonInvalid, 0
		}
		return within(n, Limit(t))
	case "letter":
		// "只能字母". Reading: ASCII letters only (no spaces, no accented
		// letters).
		return all(value, n, Limit(t), isASCIILetter)
	case "symbol":
		// "只能符号". Reading: Unicode punctuation or symbol characters.
		return all(value, n, Limit(t), isSymbol)
	case "character_string":
		// "可数字、字母或符号组合". Reading: printable ASCII without space, since
		// the type is used for order numbers and codes; no Chinese.
		return all(value, n, Limit(t), isASCIIGraphic)
	case "time":
		if !isRange(value, timePoint) {
			return ReasonInvalid, 0
		}
		return "", 0
	case "date":
		if !isRange(value, datePoint) {
			return ReasonInvalid, 0
		}
		return "", 0
	case "amount":
		return checkAmount(value)
	case "phone_number":
		// "17位以内,数字、符号". Reading: ASCII digits and Unicode
		// punctuation/symbols ("+", "-", "(", ")", "#", "*", ...). A space is
		// not a symbol and is invalid. At least one digit is required.
		if !strings.ContainsAny(value, "0123456789") {
			return ReasonInvalid, 0
		}
		return all(value, n, Limit(t), func(r rune) bool { return isASCIIDigit(r) || isSymbol(r) })
	case "car_number":
		return checkCarNumber(value, n)
	case "name":
		return checkName(value, n)
	case "phrase":
		// "5个以内纯汉字". Han characters only; Chinese punctuation is not a
		// Han character and is invalid.
		return all(value, n, Limit(t), isHan)
	case "enum":
		if len(enum) > 0 {
			// "只能上传枚举值范围内的字段值": exact, case-sensitive match with
			// one of the listed values; the list is authoritative, so a
			// listed value is accepted whatever its length.
			if slices.Contains(enum, value) {
				return "", 0
			}
			return ReasonInvalid, 0
		}
		return within(n, Limit(t))
	default:
		// Unknown types are accepted leniently: any non-empty value without
		// control characters, up to 20 runes (the common thing limit). A new
		// WeChat type should not make the sender refuse every message.
		return within(n, unknownLimit)
	}
}

// within reports ReasonTooLong if n exceeds limit.
func within(n, limit int) (Reason, int) {
	if n > limit {
		return ReasonTooLong, limit
	}
	return "", 0
}

// all reports ReasonInvalid if any rune of s fails ok, else within(n, limit).
func all(s string, n, limit int, ok func(rune) bool) (Reason, int) {
	for _, r := range s {
		if !ok(r) {
			return ReasonInvalid, 0
		}
	}
	return within(n, limit)
}

func isASCIIDigit(r rune) bool  { return '0' <= r && r <= '9' }
func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isASCIIAlnum(r rune) bool  { return isASCIIDigit(r) || isASCIILetter(r) }
func isASCIIGraphic(r rune) bool {
	return '!' <= r && r <= '~' // 0x21..0x7E: digits, letters, punctuation, symbols
}
func isSymbol(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }
func isHan(r rune) bool    { return unicode.Is(unicode.Han, r) }

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is digits with an optional ".digits" part.
func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return allDigits(whole) && (!dot || allDigits(frac))
}

// currencies are the symbols an amount may start with. "1个币种符号": the
// docs do not list them; these are the ones seen in Chinese mini-programs.
var currencies = []string{"¥", "￥", "$", "€", "£"}

// checkAmount implements amount: "1个币种符号+10位以内纯数字,可带小数,结尾可带
// 元". Readings:
//   - the currency symbol is optional: the docs ask for one, but real traffic
//     often omits it ("100元", "100.00") and WeChat is reported to accept it;
//   - decimals are one or two digits (cents); the 10-digit limit applies to
//     the integer part only and is reported as TooLong with Limit 10;
//   - no sign, spaces or digit grouping ("1,000.00" is invalid).
func checkAmount(s string) (Reason, int) {
	rest := s
	for _, c := range currencies {
		if r, ok := strings.CutPrefix(rest, c); ok {
			rest = r
			break
		}
	}
	rest = strings.TrimSuffix(rest, "元")
	whole, frac, dot := strings.Cut(rest, ".")
	if !allDigits(whole) {
		return ReasonInvalid, 0
	}
	if dot && (len(frac) > 2 || !allDigits(frac)) {
		return ReasonInvalid, 0
	}
	return within(len(whole), amountDigits)
}

// checkCarNumber implements car_number: "8位以内,第一位与最后一位可为汉字,
// 其余为字母或数字". Letters are ASCII, either case; a Chinese character
// anywhere else, a space or a symbol is invalid.
func checkCarNumber(s string, n int) (Reason, int) {
	i := 0
	for _, r := range s {
		edge := i == 0 || i == n-1
		i++
		if isASCIIAlnum(r) || edge && isHan(r) {
			continue
		}
		return ReasonInvalid, 0
	}
	return within(n, Limit("car_number"))
}

// checkName implements name: "10个以内纯汉字或20个以内纯字母或符号; 中文和字母
// 混合按中文名算,10个字内". Readings: letters are Unicode letters (with
// combining marks, so "José" is a name); spaces and punctuation/symbols are
// allowed ("Zhang San", "O'Neil", "阿卜杜·买买提"); digits are invalid. Any
// Chinese (Han) character makes it a Chinese name limited to 10 runes in
// total, otherwise the limit is 20.
func checkName(s string, n int) (Reason, int) {
	chinese := false
	for _, r := range s {
		switch {
		case isHan(r):
			chinese = true
		case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsSpace(r), isSymbol(r):
		default: // digits, format characters, ...
			return ReasonInvalid, 0
		}
	}
	if chinese {
		return within(n, chineseNameLimit)
	}
	return within(n, Limit("name"))
}
