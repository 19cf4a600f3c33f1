// Package kuaishou is the mock's reading of the value rules of Kuaishou's
// subscribe-message keywords ("thing01", "date01", …), written from the
// send API's table, https://mp.kuaishou.com/docs/develop/server/sendMessage.html:
//
//	参数类型  key 前缀      长度限制             内容说明
//	事物      thing         20 字以内            内容无限制
//	数字      number        32 位以内            必须为数字,可带小数
//	字母      letter        32 位以内            必须为字母
//	符号      symbol        5 位以内             限制在“+-*/”4 个符号
//	字符串    string        32 位以内            数字、字母组合
//	日期      date          xxxx 年 xx 月 xx 号
//	金额      amount        20 字以内            数字,不需要带单位。发送消息时会补上“元”
//	电话      phone         11 位                11 位电话号码
//	车牌      licensePlate  7 或 8 位            如:京B12345
//	状态      status        5 位以内             汉字
//
// A key is the type and a two-digit index from 01. thing, number and letter
// read like WeChat's types of those names and are judged by the mock's
// WeChat rules; the others are judged here. Like the rest of the mock it is
// independent of the sender's copy (sender/internal/keyword/kuaishou).
// docs/mock-kuaishou.md lists the readings chosen where the table is silent.
package kuaishou

import (
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/keyword"
)

// maxLen is each type's length limit in characters (0: a format instead).
var maxLen = map[string]int{
	"thing": 20, "number": 32, "letter": 32, "symbol": 5, "string": 32,
	"date": 0, "amount": 20, "phone": 11, "licensePlate": 8, "status": 5,
}

// unknownMax bounds a type the table does not list (judged leniently).
const unknownMax = 20

// KnownType reports whether t is a type of the table.
func KnownType(t string) bool {
	_, ok := maxLen[t]
	return ok
}

// Check judges value for the data key (type: the key without its digits).
// It returns nil or a *keyword.Violation; its Error text
// ("data.thing01.value exceeds limit") is the mock's wording — Kuaishou's
// own is not documented.
func Check(key, value string) error {
	t := keyword.Type(key)
	switch t {
	case "thing", "number", "letter":
		if err := keyword.Check(t, value, nil); err != nil {
			v := err.(*keyword.Violation)
			v.Key = key
			return v
		}
		return nil
	}
	reason, limit := judge(t, value)
	if reason == "" {
		return nil
	}
	return &keyword.Violation{Key: key, Type: t, Reason: reason, Limit: limit}
}

func judge(t, v string) (keyword.Reason, int) {
	blank, bad := true, false
	n := 0
	for i, c := range v {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(v[i:]); size == 1 {
				bad = true
			}
		}
		if !unicode.IsSpace(c) {
			blank = false
		}
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			bad = true // one line per keyword
		}
		n++
	}
	if blank {
		return keyword.ReasonEmpty, 0
	}
	if bad {
		return keyword.ReasonInvalid, 0
	}
	max, known := maxLen[t]
	if !known {
		return over(n, unknownMax)
	}
	switch t {
	case "symbol":
		if !every(v, func(c rune) bool { return c == '+' || c == '-' || c == '*' || c == '/' }) {
			return keyword.ReasonInvalid, 0
		}
	case "string":
		// "数字、字母组合": ASCII digits and letters only.
		if !every(v, alnum) {
			return keyword.ReasonInvalid, 0
		}
	case "date":
		if !dateValue(v) {
			return keyword.ReasonInvalid, 0
		}
		return "", 0
	case "amount":
		// "数字,不需要带单位": ASCII digits with an optional 1–2 digit
		// decimal part (UNCONFIRMED); no currency sign or 元, which the
		// platform adds itself. The 20 counts the whole value.
		if !plainAmount(v) {
			return keyword.ReasonInvalid, 0
		}
	case "phone":
		// "11 位电话号码": exactly 11 ASCII digits; fewer cannot be a
		// number (invalid), more is too long.
		if !every(v, digit) || n < 11 {
			return keyword.ReasonInvalid, 0
		}
	case "licensePlate":
		// "7 或 8 位,如:京B12345" (UNCONFIRMED beyond the example): a
		// Chinese province character, then ASCII letters and digits, the
		// last place may be Chinese too (学, 警, 挂 plates). Under 7 is
		// invalid, over 8 too long.
		if !licensePlate(v, n) || n < 7 {
			return keyword.ReasonInvalid, 0
		}
	case "status":
		// "5 位以内, 汉字": Han characters only.
		if !every(v, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
			return keyword.ReasonInvalid, 0
		}
	}
	return over(n, max)
}

func over(n, max int) (keyword.Reason, int) {
	if n > max {
		return keyword.ReasonTooLong, max
	}
	return "", 0
}

func digit(c rune) bool { return c >= '0' && c <= '9' }
func alnum(c rune) bool { return digit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func every(s string, ok func(rune) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

// digits is the number of ASCII digits at the start of s.
func digits(s string) int {
	i := 0
	for i < len(s) && digit(rune(s[i])) {
		i++
	}
	return i
}

func plainAmount(s string) bool {
	w := digits(s)
	if w == 0 {
		return false
	}
	if w == len(s) {
		return true
	}
	f := digits(s[w+1:])
	return s[w] == '.' && f >= 1 && f <= 2 && w+1+f == len(s)
}

func licensePlate(s string, n int) bool {
	pos := 0
	for _, c := range s {
		h := unicode.Is(unicode.Han, c)
		switch {
		case pos == 0:
			if !h {
				return false
			}
		case pos == n-1 && h:
		case !alnum(c):
			return false
		}
		pos++
	}
	return true
}

// dateValue: "xxxx 年 xx 月 xx 号", the example being "2020年02月25号".
// Readings (UNCONFIRMED): a 4-digit year, month 1–12 and day 1–31 in one or
// two digits, 号 or 日 last; the spaces the table shows between the parts
// are optional ASCII spaces; nothing before the year or after the last
// character. Other layouts ("2020-02-25") are invalid.
func dateValue(s string) bool {
	i := 0
	number := func(min, max, lo, hi int) bool {
		i = skipBlanks(s, i)
		w := digits(s[i:])
		if w < min || w > max {
			return false
		}
		val := 0
		for _, c := range []byte(s[i : i+w]) {
			val = val*10 + int(c-'0')
		}
		i += w
		return val >= lo && val <= hi
	}
	word := func(ws ...string) bool {
		i = skipBlanks(s, i)
		for _, w := range ws {
			if len(s)-i >= len(w) && s[i:i+len(w)] == w {
				i += len(w)
				return true
			}
		}
		return false
	}
	if s[0] == ' ' {
		return false
	}
	return number(4, 4, 0, 9999) && word("年") && number(1, 2, 1, 12) && word("月") &&
		number(1, 2, 1, 31) && word("号", "日") && i == len(s)
}

func skipBlanks(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
