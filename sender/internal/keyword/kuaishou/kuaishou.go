// Package kuaishou encodes the value rules of Kuaishou mini-program
// subscribe-message keywords ("thing01", "date01", ...), as documented in
// the send API's table (https://mp.kuaishou.com/docs/develop/server/sendMessage.html,
// docs/platforms/kuaishou.md). The production sender refuses a value by
// them before the 202; the mock has its own copy
// (mockserver/internal/keyword/kuaishou), cross-checked by the differential
// test in sender/internal/keyword.
package kuaishou

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/keyword"
)

// Kuaishou's keyword types, from the send doc's table
// (https://mp.kuaishou.com/docs/develop/server/sendMessage.html): a data key
// is the type followed by a two-digit index from 01 ("thing01", "thing02",
// "date01"). Limits are in characters (runes).
//
//	thing        ≤ 20, anything
//	number       ≤ 32, digits, may have decimals
//	letter       ≤ 32, letters only
//	symbol       ≤ 5, only + - * /
//	string       ≤ 32, digits and letters
//	date         "xxxx 年 xx 月 xx 号"
//	amount       ≤ 20, digits, no unit ("元" is appended by the platform)
//	phone        11 digits
//	licensePlate 7 or 8 characters, e.g. 京B12345
//	status       ≤ 5 Chinese characters
//
// thing, number and letter read exactly like WeChat's types of the same name,
// so they reuse sender/internal/keyword. The others differ from WeChat's (WeChat's
// symbol takes any punctuation, its date uses 日 and other separators, its
// amount takes a currency sign and 元) and are checked here.
var limits = map[string]int{
	"thing":        20,
	"number":       32,
	"letter":       32,
	"symbol":       5,
	"string":       32,
	"date":         0, // format-bound
	"amount":       20,
	"phone":        11,
	"licensePlate": 8,
	"status":       5,
}

// unknownLimit bounds a type Kuaishou does not document: such keys are
// accepted leniently, like WeChat's unknown types.
const unknownLimit = 20

// KnownType reports whether t is one of the documented keyword types.
func KnownType(t string) bool {
	_, ok := limits[t]
	return ok
}

// Check validates value for the data key (its type is the key without
// the trailing digits). It returns nil or a *keyword.Violation, whose Error
// text ("data.thing01.value exceeds limit") the mock's send answer carries;
// the platform's own wording is UNCONFIRMED.
func Check(key, value string) error {
	t := keyword.Type(key)
	reason, limit := check(t, value)
	if reason == "" {
		return nil
	}
	if reason != keyword.ReasonTooLong {
		limit = 0
	}
	return &keyword.Violation{Key: key, Type: t, Reason: reason, Limit: limit}
}

func check(t, v string) (keyword.Reason, int) {
	switch t {
	case "thing", "number", "letter":
		// A type assertion, not errors.As: As would move viol to the heap,
		// one allocation per valid thing on the accept path.
		if viol, ok := keyword.Check(t, v, nil).(*keyword.Violation); ok {
			return viol.Reason, viol.Limit
		}
		return "", 0
	}
	// The rules every type shares, as in sender/internal/keyword: empty or blank is
	// empty; invalid UTF-8 or a control/line-separator character is invalid
	// (a card line cannot hold a newline).
	if strings.TrimSpace(v) == "" {
		return keyword.ReasonEmpty, 0
	}
	if !utf8.ValidString(v) {
		return keyword.ReasonInvalid, 0
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return keyword.ReasonInvalid, 0
		}
	}
	n := utf8.RuneCountInString(v)
	switch t {
	case "symbol":
		return all(v, n, limits[t], func(r rune) bool { return strings.ContainsRune("+-*/", r) })
	case "string":
		// "数字、字母组合": ASCII digits and letters; no spaces or symbols.
		return all(v, n, limits[t], func(r rune) bool { return isDigit(r) || isLetter(r) })
	case "date":
		if !isDate(v) {
			return keyword.ReasonInvalid, 0
		}
		return "", 0
	case "amount":
		// "数字,不需要带单位": reading (UNCONFIRMED) — ASCII digits with an
		// optional decimal part of one or two digits; a unit or currency
		// sign is invalid because the platform appends 元 itself.
		whole, frac, dot := strings.Cut(v, ".")
		if !allDigits(whole) || dot && (len(frac) < 1 || len(frac) > 2 || !allDigits(frac)) {
			return keyword.ReasonInvalid, 0
		}
		return within(n, limits[t])
	case "phone":
		// "11 位电话号码": exactly 11 ASCII digits. More is too long, fewer is
		// invalid (there is no shorter valid number).
		if !allDigits(v) {
			return keyword.ReasonInvalid, 0
		}
		if n < 11 {
			return keyword.ReasonInvalid, 0
		}
		return within(n, limits[t])
	case "licensePlate":
		return checkPlate(v, n)
	case "status":
		return all(v, n, limits[t], func(r rune) bool { return unicode.Is(unicode.Han, r) })
	default:
		return within(n, unknownLimit)
	}
}

// checkPlate: "7 或 8 位，如：京B12345". Reading (UNCONFIRMED): a Chinese
// province character first, then ASCII letters and digits; the last
// character may also be Chinese (学, 警, 挂, 港, 澳 plates). Fewer than 7
// characters is invalid, more than 8 too long.
func checkPlate(v string, n int) (keyword.Reason, int) {
	i := 0
	for _, r := range v {
		han := unicode.Is(unicode.Han, r)
		switch {
		case i == 0 && !han:
			return keyword.ReasonInvalid, 0
		case i > 0 && i == n-1 && han:
		case i > 0 && !isDigit(r) && !isLetter(r):
			return keyword.ReasonInvalid, 0
		}
		i++
	}
	if n < 7 {
		return keyword.ReasonInvalid, 0
	}
	return within(n, limits["licensePlate"])
}

// isDate implements "xxxx 年 xx 月 xx 号", the doc's example being
// "2020年02月25号". Readings (UNCONFIRMED): a 4-digit year; month 1–12 and
// day 1–31 with one or two digits; 号 or 日 at the end; the spaces the
// doc's table shows around the characters are optional ASCII spaces. Other
// formats ("2020-02-25") are invalid.
func isDate(v string) bool {
	if strings.HasPrefix(v, " ") {
		return false
	}
	s := v
	num := func(lo, hi, minV, maxV int) bool {
		s = strings.TrimLeft(s, " ")
		j := 0
		for j < len(s) && j < hi && isDigit(rune(s[j])) {
			j++
		}
		if j < lo || j < len(s) && isDigit(rune(s[j])) {
			return false
		}
		val := 0
		for _, c := range s[:j] {
			val = val*10 + int(c-'0')
		}
		s = s[j:]
		return val >= minV && val <= maxV
	}
	lit := func(words ...string) bool {
		s = strings.TrimLeft(s, " ")
		for _, w := range words {
			if rest, ok := strings.CutPrefix(s, w); ok {
				s = rest
				return true
			}
		}
		return false
	}
	return num(4, 4, 0, 9999) && lit("年") && num(1, 2, 1, 12) && lit("月") && num(1, 2, 1, 31) &&
		lit("号", "日") && s == ""
}

func all(v string, n, limit int, ok func(rune) bool) (keyword.Reason, int) {
	for _, r := range v {
		if !ok(r) {
			return keyword.ReasonInvalid, 0
		}
	}
	return within(n, limit)
}

func within(n, limit int) (keyword.Reason, int) {
	if n > limit {
		return keyword.ReasonTooLong, limit
	}
	return "", 0
}

func isDigit(r rune) bool  { return '0' <= r && r <= '9' }
func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isDigit(r) {
			return false
		}
	}
	return true
}
