package keyword_test

// The differential test: the sender's keyword rules (this package and
// ./kuaishou) against the mock's, written separately
// (mockserver/internal/keyword, reached through mockserver/mockkeyword), over
// a generated corpus — random Unicode strings, lengths at and around every
// limit, and well- and ill-formed dates, times, numbers, amounts, phones,
// plates and names. Any disagreement fails, unless it is listed in
// intendedDifferences. Two implementations written apart are the check on
// each other: a wrong reading in one shows up here instead of passing every
// test that shares it.
//
// A test file may import the mock (sender tests do); the sender's
// production code must not.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/mockkeyword"
	"github.com/minipush/minipush/sender/internal/keyword"
	kskeyword "github.com/minipush/minipush/sender/internal/keyword/kuaishou"
)

// intendedDifferences lists the documented places where the sender is
// meant to judge a typed value differently from the mock, keyed by
// "<platform>/<type>"; a listed key skips the comparison for that type
// and the reason says why. Empty: for WeChat's and Kuaishou's types the
// sender refuses exactly what the mock refuses, for the same reason.
//
// Outside this comparison, by design: for Alipay's and Baidu's keywordN
// and Douyin's named keywords the sender applies only a one-line length
// rule (sender/internal/templates: UntypedMaxRunes, DouyinMaxRunes),
// because it cannot see the type the mock's template was registered with;
// the mock applies that type's rule (docs/mock-alipay.md), so the
// platform — here the mock — has the last word on those values.
var intendedDifferences = map[string]string{}

var (
	wechatTypes = []string{"thing", "short_thing", "number", "letter", "symbol", "character_string",
		"time", "date", "amount", "phone_number", "car_number", "name", "phrase", "enum", "custom", "keyword"}
	kuaishouTypes = []string{"thing", "number", "letter", "symbol", "string", "date", "amount", "phone",
		"licensePlate", "status", "custom"}
	enumLists = [][]string{nil, {"待付款", "已发货", "A", "a b"}, {""}}
)

// verdict is one side's judgement, comparable across the two packages.
type verdict struct {
	ok     bool
	reason string
	limit  int
	key    string
	typ    string
	text   string
}

func (v verdict) String() string {
	if v.ok {
		return "valid"
	}
	return fmt.Sprintf("%s (limit %d, key %q, type %q, %q)", v.reason, v.limit, v.key, v.typ, v.text)
}

func senderVerdict(t testing.TB, err error) verdict {
	if err == nil {
		return verdict{ok: true}
	}
	var v *keyword.Violation
	if !errors.As(err, &v) {
		t.Fatalf("sender returned %T %v, want a *keyword.Violation", err, err)
	}
	return verdict{reason: string(v.Reason), limit: v.Limit, key: v.Key, typ: v.Type, text: v.Error()}
}

func mockVerdict(t testing.TB, err error) verdict {
	if err == nil {
		return verdict{ok: true}
	}
	var v *mockkeyword.Violation
	if !errors.As(err, &v) {
		t.Fatalf("mock returned %T %v, want a *mockkeyword.Violation", err, err)
	}
	return verdict{reason: string(v.Reason), limit: v.Limit, key: v.Key, typ: v.Type, text: v.Error()}
}

// compare judges value with both sides and reports a disagreement; seen,
// if not nil, counts the verdicts per "<platform>/<type>".
func compare(t testing.TB, platform, typ string, index int, value string, enum []string, seen ...map[string]map[string]int) bool {
	t.Helper()
	if _, ok := intendedDifferences[platform+"/"+typ]; ok {
		return true
	}
	var s, m verdict
	switch platform {
	case "wechat":
		key := fmt.Sprintf("%s%d", typ, index)
		s = senderVerdict(t, keyword.Check(key, value, enum))
		m = mockVerdict(t, mockkeyword.WeChat(key, value, enum))
	case "kuaishou":
		key := fmt.Sprintf("%s%02d", typ, index)
		s = senderVerdict(t, kskeyword.Check(key, value))
		m = mockVerdict(t, mockkeyword.Kuaishou(key, value))
	}
	for _, c := range seen {
		k := platform + "/" + typ
		if c[k] == nil {
			c[k] = map[string]int{}
		}
		c[k][m.reason]++ // "" counts the valid values
	}
	if s != m {
		t.Errorf("%s %s%d %q (enum %q): sender says %v, mock says %v", platform, typ, index, value, enum, s, m)
		return false
	}
	return true
}

// alphabet is what random values are drawn from: every class some rule
// cares about, and the characters no rule takes.
var alphabet = []string{
	"0", "1", "5", "9", "a", "Z", "x", " ", ".", ":", "~", "-", "/", "+", "*", "#", "(", ")", "'", ",",
	"年", "月", "日", "号", "元", "¥", "￥", "$", "€", "£", "粤", "京", "挂", "学", "配", "送", "中",
	"张", "三", "·", "，", "！", "～", "：", "\u3000", "\t", "\n", "\r", "\x7f", "\u0085", "\u00a0",
	"\u2028", "\u2029", "\u200b", "\ufeff", "\u0301", "é", "ß", "Ж", "한", "ア", "🎉", "👍🏽", "\ufffd",
	"０", "９", "Ａ", "\xff", "\xe4\xb8", "\x00", "٣", "²", "ⅻ", "_", "@", "^", "`", "|", "<", "&",
}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// fromClass builds n characters drawn from chars (a value that passes a
// type's character rule, so only its length decides).
func fromClass(r *rand.Rand, chars string, n int) string {
	rs := []rune(chars)
	var b strings.Builder
	for range n {
		b.WriteRune(rs[r.IntN(len(rs))])
	}
	return b.String()
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func digitsOf(r *rand.Rand, n int) string { return fromClass(r, "0123456789", n) }

// num is a number in lo..hi, half the time one at an edge the rules care
// about (0, 1, 9–13, 23–24, 29–32, 59–61), zero-padded to one of widths.
func num(r *rand.Rand, lo, hi int, widths ...int) string {
	v := lo + r.IntN(hi-lo+1)
	if r.IntN(2) == 0 {
		v = pick(r, 0, 1, 9, 10, 11, 12, 13, 23, 24, 29, 30, 31, 32, 59, 60, 61)
	}
	return fmt.Sprintf("%0*d", pick(r, widths...), v)
}

func calendar(r *rand.Rand) string {
	year := pick(r, num(r, 0, 9999, 4), num(r, 0, 9999, 4), num(r, 0, 9999, 4), num(r, 0, 999, 3), num(r, 0, 99999, 5))
	month, day := num(r, 0, 13, 1, 2, 2, 2, 3), num(r, 0, 32, 1, 2, 2, 2, 3)
	switch r.IntN(6) {
	case 0:
		return year + "年" + month + "月" + day + "日"
	case 1:
		return year + "年" + month + "月" + day + pick(r, "号", "")
	case 2:
		s := pick(r, "-", "/", ".")
		return year + s + month + s + day
	case 3:
		return year + pick(r, "-", "/", ".") + month + pick(r, "-", "/", ".") + day
	case 4:
		return year + pick(r, " 年 ", "年 ") + month + pick(r, " 月 ", "月") + day + pick(r, " 号", "号", " 日", "号 ")
	default:
		return year + "-" + month + "-" + day + pick(r, "T", "")
	}
}

func clock(r *rand.Rand) string {
	c := num(r, 0, 25, 1, 2, 2, 2, 3) + pick(r, ":", ":", ":", "：") + num(r, 0, 61, 2, 2, 2, 2, 1, 3)
	if r.IntN(3) == 0 {
		c += ":" + num(r, 0, 61, 2, 2, 2, 2, 1)
	}
	if r.IntN(10) == 0 {
		c += pick(r, " AM", "PM", ":")
	}
	return c
}

func point(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return clock(r)
	case 1:
		return calendar(r)
	default:
		return calendar(r) + pick(r, " ", "  ", "\u3000", "T", "") + clock(r)
	}
}

// formatted builds values in the shape of a type (mostly right, sometimes
// not) so the format parsers are exercised beyond random text.
func formatted(r *rand.Rand, typ string) string {
	switch typ {
	case "time", "date":
		v := point(r)
		if r.IntN(3) == 0 {
			v += pick(r, "~", " ~ ", "～", "-", "至", "~~", " ~") + point(r)
		}
		if r.IntN(12) == 0 {
			v = pick(r, " ", "") + v + pick(r, " ", "")
		}
		return v
	case "number", "amount":
		v := digitsOf(r, r.IntN(13))
		if r.IntN(2) == 0 {
			v += pick(r, ".", ",", ". ") + digitsOf(r, r.IntN(4))
		}
		if typ == "amount" {
			v = pick(r, "", "", "", "", "¥", "￥", "$", "€", "£", "US$", "-") + v + pick(r, "", "", "", "元", "元元", "块")
		}
		if r.IntN(6) == 0 {
			v = digitsOf(r, 30+r.IntN(6)) // around the 32 limit
		}
		return v
	case "phone_number", "phone":
		return pick(r, "+86-", "", "(", "#", " ") + digitsOf(r, r.IntN(20)) + pick(r, "", "-", "*", " ", "）")
	case "car_number", "licensePlate":
		return pick(r, "粤", "京", "A", "", "粤粤") + fromClass(r, "ABCxyz0123456789", r.IntN(9)) + pick(r, "", "挂", "学", "-")
	case "name":
		return fromClass(r, pick(r, "张三李四王", "abcXYZ '-", "张三ab", "josé ·", "张1"), r.IntN(24))
	case "phrase", "status":
		return fromClass(r, pick(r, "配送中已发货", "配送中，", "abc"), r.IntN(8))
	case "symbol":
		return fromClass(r, pick(r, "+-*/", "!@#$%^&*()", "+-a", "，。！"), r.IntN(8))
	case "letter", "character_string", "string":
		return fromClass(r, pick(r, "abcXYZ", "abc123", "a1!~", "a b", "中a"), 28+r.IntN(8))
	case "enum":
		return pick(r, "待付款", "已发货", "A", "a", "a b", "", "待付款 ")
	}
	return ""
}

// limits are the lengths worth hitting exactly, ±1.
var limits = []int{5, 7, 8, 10, 11, 17, 20, 32}

// TestOracleAgreement compares both sides on a seeded corpus (the seed is
// fixed, so a failure replays), and checks the corpus reaches every
// verdict of every type: valid, empty and invalid values, and too long
// ones for the types with a length limit — a corpus the rules all refuse
// the same way would prove nothing.
func TestOracleAgreement(t *testing.T) {
	t.Parallel()
	seed := uint64(20261205)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const rounds = 4000
	checked, failed := 0, 0
	seen := map[string]map[string]int{}
	for i := range rounds {
		for _, platform := range []string{"wechat", "kuaishou"} {
			types := wechatTypes
			if platform == "kuaishou" {
				types = kuaishouTypes
			}
			for _, typ := range types {
				var v string
				switch i % 4 {
				case 0:
					v = randomText(r, r.IntN(40))
				case 1:
					l := pick(r, limits...) + r.IntN(3) - 1
					v = fromClass(r, pick(r, "配送中abc 123", "abcdef", "0123456789", "+-*/", "粤A8Z888"), l)
				default:
					v = formatted(r, typ)
				}
				if typ == "time" || typ == "date" {
					// Formats have more corners than lengths: more of them.
					for range 4 {
						checked++
						if !compare(t, platform, typ, 1, formatted(r, typ), nil, seen) {
							failed++
						}
					}
				}
				enum := enumLists[r.IntN(len(enumLists))]
				checked++
				if !compare(t, platform, typ, 1+r.IntN(30), v, enum, seen) {
					failed++
					if failed > 40 {
						t.Fatalf("stopping after %d disagreements in %d values (seed %d)", failed, checked, seed)
					}
				}
			}
		}
	}
	t.Logf("%d values compared (seed %d)", checked, seed)
	unbounded := map[string]bool{"wechat/time": true, "wechat/date": true, "kuaishou/date": true}
	for k, c := range seen {
		want := []string{"", "empty", "invalid", "exceeds limit"}
		if unbounded[k] {
			want = want[:3]
		}
		for _, w := range want {
			if c[w] < 5 {
				t.Errorf("%s: the corpus reached the verdict %q %d times, want at least 5 (all: %v)", k, w, c[w], c)
			}
		}
	}
	if len(seen) != len(wechatTypes)+len(kuaishouTypes) {
		t.Errorf("the corpus covered %d types, want %d", len(seen), len(wechatTypes)+len(kuaishouTypes))
	}
}

// TestOracleDocExamples: the examples the platforms' tables give agree on
// both sides and are valid on both.
func TestOracleDocExamples(t *testing.T) {
	t.Parallel()
	wechat := map[string]string{
		"thing1": "配送中", "number1": "339208499", "letter1": "abc", "symbol1": "%",
		"character_string1": "A2019100112345", "time1": "15:01", "time2": "2019年10月1日 15:01",
		"date1": "2019年10月1日", "date2": "2019年10月1日 15:01", "date3": "2019-12-25 09:42",
		"amount1": "¥100.00", "phone_number1": "+86-0766-66888866", "car_number1": "粤A8Z888挂",
		"name1": "张三", "phrase1": "配送中",
	}
	for k, v := range wechat {
		if !compare(t, "wechat", mockkeyword.Type(k), 1, v, nil) {
			continue
		}
		if err := mockkeyword.WeChat(k, v, nil); err != nil {
			t.Errorf("the doc example %s=%q is refused: %v", k, v, err)
		}
	}
	kuaishou := map[string]string{"thing": "会员卡", "date": "2020年02月25号", "licensePlate": "京B12345"}
	for typ, v := range kuaishou {
		if !compare(t, "kuaishou", typ, 1, v, nil) {
			continue
		}
		if err := mockkeyword.Kuaishou(typ+"01", v); err != nil {
			t.Errorf("the doc example %s01=%q is refused: %v", typ, v, err)
		}
	}
}

// FuzzOracle lets the fuzzer look for values the two sides judge apart:
// go test -run '^$' -fuzz FuzzOracle -fuzztime 60s ./sender/internal/keyword/
func FuzzOracle(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 64 {
		f.Add(uint8(i), formatted(r, wechatTypes[i%len(wechatTypes)]))
		f.Add(uint8(i), randomText(r, r.IntN(24)))
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		all := len(wechatTypes) + len(kuaishouTypes)
		i := int(which) % all
		enum := enumLists[int(which)/all%len(enumLists)]
		if i < len(wechatTypes) {
			compare(t, "wechat", wechatTypes[i], 1, value, enum)
		} else {
			compare(t, "kuaishou", kuaishouTypes[i-len(wechatTypes)], 1, value, nil)
		}
	})
}

// BenchmarkRules times both sides over the same valid values, one typical
// template's worth per op. The sender's rules are the code the mock used
// before it got its own, so mock/sender is the mock's new/old cost per
// keyword: go test -run '^$' -bench Rules -benchmem ./sender/internal/keyword/
func BenchmarkRules(b *testing.B) {
	wechat := [][2]string{{"thing1", "您的订单已发货，请留意查收"}, {"character_string2", "A2019100112345"},
		{"time3", "2019年10月1日 15:01"}, {"amount4", "¥100.00"}, {"phrase5", "配送中"}}
	kuaishou := [][2]string{{"thing01", "会员卡"}, {"thing02", "这是一张会员卡"}, {"date01", "2020年02月25号"}, {"amount01", "99.90"}}
	b.Run("sender", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, kv := range wechat {
				if keyword.Check(kv[0], kv[1], nil) != nil {
					b.Fatal(kv)
				}
			}
			for _, kv := range kuaishou {
				if kskeyword.Check(kv[0], kv[1]) != nil {
					b.Fatal(kv)
				}
			}
		}
	})
	b.Run("mock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, kv := range wechat {
				if mockkeyword.WeChat(kv[0], kv[1], nil) != nil {
					b.Fatal(kv)
				}
			}
			for _, kv := range kuaishou {
				if mockkeyword.Kuaishou(kv[0], kv[1]) != nil {
					b.Fatal(kv)
				}
			}
		}
	})
}
