// Package store is the mock's platform-neutral world: the apps registered on
// each platform, their users, private templates and the users' subscription
// grants. Platform emulations read it and consume grants through it; the
// control API and seeds fill it.
package store

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Errors a send can meet, in the order platforms check them.
var (
	ErrUnknownApp      = errors.New("unknown app")
	ErrUnknownUser     = errors.New("user is not a user of this app")
	ErrUnknownTemplate = errors.New("template is not this app's")
	ErrNoGrant         = errors.New("user holds no grant for this template")
)

// Template is an app's private template.
type Template struct {
	ID       string
	Title    string
	Keywords []string
	Names    map[string]string
	Enums    map[string][]string
	LongTerm bool
	// TID is the public library template it was added from (0: seeded).
	TID     int
	KIDs    []int
	Scene   string
	Created time.Time
}

// HasKeyword reports whether key is one of the template's keywords.
func (t *Template) HasKeyword(key string) bool { return slices.Contains(t.Keywords, key) }

type grant struct {
	remaining int
	longTerm  bool
}

type grantKey struct{ openID, templateID string }

// App is one registered mini-program. Fields other than the maps are fixed
// once the app is registered; read them freely. Extra holds a platform
// emulation's own per-app data (e.g. an Alipay public key).
type App struct {
	Platform    string
	AppID       string
	Secret      string
	Pages       map[string]bool // nil: any page
	Limits      []quota.Limit
	IPWhitelist []string
	Extra       any

	users     map[string]struct{}
	templates map[string]*Template
	order     []string // template ids in creation order
	grants    map[grantKey]*grant
	// rejected remembers the templates a user turned off (in settings or a
	// popup) until they accept again, so tools can tell "rejected" from
	// "never asked"; sends answer the same not-subscribed code either way.
	rejected map[grantKey]struct{}
}

type appKey struct{ platform, appID string }

// Store is safe for concurrent use.
type Store struct {
	mu   sync.RWMutex
	apps map[appKey]*App

	// State kept beside the apps, each under its own lock (kefu.go, …).
	kefu       kefuState
	media      mediaState
	activities activityState
}

// New returns an empty store.
func New() *Store { return &Store{apps: map[appKey]*App{}} }

// Clear removes everything.
func (s *Store) Clear() {
	s.mu.Lock()
	s.apps = map[appKey]*App{}
	s.mu.Unlock()
	s.kefu.clear()
	s.media.clear()
	s.activities.clear()
}

// PutApp registers or replaces an app's settings, keeping its users,
// templates and grants when it already exists.
func (s *Store) PutApp(a *App) (created bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appKey{a.Platform, a.AppID}
	if old, ok := s.apps[k]; ok {
		a.users, a.templates, a.order, a.grants, a.rejected = old.users, old.templates, old.order, old.grants, old.rejected
	} else {
		a.users, a.templates, a.grants = map[string]struct{}{}, map[string]*Template{}, map[grantKey]*grant{}
		a.rejected = map[grantKey]struct{}{}
		created = true
	}
	s.apps[k] = a
	return created
}

// App returns a registered app.
func (s *Store) App(platform, appID string) (*App, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	return a, ok
}

// Apps lists apps sorted by platform and id.
func (s *Store) Apps() []mockapi.AppInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]mockapi.AppInfo, 0, len(s.apps))
	for _, a := range s.apps {
		var pages []string
		for p := range a.Pages {
			pages = append(pages, p)
		}
		sort.Strings(pages)
		out = append(out, mockapi.AppInfo{Platform: a.Platform, AppID: a.AppID, Pages: pages,
			Users: len(a.users), Templates: len(a.templates)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Platform != out[j].Platform {
			return out[i].Platform < out[j].Platform
		}
		return out[i].AppID < out[j].AppID
	})
	return out
}

// Counts returns the number of apps, users and templates.
func (s *Store) Counts() (apps, users, templates int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.apps {
		apps++
		users += len(a.users)
		templates += len(a.templates)
	}
	return
}

// AddUser registers openID for an app.
func (s *Store) AddUser(platform, appID, openID string) (created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return false, ErrUnknownApp
	}
	if _, ok := a.users[openID]; ok {
		return false, nil
	}
	a.users[openID] = struct{}{}
	return true, nil
}

// Users lists an app's users, sorted (ErrUnknownApp for an unknown app).
func (s *Store) Users(platform, appID string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil, ErrUnknownApp
	}
	out := make([]string, 0, len(a.users))
	for u := range a.users {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

// HasUser reports whether openID is a user of the app.
func (s *Store) HasUser(platform, appID, openID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return false
	}
	_, ok = a.users[openID]
	return ok
}

// PutTemplate adds or replaces a private template.
func (s *Store) PutTemplate(platform, appID string, t *Template) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return ErrUnknownApp
	}
	if _, exists := a.templates[t.ID]; !exists {
		a.order = append(a.order, t.ID)
	}
	a.templates[t.ID] = t
	return nil
}

// DeleteTemplate removes a private template and its grants.
func (s *Store) DeleteTemplate(platform, appID, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return false
	}
	if _, ok := a.templates[id]; !ok {
		return false
	}
	delete(a.templates, id)
	a.order = slices.DeleteFunc(a.order, func(x string) bool { return x == id })
	for k := range a.grants {
		if k.templateID == id {
			delete(a.grants, k)
		}
	}
	for k := range a.rejected {
		if k.templateID == id {
			delete(a.rejected, k)
		}
	}
	return true
}

// Template returns a private template. Templates are replaced, never
// mutated, so the pointer may be read without the lock.
func (s *Store) Template(platform, appID, id string) (*Template, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil, false
	}
	t, ok := a.templates[id]
	return t, ok
}

// Templates lists an app's private templates in creation order.
func (s *Store) Templates(platform, appID string) []*Template {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil
	}
	out := make([]*Template, 0, len(a.order))
	for _, id := range a.order {
		out = append(out, a.templates[id])
	}
	return out
}

// Grant adds count one-time credits, or a long-term grant, registering the
// user if needed. An accept ends an earlier rejection.
func (s *Store) Grant(platform, appID, openID, templateID string, count int, longTerm bool) (mockapi.GrantState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return mockapi.GrantState{}, ErrUnknownApp
	}
	if _, ok := a.templates[templateID]; !ok {
		return mockapi.GrantState{}, ErrUnknownTemplate
	}
	a.users[openID] = struct{}{}
	k := grantKey{openID, templateID}
	delete(a.rejected, k)
	g := a.grants[k]
	if g == nil {
		g = &grant{}
		a.grants[k] = g
	}
	// Saturate rather than wrap: two huge grants must not turn into a
	// negative balance that refuses every send.
	if count > math.MaxInt-g.remaining {
		g.remaining = math.MaxInt
	} else {
		g.remaining += count
	}
	g.longTerm = g.longTerm || longTerm
	return mockapi.GrantState{Platform: platform, AppID: appID, OpenID: openID, TemplateID: templateID,
		Remaining: g.remaining, LongTerm: g.longTerm}, nil
}

// Revoke removes a user's grant for a template (the user rejected it in
// settings) and remembers the rejection until the next Grant. It reports
// whether there was a grant.
func (s *Store) Revoke(platform, appID, openID, templateID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return false
	}
	k := grantKey{openID, templateID}
	_, had := a.grants[k]
	delete(a.grants, k)
	if had {
		a.rejected[k] = struct{}{}
	}
	return had
}

// Reject records that a user turned a template off (a subscribe popup's
// reject): any grant is removed and sends answer not-subscribed until the
// next Grant. It registers the user and reports whether a grant was removed.
func (s *Store) Reject(platform, appID, openID, templateID string) (hadGrant bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return false, ErrUnknownApp
	}
	if _, ok := a.templates[templateID]; !ok {
		return false, ErrUnknownTemplate
	}
	a.users[openID] = struct{}{}
	k := grantKey{openID, templateID}
	_, hadGrant = a.grants[k]
	delete(a.grants, k)
	a.rejected[k] = struct{}{}
	return hadGrant, nil
}

// Rejections lists the templates users of an app turned off since they
// last accepted them (of one user when openID is set).
func (s *Store) Rejections(platform, appID, openID string) []mockapi.Rejection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil
	}
	var out []mockapi.Rejection
	for k := range a.rejected {
		if openID != "" && k.openID != openID {
			continue
		}
		out = append(out, mockapi.Rejection{Platform: platform, AppID: appID, OpenID: k.openID, TemplateID: k.templateID})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OpenID != out[j].OpenID {
			return out[i].OpenID < out[j].OpenID
		}
		return out[i].TemplateID < out[j].TemplateID
	})
	return out
}

// Grants lists the grants of an app (of one user when openID is set).
func (s *Store) Grants(platform, appID, openID string) []mockapi.GrantState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil
	}
	var out []mockapi.GrantState
	for k, g := range a.grants {
		if openID != "" && k.openID != openID {
			continue
		}
		out = append(out, mockapi.GrantState{Platform: platform, AppID: appID, OpenID: k.openID,
			TemplateID: k.templateID, Remaining: g.remaining, LongTerm: g.longTerm})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OpenID != out[j].OpenID {
			return out[i].OpenID < out[j].OpenID
		}
		return out[i].TemplateID < out[j].TemplateID
	})
	return out
}

// Send checks a send in the platforms' order — user, template, the
// platform's own validation of the data (validate, called with the
// template), then the grant — and consumes a one-time credit when
// everything holds. validate runs outside the store's lock (templates are
// replaced, never mutated), so slow validation does not serialise other
// apps' sends; only the grant check-and-consume is atomic, and concurrent
// sends never spend a credit twice.
func (s *Store) Send(platform, appID, openID, templateID string, validate func(*Template) error) error {
	t, err := s.lookup(platform, appID, openID, templateID)
	if err != nil {
		return err
	}
	if validate != nil {
		if err := validate(t); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return ErrUnknownApp
	}
	if _, ok := a.users[openID]; !ok {
		return ErrUnknownUser
	}
	if _, ok := a.templates[templateID]; !ok {
		return ErrUnknownTemplate // deleted while the data was validated
	}
	g := a.grants[grantKey{openID, templateID}]
	switch {
	case g == nil:
		return ErrNoGrant
	case g.longTerm:
		return nil
	case g.remaining <= 0:
		return ErrNoGrant
	}
	g.remaining--
	return nil
}

// lookup finds the template of a send, checking app, user and template in
// that order.
func (s *Store) lookup(platform, appID, openID, templateID string) (*Template, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[appKey{platform, appID}]
	if !ok {
		return nil, ErrUnknownApp
	}
	if _, ok := a.users[openID]; !ok {
		return nil, ErrUnknownUser
	}
	t, ok := a.templates[templateID]
	if !ok {
		return nil, ErrUnknownTemplate
	}
	return t, nil
}

// Describe is a short text for logs.
func (a *App) Describe() string { return fmt.Sprintf("%s app %s", a.Platform, a.AppID) }
