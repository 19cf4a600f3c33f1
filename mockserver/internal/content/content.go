// Package content holds the mock's content rules: word lists that make text
// "risky" or "review" with a platform label, and the images judged risky.
// They drive every platform's content-security endpoint and the sends that
// screen content (WeChat 45168, Douyin's content violation, …).
package content

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Suggestions, in the order of severity.
const (
	Pass   = "pass"
	Review = "review"
	Risky  = "risky"
)

// Default labels (WeChat msg_sec_check numbering, which the other platforms'
// emulations map to their own).
const (
	LabelNormal = 100
	LabelOther  = 21000
)

// OfficialTestStrings are WeChat's documented fixtures that must be judged
// risky (msgSecCheck v1 doc): they are part of the default rules.
var OfficialTestStrings = []string{
	"特3456书yuuo莞6543李zxcz蒜7782法fgnv级",
	"完2347全dfji试3726测asad感3847知qwez到",
}

// Hit is one matched word.
type Hit struct {
	Word    string
	Label   int
	Suggest string
}

// Verdict is the judgement of a text.
type Verdict struct {
	Suggest string // pass, review or risky
	Label   int    // label of the most severe hit, LabelNormal if none
	Hits    []Hit
}

type word struct {
	lower string
	hit   Hit
}

// Rules is the active rule set. Safe for concurrent use.
type Rules struct {
	mu     sync.RWMutex
	spec   mockapi.ContentRules
	words  []word    // risky first, then review
	images imageSets // risky images: SHA-256 hex digests and URLs
}

// New returns rules from spec (nil: the default rules, which hold only the
// official test strings).
func New(spec *mockapi.ContentRules) *Rules {
	r := &Rules{}
	r.Set(Default(spec))
	return r
}

// Default returns spec, or the default rules when spec is nil.
func Default(spec *mockapi.ContentRules) mockapi.ContentRules {
	if spec != nil {
		return *spec
	}
	var d mockapi.ContentRules
	for _, s := range OfficialTestStrings {
		d.Risky = append(d.Risky, mockapi.ContentWord{Word: s, Label: 20006})
	}
	return d
}

// Set replaces the rules.
func (r *Rules) Set(spec mockapi.ContentRules) {
	var ws []word
	add := func(list []mockapi.ContentWord, suggest string) {
		for _, w := range list {
			if strings.TrimSpace(w.Word) == "" {
				continue
			}
			l := w.Label
			if l == 0 {
				l = LabelOther
			}
			ws = append(ws, word{lower: strings.ToLower(w.Word), hit: Hit{Word: w.Word, Label: l, Suggest: suggest}})
		}
	}
	add(spec.Risky, Risky)
	add(spec.Review, Review)
	images := newImageSets(spec.RiskyImages)
	r.mu.Lock()
	r.spec, r.words, r.images = spec, ws, images
	r.mu.Unlock()
}

// Get returns the rules as set.
func (r *Rules) Get() mockapi.ContentRules {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.spec
}

// Check judges texts together: the verdict is the most severe hit in any.
func (r *Rules) Check(texts ...string) Verdict {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := Verdict{Suggest: Pass, Label: LabelNormal}
	if len(r.words) == 0 {
		return v
	}
	for _, t := range texts {
		lt := toLower(t)
		for _, w := range r.words {
			if strings.Contains(lt, w.lower) {
				v.Hits = append(v.Hits, w.hit)
				if v.Suggest != Risky && (w.hit.Suggest == Risky || v.Suggest == Pass) {
					v.Suggest, v.Label = w.hit.Suggest, w.hit.Label
				}
			}
		}
	}
	return v
}

// toLower is strings.ToLower(t). Send texts are mostly Chinese, which
// strings.ToLower maps rune by rune through unicode.ToLower (a tenth of the
// content check) although no CJK character has a lower case: a text of
// valid UTF-8 whose runes are all ASCII other than A–Z, or in the caseless
// blocks of caselessRanges, is its own lower case and is returned as is;
// anything else goes to strings.ToLower (which also replaces invalid
// UTF-8). TestToLower checks every rune of those blocks.
func toLower(t string) string {
	for i := 0; i < len(t); {
		c := t[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return strings.ToLower(t)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(t[i:])
		if !caseless(r) || r == utf8.RuneError && size == 1 {
			return strings.ToLower(t)
		}
		i += size
	}
	return t
}

// caselessRanges are blocks without a cased letter: CJK symbols and
// punctuation, Hiragana, Katakana, CJK unified ideographs (and the
// extension A before them), Hangul syllables.
var caselessRanges = [][2]rune{{0x3000, 0x30FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}}

func caseless(r rune) bool {
	for _, rg := range caselessRanges {
		if rg[0] <= r && r <= rg[1] {
			return true
		}
	}
	return false
}
