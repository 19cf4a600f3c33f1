package keyword

import (
	"unicode"
	"unicode/utf8"
)

// The time and date types, from the table (see the package doc):
//
//	time: 24小时制时间格式(支持+年月日),支持填时间段,两个时间点之间用“~”符号连接
//	date: 年月日格式(支持+24小时制时间),支持填时间段,两个时间点之间用“~”符号连接
//
// with the examples 15:01, 2019年10月1日 and 2019年10月1日 15:01; the send
// page's own request example writes "2019-12-25 09:42". The mock's readings
// (docs/mock-wechat.md):
//
//   - a clock is H:MM or HH:MM with optional :SS, 0–23 hours, 0–59 minutes
//     and seconds, the half-width colon, no AM/PM;
//   - a calendar date is a 4-digit year then 年M月D日, or Y-M-D, Y/M/D or
//     Y.M.D with one separator throughout; month 1–12 and day 1–31 in one
//     or two digits (the day is not checked against the month);
//   - between a date and its clock there is whitespace ("T" is refused);
//   - a time point is a clock with an optional date before it; a date point
//     is a date with an optional clock after it (so "2019年10月1日
//     15:01~16:00" is a time but not a date);
//   - a range is two points and one half-width "~" (spaces around it
//     allowed); "～", "-", "至" are refused — developers report 47003 for
//     the full-width tilde;
//   - nothing before or after the value.

// span reports whether s is one point, or two points joined by "~", as
// parsed by at (which returns where its point ends, or -1).
func span(s string, at func(s string, i int) int) bool {
	end := at(s, 0)
	if end < 0 {
		return false
	}
	if end == len(s) {
		return true
	}
	i := spaces(s, end)
	if i >= len(s) || s[i] != '~' {
		return false
	}
	return at(s, spaces(s, i+1)) == len(s)
}

// timeAt parses "[date ws] clock" from s[i:].
func timeAt(s string, i int) int {
	d := calendarAt(s, i)
	if d < 0 {
		return clockAt(s, i)
	}
	c := spaces(s, d)
	if c == d {
		return -1
	}
	return clockAt(s, c)
}

// dateAt parses "date [ws clock]" from s[i:]; whitespace not followed by a
// clock is not part of the point.
func dateAt(s string, i int) int {
	d := calendarAt(s, i)
	if d < 0 {
		return -1
	}
	if c := spaces(s, d); c > d {
		if e := clockAt(s, c); e >= 0 {
			return e
		}
	}
	return d
}

// calendarAt parses a calendar date from s[i:].
func calendarAt(s string, i int) int {
	if digitRun(s[i:]) != 4 {
		return -1
	}
	i += 4
	var sep1, sep2, last string
	switch {
	case hasAt(s, i, "年"):
		sep1, sep2, last = "年", "月", "日"
	case i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.'):
		sep1 = s[i : i+1]
		sep2 = sep1
	default:
		return -1
	}
	i += len(sep1)
	month, i := smallNumber(s, i, 1, 2)
	if month < 1 || month > 12 || !hasAt(s, i, sep2) {
		return -1
	}
	i += len(sep2)
	day, i := smallNumber(s, i, 1, 2)
	if day < 1 || day > 31 || !hasAt(s, i, last) {
		return -1
	}
	return i + len(last)
}

// clockAt parses H:MM[:SS] or HH:MM[:SS] from s[i:].
func clockAt(s string, i int) int {
	hour, i := smallNumber(s, i, 1, 2)
	if hour < 0 || hour > 23 || !hasAt(s, i, ":") {
		return -1
	}
	minute, i := smallNumber(s, i+1, 2, 2)
	if minute < 0 || minute > 59 {
		return -1
	}
	if !hasAt(s, i, ":") {
		return i
	}
	second, i := smallNumber(s, i+1, 2, 2)
	if second < 0 || second > 59 {
		return -1
	}
	return i
}

// smallNumber reads a run of min..max ASCII digits at s[i:] and returns its
// value and end; the value is -1 when the run is shorter or longer.
func smallNumber(s string, i, min, max int) (int, int) {
	run := digitRun(s[i:])
	if run < min || run > max {
		return -1, i
	}
	v := 0
	for _, c := range []byte(s[i : i+run]) {
		v = v*10 + int(c-'0')
	}
	return v, i + run
}

// hasAt reports whether s holds w at i (an empty w always).
func hasAt(s string, i int, w string) bool {
	return len(s)-i >= len(w) && s[i:i+len(w)] == w
}

// spaces skips whitespace from s[i:].
func spaces(s string, i int) int {
	for i < len(s) {
		c, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(c) {
			return i
		}
		i += size
	}
	return i
}
