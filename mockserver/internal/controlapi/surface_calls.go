package controlapi

import (
	"net/http"
	"time"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// ActivityPlatform is implemented by the platforms with updatable messages
// (WeChat): it says what an activity's card shows.
type ActivityPlatform interface {
	DescribeActivity(a store.Activity, now time.Time) mockapi.Activity
}

// MediaCheckPlatform is implemented by the platforms with asynchronous
// media checks (WeChat media_check_async).
type MediaCheckPlatform interface {
	MediaChecks(appID string) []mockapi.MediaCheck
	MediaCheckDelay() time.Duration
	SetMediaCheckDelay(d time.Duration)
}

// maxMediaCheckDelay bounds the delay (the platform promises a verdict
// within 30 minutes).
const maxMediaCheckDelay = 30 * time.Minute

// Activities lists an app's updatable-message activities, oldest first,
// with what each card shows now.
func (a *API) Activities(platformName, appID string) ([]mockapi.Activity, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return nil, err
	}
	p, ok := a.platforms[platformName].(ActivityPlatform)
	if !ok {
		return nil, bad("platform", "platform %q has no updatable messages in the mock", platformName)
	}
	now := a.env.Clock.Now()
	out := []mockapi.Activity{}
	for _, act := range a.env.Store.Activities(platformName, appID) {
		out = append(out, p.DescribeActivity(act, now))
	}
	return out, nil
}

func (a *API) mediaCheckPlatform(platformName string) (MediaCheckPlatform, error) {
	if err := a.checkPlatform(platformName); err != nil {
		return nil, err
	}
	p, ok := a.platforms[platformName].(MediaCheckPlatform)
	if !ok {
		return nil, bad("platform", "platform %q has no asynchronous media checks in the mock", platformName)
	}
	return p, nil
}

// MediaChecks lists an app's asynchronous media checks and the delay
// before their verdicts are pushed.
func (a *API) MediaChecks(platformName, appID string) (mockapi.MediaChecks, error) {
	p, err := a.mediaCheckPlatform(platformName)
	if err != nil {
		return mockapi.MediaChecks{}, err
	}
	if _, err := a.platformApp(platformName, appID); err != nil {
		return mockapi.MediaChecks{}, err
	}
	return mockapi.MediaChecks{Checks: p.MediaChecks(appID), Delay: mockapi.Duration(p.MediaCheckDelay())}, nil
}

// SetMediaCheckSettings sets the delay between a check and its push (until
// reset).
func (a *API) SetMediaCheckSettings(s mockapi.MediaCheckSettings) (mockapi.MediaCheckSettings, error) {
	p, err := a.mediaCheckPlatform(s.Platform)
	if err != nil {
		return s, err
	}
	if d := time.Duration(s.Delay); d < 0 || d > maxMediaCheckDelay {
		return s, bad("delay", "delay must be between 0 and %v", maxMediaCheckDelay)
	}
	p.SetMediaCheckDelay(time.Duration(s.Delay))
	return s, nil
}

// Media lists an app's uploaded temporary media (not their bytes), oldest
// first.
func (a *API) Media(platformName, appID string) ([]mockapi.MediaFile, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return nil, err
	}
	now := a.env.Clock.Now()
	out := []mockapi.MediaFile{}
	for _, m := range a.env.Store.MediaOf(platformName, appID) {
		out = append(out, mockapi.MediaFile{Platform: m.Platform, AppID: m.AppID, MediaID: m.ID, Type: m.Type,
			ContentType: m.ContentType, FileName: m.FileName, Size: len(m.Data), SHA256: content.ImageDigest(m.Data),
			CreatedAt: m.Created, ExpiresAt: m.Expires, Expired: !now.Before(m.Expires)})
	}
	return out, nil
}

func (a *API) getActivities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := a.Activities(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, mockapi.Activities{Activities: list})
}

func (a *API) getMediaChecks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := a.MediaChecks(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) putMediaCheckSettings(w http.ResponseWriter, r *http.Request) {
	var s mockapi.MediaCheckSettings
	if err := decode(r, &s); err != nil {
		fail(w, err)
		return
	}
	out, err := a.SetMediaCheckSettings(s)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getMedia(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := a.Media(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, mockapi.MediaFiles{Media: list})
}
