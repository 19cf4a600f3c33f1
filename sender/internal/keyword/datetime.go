package keyword

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The time and date grammar. The docs say:
//
//	time: 24小时制时间格式(支持+年月日),支持填时间段,两个时间点之间用“~”符号连接
//	      例如:15:01,或:2019年10月1日 15:01
//	date: 年月日格式(支持+24小时制时间),支持填时间段,两个时间点之间用“~”符号连接
//	      例如:2019年10月1日,或:2019年10月1日 15:01
//
// Readings chosen where the docs are silent:
//
//   - clock: H:MM or HH:MM, optionally :SS; hours 0-23, minutes and seconds
//     0-59; half-width ":" only ("15：01" is invalid); no AM/PM.
//   - date: a 4-digit year, then 2019年10月1日, 2019-10-01, 2019/10/01 or
//     2019.10.01 (the same separator twice), month and day 1 or 2 digits;
//     month 1-12, day 1-31 (the day is not checked against the month).
//   - a date followed by a clock needs whitespace between them
//     ("2019-10-01 15:01"; "2019-10-01T15:01" is invalid).
//   - time: each point is a clock, optionally preceded by a date.
//   - date: each point is a date, optionally followed by a clock; in a range
//     both points carry their date ("2019年10月1日 15:01~16:00" is a valid
//     time but an invalid date).
//   - a range is exactly two points joined by the half-width "~"; whitespace
//     around it is allowed. The full-width "～" (and "-", "至", "到") is
//     invalid.
//   - no leading or trailing whitespace.

// isRange reports whether s is one point, or two points joined by "~",
// as recognised by point.
func isRange(s string, point func(s string, i int) (int, bool)) bool {
	i, ok := point(s, 0)
	if !ok {
		return false
	}
	if i == len(s) {
		return true
	}
	j := skipSpace(s, i)
	if j == len(s) || s[j] != '~' {
		return false
	}
	k, ok := point(s, skipSpace(s, j+1))
	return ok && k == len(s)
}

// timePoint parses [date whitespace] clock at s[i:], returning the end.
func timePoint(s string, i int) (int, bool) {
	if j, ok := parseDate(s, i); ok {
		k := skipSpace(s, j)
		if k == j {
			return 0, false
		}
		return parseClock(s, k)
	}
	return parseClock(s, i)
}

// datePoint parses date [whitespace clock] at s[i:], returning the end.
func datePoint(s string, i int) (int, bool) {
	j, ok := parseDate(s, i)
	if !ok {
		return 0, false
	}
	if k := skipSpace(s, j); k > j {
		if end, ok := parseClock(s, k); ok {
			return end, true
		}
	}
	// No clock: the whitespace, if any, is left for isRange (before "~").
	return j, true
}

// parseDate parses a date at s[i:], returning the end.
func parseDate(s string, i int) (int, bool) {
	_, i, ok := number(s, i, 4, 4)
	if !ok {
		return 0, false
	}
	var sep, sep2, end string
	switch {
	case strings.HasPrefix(s[i:], "年"):
		sep, sep2, end = "年", "月", "日"
	case i < len(s) && strings.IndexByte("-/.", s[i]) >= 0:
		sep, sep2 = s[i:i+1], s[i:i+1]
	default:
		return 0, false
	}
	i += len(sep)
	month, i, ok := number(s, i, 1, 2)
	if !ok || month < 1 || month > 12 || !strings.HasPrefix(s[i:], sep2) {
		return 0, false
	}
	i += len(sep2)
	day, i, ok := number(s, i, 1, 2)
	if !ok || day < 1 || day > 31 || !strings.HasPrefix(s[i:], end) {
		return 0, false
	}
	return i + len(end), true
}

// parseClock parses H:MM[:SS] or HH:MM[:SS] at s[i:], returning the end.
func parseClock(s string, i int) (int, bool) {
	hour, i, ok := number(s, i, 1, 2)
	if !ok || hour > 23 || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	minute, i, ok := number(s, i+1, 2, 2)
	if !ok || minute > 59 {
		return 0, false
	}
	if i < len(s) && s[i] == ':' {
		second, j, ok := number(s, i+1, 2, 2)
		if !ok || second > 59 {
			return 0, false
		}
		i = j
	}
	return i, true
}

// number reads between lo and hi ASCII digits at s[i:] and returns their
// value and the end. It fails if fewer than lo or more than hi digits are
// there.
func number(s string, i, lo, hi int) (val, end int, ok bool) {
	j := i
	for j < len(s) && j-i < hi && '0' <= s[j] && s[j] <= '9' {
		val = val*10 + int(s[j]-'0')
		j++
	}
	if j-i < lo || j < len(s) && '0' <= s[j] && s[j] <= '9' {
		return 0, 0, false
	}
	return val, j, true
}

// skipSpace returns the index of the first non-whitespace rune at or after i.
func skipSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}
