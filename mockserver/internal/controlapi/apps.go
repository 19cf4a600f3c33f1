package controlapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// AddApp registers an app (and, from a seed, its nested users, templates
// and grants). It returns the fields of the 201 answer.
func (a *API) AddApp(req mockapi.App) (map[string]any, error) {
	if err := a.checkPlatform(req.Platform); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.AppID) == "" {
		return nil, bad("app_id", "app_id is required")
	}
	if req.CertMode && req.Platform != mockapi.PlatformAlipay {
		return nil, bad("cert_mode", "cert_mode is Alipay's certificate mode: not for %s apps", req.Platform)
	}
	p := a.platforms[req.Platform]
	app := &store.App{Platform: req.Platform, AppID: req.AppID, Secret: req.Secret, IPWhitelist: req.IPWhitelist}
	if len(req.Pages) > 0 {
		app.Pages = map[string]bool{}
		for _, pg := range req.Pages {
			path, _, _ := strings.Cut(pg, "?")
			app.Pages[strings.TrimPrefix(path, "/")] = true
		}
	}
	limits, err := mergeLimits(p, p.DefaultLimits(), req.Quotas)
	if err != nil {
		return nil, err
	}
	app.Limits = limits
	answer, field, err := p.PrepareApp(req, app)
	if err != nil {
		return nil, bad(field, "%v", err)
	}
	// Push settings are checked before the app is stored, so a bad one
	// leaves nothing half-registered.
	cfg, err := a.checkPush(app, req.Push)
	if err != nil {
		return nil, err
	}
	a.env.Store.PutApp(app)
	a.env.Push.SetConfig(app.Platform, app.AppID, cfg)
	for i, u := range req.Users {
		if err := a.AddUser(mockapi.User{Platform: req.Platform, AppID: req.AppID, OpenID: u}); err != nil {
			return nil, prefixField(fmt.Sprintf("users[%d]", i), err)
		}
	}
	for i, t := range req.Templates {
		t.Platform, t.AppID = req.Platform, req.AppID
		if err := a.addTemplate(t); err != nil {
			return nil, prefixField(fmt.Sprintf("templates[%d]", i), err)
		}
	}
	for i, g := range req.Grants {
		g.Platform, g.AppID = req.Platform, req.AppID
		if _, err := a.AddGrant(g); err != nil {
			return nil, prefixField(fmt.Sprintf("grants[%d]", i), err)
		}
	}
	if answer == nil {
		answer = map[string]any{}
	}
	answer["platform"], answer["app_id"] = req.Platform, req.AppID
	if cfg != nil {
		answer["push"] = cfg.Info()
	}
	return answer, nil
}

func prefixField(prefix string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		f := prefix
		if fe.field != "" {
			f += "." + fe.field
		}
		return &fieldError{field: f, status: fe.status, err: fmt.Errorf("%s: %w", prefix, fe.err)}
	}
	return err
}

// mergeLimits applies an app's quota overrides over the defaults: an
// override replaces the default for the same endpoint and window.
func mergeLimits(p Platform, defaults []quota.Limit, overrides []mockapi.Quota) ([]quota.Limit, error) {
	out := append([]quota.Limit(nil), defaults...)
	for i, q := range overrides {
		l, err := toLimit(p, q)
		if err != nil {
			return nil, prefixField(fmt.Sprintf("quotas[%d]", i), err)
		}
		out = setLimit(out, l)
	}
	return out, nil
}

func setLimit(limits []quota.Limit, l quota.Limit) []quota.Limit {
	for i, old := range limits {
		if old.Endpoint == l.Endpoint && old.Per == l.Per {
			limits[i] = l
			return limits
		}
	}
	return append(limits, l)
}

func toLimit(p Platform, q mockapi.Quota) (quota.Limit, error) {
	known := false
	for _, e := range p.Endpoints() {
		known = known || e == q.Endpoint
	}
	for _, l := range p.DefaultLimits() {
		known = known || l.Endpoint == q.Endpoint
	}
	if !known {
		return quota.Limit{}, bad("endpoint", "unknown endpoint %q (one of %v)", q.Endpoint, p.Endpoints())
	}
	per, err := quota.ParseWindow(q.Per)
	if err != nil {
		return quota.Limit{}, bad("per", "%v", err)
	}
	if q.Limit < 0 {
		return quota.Limit{}, bad("limit", "limit must be >= 0")
	}
	return quota.Limit{Endpoint: q.Endpoint, Max: q.Limit, Per: per}, nil
}

// Apps lists the registered apps (never their secrets; of push settings
// only whether the secrets are set).
func (a *API) Apps() []mockapi.AppInfo {
	apps := a.env.Store.Apps()
	for i := range apps {
		apps[i].Push = a.pushInfo(apps[i].Platform, apps[i].AppID)
	}
	return apps
}

func (a *API) getApps(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"apps": a.Apps()})
}

// POST /_mock/apps — the secret is stored, never echoed. Push settings are
// verified as the console does when they are saved: the answer's "verify"
// says whether the developer's server passed the handshake.
func (a *API) postApp(w http.ResponseWriter, r *http.Request) {
	var req mockapi.App
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	answer, err := a.AddApp(req)
	if err != nil {
		fail(w, err)
		return
	}
	if req.Push != nil {
		a.extendForHandshake(w, r)
		v, err := a.VerifyPush(r.Context(), req.Platform, req.AppID)
		if err != nil {
			fail(w, err)
			return
		}
		answer["verify"] = v
	}
	writeJSON(w, http.StatusCreated, answer)
}

// AddUser registers a user of an app.
func (a *API) AddUser(u mockapi.User) error {
	if _, err := a.platformApp(u.Platform, u.AppID); err != nil {
		return err
	}
	if strings.TrimSpace(u.OpenID) == "" {
		return bad("openid", "openid is required")
	}
	if _, err := a.env.Store.AddUser(u.Platform, u.AppID, u.OpenID); err != nil {
		return notFound("app_id", "%v", err)
	}
	return nil
}

func (a *API) postUser(w http.ResponseWriter, r *http.Request) {
	var req mockapi.User
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if err := a.AddUser(req); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

// Users lists the users of an app, sorted.
func (a *API) Users(platformName, appID string) ([]string, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return nil, err
	}
	users, err := a.env.Store.Users(platformName, appID)
	if err != nil {
		return nil, notFound("app_id", "%v", err)
	}
	return users, nil
}

// GET /_mock/users?platform=&app_id=
func (a *API) getUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	users, err := a.Users(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (a *API) addTemplate(t mockapi.Template) error {
	if _, err := a.platformApp(t.Platform, t.AppID); err != nil {
		return err
	}
	if strings.TrimSpace(t.TemplateID) == "" {
		return bad("template_id", "template_id is required")
	}
	if len(t.Keywords) == 0 {
		return bad("keywords", "keywords must list the template's data keys, e.g. [\"thing1\",\"time2\"]")
	}
	seen := map[string]bool{}
	p := a.platforms[t.Platform]
	for i, k := range t.Keywords {
		field := fmt.Sprintf("keywords[%d]", i)
		if err := p.CheckKeywordKey(k); err != nil {
			return bad(field, "%v", err)
		}
		if seen[k] {
			return bad(field, "keyword %q is listed twice", k)
		}
		seen[k] = true
	}
	for k := range t.Enums {
		if !seen[k] {
			return bad("enums", "enum values given for %q, which is not a keyword", k)
		}
	}
	longTerm := false
	switch t.Type {
	case "", mockapi.TemplateOneTime, "2":
	case mockapi.TemplateLongTerm, "3":
		longTerm = true
	default:
		return bad("type", "type must be one_time or long_term, got %q", t.Type)
	}
	title := t.Title
	if title == "" {
		title = t.TemplateID
	}
	return a.env.Store.PutTemplate(t.Platform, t.AppID, &store.Template{
		ID: t.TemplateID, Title: title, Keywords: append([]string(nil), t.Keywords...),
		Names: t.KeywordNames, Enums: t.Enums, LongTerm: longTerm, Created: a.env.Clock.Now(),
	})
}

func (a *API) postTemplate(w http.ResponseWriter, r *http.Request) {
	var req mockapi.Template
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if err := a.addTemplate(req); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

// Templates lists an app's private templates in creation order.
func (a *API) Templates(platformName, appID string) ([]mockapi.Template, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return nil, err
	}
	out := []mockapi.Template{}
	for _, t := range a.env.Store.Templates(platformName, appID) {
		typ := mockapi.TemplateOneTime
		if t.LongTerm {
			typ = mockapi.TemplateLongTerm
		}
		out = append(out, mockapi.Template{Platform: platformName, AppID: appID, TemplateID: t.ID,
			Title: t.Title, Keywords: t.Keywords, KeywordNames: t.Names, Enums: t.Enums, Type: typ})
	}
	return out, nil
}

func (a *API) getTemplates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := a.Templates(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}

// AddGrant gives a user one-time credits or a long-term grant (the user
// accepting a template), registering the user.
func (a *API) AddGrant(g mockapi.Grant) (mockapi.GrantState, error) {
	if _, err := a.platformApp(g.Platform, g.AppID); err != nil {
		return mockapi.GrantState{}, err
	}
	switch {
	case strings.TrimSpace(g.OpenID) == "":
		return mockapi.GrantState{}, bad("openid", "openid is required")
	case g.TemplateID == "":
		return mockapi.GrantState{}, bad("template_id", "template_id is required")
	case g.Count < 0:
		return mockapi.GrantState{}, bad("count", "count must be >= 0")
	case g.Count == 0 && !g.LongTerm:
		return mockapi.GrantState{}, bad("count", "give count >= 1 (one-time sends) or long_term: true")
	}
	st, err := a.env.Store.Grant(g.Platform, g.AppID, g.OpenID, g.TemplateID, g.Count, g.LongTerm)
	if errors.Is(err, store.ErrUnknownTemplate) {
		return st, notFound("template_id", "template %q is not a template of %s app %s", g.TemplateID, g.Platform, g.AppID)
	}
	return st, err
}

func (a *API) postGrant(w http.ResponseWriter, r *http.Request) {
	var req mockapi.Grant
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	st, err := a.AddGrant(req)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, st)
}

// Grants lists the grants of an app's users (of one user when openID is
// set) and the templates they rejected since they last accepted them.
func (a *API) Grants(platformName, appID, openID string) ([]mockapi.GrantState, []mockapi.Rejection, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return nil, nil, err
	}
	grants := a.env.Store.Grants(platformName, appID, openID)
	if grants == nil {
		grants = []mockapi.GrantState{}
	}
	rejected := a.env.Store.Rejections(platformName, appID, openID)
	if rejected == nil {
		rejected = []mockapi.Rejection{}
	}
	return grants, rejected, nil
}

func (a *API) getGrants(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	grants, rejected, err := a.Grants(q.Get("platform"), q.Get("app_id"), q.Get("openid"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": grants, "rejected": rejected})
}

// RevokeGrant removes a user's grant for a template: the user switches it
// off in settings. The rejection is remembered until the user accepts
// again, and the platform pushes it to the app's push URL (WeChat
// subscribe_msg_change_event "reject", Douyin user_subscribe_action 3/4).
func (a *API) RevokeGrant(platformName, appID, openID, templateID string) error {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return err
	}
	if openID == "" {
		return bad("openid", "openid is required")
	}
	if templateID == "" {
		return bad("template_id", "template_id is required")
	}
	if !a.env.Store.Revoke(platformName, appID, openID, templateID) {
		return notFound("template_id", "no grant for that user and template")
	}
	a.pushSettingsOff(platformName, appID, openID, templateID)
	return nil
}

// RejectTemplate records a user rejecting a template in a subscribe popup:
// any grant ends and sends answer the platform's not-subscribed code until
// the user accepts again. Unlike RevokeGrant it needs no grant to exist.
// The platform pushes the popup answer (AnswerPopup with one rejection).
func (a *API) RejectTemplate(platformName, appID, openID, templateID string) error {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return err
	}
	if strings.TrimSpace(openID) == "" {
		return bad("openid", "openid is required")
	}
	if templateID == "" {
		return bad("template_id", "template_id is required")
	}
	if _, err := a.env.Store.Reject(platformName, appID, openID, templateID); err != nil {
		if errors.Is(err, store.ErrUnknownTemplate) {
			return notFound("template_id", "template %q is not a template of %s app %s", templateID, platformName, appID)
		}
		return err
	}
	if t, ok := a.env.Store.Template(platformName, appID, templateID); ok {
		a.pushPopupReject(platformName, appID, openID, t)
	}
	return nil
}

// DELETE /_mock/grants?platform=&app_id=&openid=&template_id= — the user
// rejects the template in settings (subscribe_msg_change_event "reject").
func (a *API) deleteGrant(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := a.RevokeGrant(q.Get("platform"), q.Get("app_id"), q.Get("openid"), q.Get("template_id")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
