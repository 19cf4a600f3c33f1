package api

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/internal/keyword"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/reason"
)

// maxValueRunes bounds a keyword value on platforms whose keyword rules the
// sender does not model; the platform has the last word.
const maxValueRunes = 200

// checkContent validates the fields every message and broadcast shares.
func (a *API) checkContent(appName, templateID string, data map[string]string, page string) (config.App, []Problem) {
	var ps []Problem
	app, ok := a.apps[appName]
	switch {
	case appName == "":
		ps = append(ps, Problem{"app", "required", "app is required: the name of a configured app"})
	case !ok:
		ps = append(ps, Problem{"app", "unknown_app", fmt.Sprintf("no app named %q is configured", appName)})
	}
	if strings.TrimSpace(templateID) == "" {
		ps = append(ps, Problem{"template_id", "required", "template_id is required"})
	}
	ps = append(ps, checkIdent("template_id", templateID, maxTemplateIDBytes)...)
	if len(data) == 0 {
		ps = append(ps, Problem{"data", "required", "data is required: {keyword: value}"})
	}
	if dp := checkData(data); len(dp) > 0 {
		// Keyword rules and content rules over thousands of keys would
		// only repeat the problem.
		return app, append(ps, dp...)
	}
	if n := utf8.RuneCountInString(page); n > maxPageChars {
		ps = append(ps, Problem{"page", "too_long", fmt.Sprintf("page is %d characters, over the limit of %d", n, maxPageChars)})
	}
	if ok {
		ps = append(ps, keywordProblems(app.Platform, data)...)
	}
	for _, m := range a.content.Check(data) {
		ps = append(ps, Problem{"data." + m.Field, "content:" + m.Rule,
			fmt.Sprintf("the value of %s matches content rule %q", m.Field, m.Rule)})
	}
	return app, ps
}

// keywordProblems applies the platform's keyword rules: WeChat's typed
// keywords (thing ≤ 20, number, time, …); elsewhere values must be
// non-empty and short.
func keywordProblems(platformName string, data map[string]string) []Problem {
	var ps []Problem
	for _, k := range sortedKeys(data) {
		v := data[k]
		field := "data." + k
		if platformName == "wechat" {
			err := keyword.Check(k, v, nil)
			var viol *keyword.Violation
			if errors.As(err, &viol) {
				rule := "keyword_" + strings.ReplaceAll(string(viol.Reason), " ", "_")
				msg := fmt.Sprintf("%s (a %s keyword", viol.Error(), viol.Type)
				if viol.Limit > 0 {
					msg += fmt.Sprintf(" allows at most %d characters", viol.Limit)
				}
				ps = append(ps, Problem{field, rule, msg + ")"})
			}
			continue
		}
		switch {
		case strings.TrimSpace(v) == "":
			ps = append(ps, Problem{field, "keyword_empty", field + " is empty"})
		case utf8.RuneCountInString(v) > maxValueRunes:
			ps = append(ps, Problem{field, "keyword_exceeds_limit", fmt.Sprintf("%s is longer than %d characters", field, maxValueRunes)})
		}
	}
	return ps
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// ruleReason is the vocabulary's reason for a refused message's problem,
// where one applies: a 422 then says, like a failed message would, what
// kind of wrong it is (the senderclient's Error.Reason).
func ruleReason(rule string) (reason.Reason, bool) {
	switch {
	case rule == "unknown_template" || rule == "missing_keyword" || rule == "unknown_keyword":
		return reason.InvalidTemplate, true
	case strings.HasPrefix(rule, "keyword_") || strings.HasPrefix(rule, "page"):
		return reason.InvalidData, true
	case strings.HasPrefix(rule, "content:"):
		return reason.RiskyContent, true
	case rule == "unknown_app":
		return reason.AppNotConfigured, true
	}
	return "", false
}
