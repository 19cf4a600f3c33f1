package api

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/templates"
)

// checkContent validates the fields every message and broadcast shares
// (a broadcast's data once, for all its recipients): the app, the
// template and its keywords, each value by its platform's rule, the page
// and the content rules. ctx bounds a fetch of the app's template list.
func (a *API) checkContent(ctx context.Context, appName, templateID string, data map[string]string, page string) (config.App, []Problem) {
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
	if ok && len(ps) == 0 {
		// The template's keywords, the values and the page
		// (sender/internal/templates). Only for an otherwise sound
		// request: a check may wait for the app's template list.
		for _, p := range a.templates.Check(ctx, app.Name, templateID, data, page) {
			ps = append(ps, Problem(p))
		}
	} else if ok {
		for _, k := range sortedKeys(data) {
			if p, bad := templates.CheckValue(app.Platform, k, data[k], nil); bad && !(app.Platform == "baidu" && k == templates.BaiduSubscribeIDKey) {
				ps = append(ps, Problem(p))
			}
		}
	}
	for _, m := range a.content.Check(data) {
		ps = append(ps, Problem{"data." + m.Field, "content:" + m.Rule,
			fmt.Sprintf("the value of %s matches content rule %q", m.Field, m.Rule)})
	}
	return app, ps
}

// checkBase checks what a request gives for many messages whose data is
// completed elsewhere (a CSV audience's rows, a group of them): the app,
// the template id, the shape of data and each value given by the
// platform's rules, the page — not the template's keywords, which only
// the completed data can be held to.
func (a *API) checkBase(appName, templateID string, data map[string]string, page string) (config.App, []Problem) {
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
	if len(data) > 0 {
		if dp := checkData(data); len(dp) > 0 {
			return app, append(ps, dp...)
		}
	}
	if n := utf8.RuneCountInString(page); n > maxPageChars {
		ps = append(ps, Problem{"page", "too_long", fmt.Sprintf("page is %d characters, over the limit of %d", n, maxPageChars)})
	}
	if ok {
		ps = append(ps, a.valueProblems(app, data)...)
	}
	return app, ps
}

// valueProblems holds each value to the platform's rules for its keyword
// and to the content rules.
func (a *API) valueProblems(app config.App, data map[string]string) []Problem {
	var ps []Problem
	for _, k := range sortedKeys(data) {
		if p, bad := templates.CheckValue(app.Platform, k, data[k], nil); bad && !(app.Platform == "baidu" && k == templates.BaiduSubscribeIDKey) {
			ps = append(ps, Problem(p))
		}
	}
	for _, m := range a.content.Check(data) {
		ps = append(ps, Problem{"data." + m.Field, "content:" + m.Rule,
			fmt.Sprintf("the value of %s matches content rule %q", m.Field, m.Rule)})
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
	case rule == templates.RuleUnknownTemplate || rule == templates.RuleMissingKeyword || rule == templates.RuleUnknownKeyword:
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
