package templates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/keyword"
	kskeyword "github.com/minipush/minipush/sender/internal/keyword/kuaishou"
)

// Problem is one thing wrong with a message, as the API answers it: the
// field at fault ("data.thing2", "template_id", "page"), a rule and a
// message naming both.
type Problem struct {
	Field   string
	Rule    string
	Message string
}

// The rules Check reports besides the value rules' "keyword_empty",
// "keyword_exceeds_limit" and "keyword_invalid".
const (
	RuleUnknownTemplate = "unknown_template"
	RuleMissingKeyword  = "missing_keyword"
	RuleUnknownKeyword  = "unknown_keyword"
	RulePageRequired    = "page_required"
	RulePageInvalid     = "page_invalid"
)

// Value limits the platforms document no number for; the mock enforces
// the same (docs/mock-douyin.md, docs/mock-baidu.md).
const (
	// DouyinMaxRunes: Douyin's templates are not typed; a value must be one
	// line of at most 50 characters (UNCONFIRMED, the mock's reading).
	DouyinMaxRunes = 50
	// UntypedMaxRunes: Alipay and Baidu document no length for their
	// "keywordN" values; the bound only keeps a value a card line (the
	// platform has the last word: the mock applies the rule of the type the
	// template was registered with, which a sender cannot see).
	UntypedMaxRunes = 200
)

// BaiduSubscribeIDKey is the data key a Baidu message may carry its
// subscribe_id under; the client takes it out before sending, so it is
// no keyword.
const BaiduSubscribeIDKey = "subscribe_id"

// Check reports what is wrong with a message of app: its template's
// keywords (missing, unknown), each value by its platform's rule, and the
// page. ctx bounds a fetch of the app's list the check may wait for. An
// app the catalog does not know has no problems here (the API refuses it
// by name).
func (c *Catalog) Check(ctx context.Context, app, templateID string, data map[string]string, page string) []Problem {
	e, ok := c.apps[app]
	if !ok {
		return nil
	}
	var ps []Problem
	t, found, authoritative := c.template(ctx, e, templateID)
	switch {
	case found:
		for _, k := range t.Keywords {
			if _, ok := data[k]; !ok {
				ps = append(ps, Problem{"data." + k, RuleMissingKeyword,
					fmt.Sprintf("data.%s is missing: template %s has the keywords %s", k, templateID, strings.Join(t.Keywords, ", "))})
			}
		}
		for _, k := range sortedKeys(data) {
			if !slices.Contains(t.Keywords, k) && !(e.app.Platform == "baidu" && k == BaiduSubscribeIDKey) {
				ps = append(ps, Problem{"data." + k, RuleUnknownKeyword,
					fmt.Sprintf("data.%s is not a keyword of template %s (its keywords: %s)", k, templateID, strings.Join(t.Keywords, ", "))})
			}
		}
	case authoritative:
		ps = append(ps, Problem{"template_id", RuleUnknownTemplate,
			fmt.Sprintf("template_id %q is not a template of app %s (%s)", templateID, app, c.whence(e))})
	}
	for _, k := range sortedKeys(data) {
		if e.app.Platform == "baidu" && k == BaiduSubscribeIDKey {
			continue
		}
		if p, bad := CheckValue(e.app.Platform, k, data[k], t.Enums[k]); bad {
			ps = append(ps, p)
		}
	}
	return append(ps, checkPage(e.app, page)...)
}

// whence says where the app's templates come from, for an unknown id.
func (c *Catalog) whence(e *entry) string {
	if e.app.Lister != nil {
		return "its templates as the platform lists them and as configured"
	}
	return "its templates are configured in apps[].templates"
}

// CheckValue applies the platform's rule for the keyword key to value
// (docs/platforms/): WeChat's typed keywords (thing ≤ 20 characters,
// number, date, phrase ≤ 5, …; enum the allowed values, if any), Kuaishou's
// (date written 2026年11月25号, …), Douyin's (one line, not empty, ≤
// DouyinMaxRunes), Alipay's and Baidu's keywordN (one line, not empty, ≤
// UntypedMaxRunes).
func CheckValue(platformName, key, value string, enum []string) (Problem, bool) {
	var err error
	switch platformName {
	case "wechat":
		err = keyword.Check(key, value, enum)
	case "kuaishou":
		err = kskeyword.Check(key, value)
	case "douyin":
		err = line(key, value, DouyinMaxRunes)
	default:
		err = line(key, value, UntypedMaxRunes)
	}
	var viol *keyword.Violation
	if !errors.As(err, &viol) {
		return Problem{}, false
	}
	field := "data." + key
	rule := "keyword_" + strings.ReplaceAll(string(viol.Reason), " ", "_")
	msg := viol.Error()
	switch {
	case viol.Limit > 0 && viol.Type != "":
		msg += fmt.Sprintf(" (a %s keyword allows at most %d characters)", viol.Type, viol.Limit)
	case viol.Limit > 0:
		msg += fmt.Sprintf(" (at most %d characters)", viol.Limit)
	case viol.Reason == keyword.ReasonInvalid && viol.Type != "":
		msg += fmt.Sprintf(" (the %s rule of a %s keyword)", platformName, viol.Type)
	}
	return Problem{field, rule, msg}, true
}

// line is the rule of untyped keywords: not blank, valid UTF-8, one line
// (no control or line-separator character), at most limit characters.
func line(key, value string, limit int) error {
	v := &keyword.Violation{Key: key}
	switch {
	case strings.TrimSpace(value) == "":
		v.Reason = keyword.ReasonEmpty
	case !utf8.ValidString(value) || strings.IndexFunc(value, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}) >= 0:
		v.Reason = keyword.ReasonInvalid
	case utf8.RuneCountInString(value) > limit:
		v.Reason, v.Limit = keyword.ReasonTooLong, limit
	default:
		return nil
	}
	return v
}

// checkPage: Alipay's and Kuaishou's sends require a page ("必选" in
// Alipay's method table, "是" in Kuaishou's; docs/platforms/alipay.md,
// kuaishou.md), so a message without one needs the app's default_page; on
// every platform a page is a path inside the
// mini-program ("pages/index?id=1"), never a URL, without spaces.
func checkPage(a App, page string) []Problem {
	switch {
	case (a.Platform == "alipay" || a.Platform == "kuaishou") && page == "" && a.DefaultPage == "":
		return []Problem{{"page", RulePageRequired,
			fmt.Sprintf("page is required: the %s send needs a page, and app %s has no default_page", a.Platform, a.Name)}}
	case page != "" && (strings.Contains(page, "://") || strings.IndexFunc(page, unicode.IsSpace) >= 0):
		return []Problem{{"page", RulePageInvalid, fmt.Sprintf("page %q must be a path inside the mini-program, not a URL, without spaces", page)}}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
