// Package scenario defines what a load run sends: the kinds of request
// (valid messages, content-rule violations, bad keyword values, recipients
// without a grant, broadcasts), the weighted mix that picks one per
// request, and the data values each kind carries, including the marker that
// lets the run find every message in the mock's inbox afterwards.
//
// The kind of request n depends only on the mix, the run's seed and n, so
// the expected outcome of every request is known before it is sent and a
// run can be repeated exactly.
package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is one kind of request.
type Kind string

// The kinds. Each has one expected outcome per target (see the loadtest
// package): Valid is delivered; Content and BadKeyword are refused;
// NoGrant is accepted by the sender and then fails with the platform's
// 43101 (the mock refuses it at once); Broadcast fans out to a few granted
// users, each delivered.
const (
	Valid      Kind = "valid"
	Content    Kind = "content"
	BadKeyword Kind = "badkeyword"
	NoGrant    Kind = "nogrant"
	Broadcast  Kind = "broadcast"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{Valid, Content, BadKeyword, NoGrant, Broadcast}

// DefaultMix is the mix of `make load`.
const DefaultMix = "valid=80,content=5,badkeyword=5,nogrant=5,broadcast=5"

// maxWeight bounds a weight, so the total cannot overflow.
const maxWeight = 1_000_000

// Mix is a weighted choice of kinds.
type Mix struct {
	kinds   []Kind
	weights []int
	total   int
}

// ParseMix reads "valid=80,content=5,…". Weights are non-negative integers
// (relative, they need not add up to 100); at least one must be positive.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[Kind]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix entry %q: want kind=weight, e.g. valid=80", part)
		}
		k := Kind(strings.ToLower(strings.TrimSpace(name)))
		if !slices.Contains(Kinds, k) {
			return Mix{}, fmt.Errorf("mix entry %q: unknown kind %q (one of %s)", part, k, kindList())
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("mix: %s is given twice", k)
		}
		seen[k] = true
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 0 || n > maxWeight {
			return Mix{}, fmt.Errorf("mix entry %q: weight must be a non-negative integer up to %d", part, maxWeight)
		}
		if n == 0 {
			continue
		}
		m.kinds, m.weights, m.total = append(m.kinds, k), append(m.weights, n), m.total+n
	}
	if m.total == 0 {
		return Mix{}, fmt.Errorf("mix %q: give at least one kind a positive weight", s)
	}
	return m, nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// MustParseMix is ParseMix for constants; it panics on a bad mix.
func MustParseMix(s string) Mix {
	m, err := ParseMix(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String renders the mix as ParseMix reads it.
func (m Mix) String() string {
	parts := make([]string, len(m.kinds))
	for i, k := range m.kinds {
		parts[i] = string(k) + "=" + strconv.Itoa(m.weights[i])
	}
	return strings.Join(parts, ",")
}

// Weight is the weight of k (0 when absent).
func (m Mix) Weight(k Kind) int {
	if i := slices.Index(m.kinds, k); i >= 0 {
		return m.weights[i]
	}
	return 0
}

// Without drops k from the mix. The result may be empty (zero total).
func (m Mix) Without(k Kind) Mix {
	var out Mix
	for i, x := range m.kinds {
		if x != k {
			out.kinds, out.weights, out.total = append(out.kinds, x), append(out.weights, m.weights[i]), out.total+m.weights[i]
		}
	}
	return out
}

// Empty reports whether no kind has weight.
func (m Mix) Empty() bool { return m.total == 0 }

// Pick returns the kind of request n of a run with the given seed. Picks
// are independent of timing and concurrency, and over many requests each
// kind's share approaches its weight.
func (m Mix) Pick(seed, n uint64) Kind {
	r := splitmix64(seed ^ (n * 0x9e3779b97f4a7c15))
	x := int(r % uint64(m.total))
	for i, w := range m.weights {
		if x < w {
			return m.kinds[i]
		}
		x -= w
	}
	return m.kinds[len(m.kinds)-1]
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// The template every request uses: a WeChat subscribe template with a text
// keyword and a code keyword that carries the marker.
const (
	// KeyText is a "thing" keyword: at most 20 characters.
	KeyText = "thing1"
	// KeyMarker is a "character_string" keyword (printable ASCII, at most
	// 32): it holds the request's marker.
	KeyMarker = "character_string2"
)

// Keywords are the template's data keys in order.
var Keywords = []string{KeyText, KeyMarker}

// Keys are the data keys a send to platform carries for the text and
// the marker. Kuaishou names keywords by its own types and a two-digit
// index (the marker in a second thing: its string type takes no dash);
// Alipay's sends number them by position ("keyword1"); WeChat, Douyin and
// Baidu take WeChat's typed keys (docs/mock-<platform>.md).
func Keys(platform string) (text, marker string) {
	switch platform {
	case "kuaishou":
		return "thing01", "thing02"
	case "alipay":
		return "keyword1", "keyword2"
	}
	return KeyText, KeyMarker
}

// TemplateKeys are the keywords of the template on platform, in order:
// Keys, except on Alipay, whose templates keep typed keywords that its
// positional keys map to.
func TemplateKeys(platform string) []string {
	if platform == "alipay" {
		return Keywords
	}
	text, marker := Keys(platform)
	return []string{text, marker}
}

// DataFor is Data with platform's keys (Keys).
func DataFor(platform string, k Kind, marker, contentWord string) map[string]string {
	d := Data(k, marker, contentWord)
	text, mk := Keys(platform)
	return map[string]string{text: d[KeyText], mk: d[KeyMarker]}
}

// Data returns the data values of request kind k: the marker always, and a
// text that is valid, holds contentWord, or is one character over the
// thing keyword's 20-character limit.
func Data(k Kind, marker, contentWord string) map[string]string {
	text := "订单已发货，请查收"
	switch k {
	case Content:
		text = "请查收 " + contentWord
	case BadKeyword:
		// 21 characters: one over the limit of a thing keyword.
		text = strings.Repeat("长", 21)
	}
	return map[string]string{KeyText: text, KeyMarker: marker}
}

// Marker returns request n's marker: the run id, a dash, n in base 36.
// Markers are unique within a run and, with a random run id, across runs.
func Marker(runID string, n uint64) string {
	return runID + "-" + strconv.FormatUint(n, 36)
}

// MarkerPrefix is what every marker of a run starts with.
func MarkerPrefix(runID string) string { return runID + "-" }
