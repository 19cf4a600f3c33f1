package api

import (
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

// dedupRequest is a message's own dedup setting (docs/campaigns.md):
// key tells messages of one user and template apart (an order id), window
// replaces the app's.
type dedupRequest struct {
	Key    string `json:"key"`
	Window string `json:"window"`
}

// maxDedupKeyBytes bounds a dedup key.
const maxDedupKeyBytes = 128

// campaignOptions checks a request's campaign fields and returns them as
// campaign.Options.
func (a *API) campaignOptions(app string, urgent bool, d *dedupRequest) (campaign.Options, []Problem) {
	o := campaign.Options{Urgent: urgent}
	if d == nil {
		return o, nil
	}
	var ps []Problem
	o.DedupKey = d.Key
	ps = append(ps, checkIdent("dedup.key", d.Key, maxDedupKeyBytes)...)
	if d.Window != "" {
		w, err := time.ParseDuration(d.Window)
		if err != nil || w < time.Second || w > config.MaxDedupWindow {
			ps = append(ps, Problem{"dedup.window", "invalid",
				fmt.Sprintf("dedup.window must be a duration between 1s and %s (e.g. \"24h\"), got %q", config.MaxDedupWindow, d.Window)})
		}
		o.DedupWindow = w
	} else if a.campaigns[app].DedupWindow() == 0 {
		ps = append(ps, Problem{"dedup.window", "required",
			fmt.Sprintf("app %q has no dedup window (campaigns.dedup.window): give dedup.window", app)})
	}
	return o, ps
}

// broadcastDedup is a group broadcast's own dedup settings, applied to
// each member at the fan-out; nil when the request gave none.
func broadcastDedup(o campaign.Options) *message.BroadcastDedup {
	if o.DedupKey == "" && o.DedupWindow == 0 {
		return nil
	}
	return &message.BroadcastDedup{Key: o.DedupKey, Window: message.Duration(o.DedupWindow)}
}

// campaignCounted counts what the campaign rules made of stored messages
// (minipush_campaign_held_total, minipush_campaign_rejected_total).
func (a *API) campaignCounted(app string, msgs []message.Message) {
	if a.hooks.Campaign == nil {
		return
	}
	for i := range msgs {
		campaign.Count(&msgs[i], func(what, rule string) { a.hooks.Campaign(app, what, rule) })
	}
}

// campaignsView is an app's campaign rules as GET /v1/apps/{name} shows
// them (durations as strings).
type campaignsView struct {
	TimeZone      string                `json:"time_zone"`
	DedupWindow   string                `json:"dedup_window,omitempty"`
	QuietHours    *quietHoursView       `json:"quiet_hours,omitempty"`
	FrequencyCaps []config.FrequencyCap `json:"frequency_caps"`
	OnExceed      string                `json:"on_exceed"`
	Categories    map[string]string     `json:"categories,omitempty"`
}

type quietHoursView struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Ramp  string `json:"ramp"`
}

func newCampaignsView(c *config.Campaigns) *campaignsView {
	if c == nil {
		return nil
	}
	v := &campaignsView{TimeZone: c.TimeZone, FrequencyCaps: c.FrequencyCaps, OnExceed: c.OnExceed, Categories: c.Categories}
	if v.TimeZone == "" {
		v.TimeZone = config.DefaultCampaignTimeZone
	}
	if v.OnExceed == "" {
		v.OnExceed = config.OnExceedReject
	}
	if v.FrequencyCaps == nil {
		v.FrequencyCaps = []config.FrequencyCap{}
	}
	if c.Dedup != nil {
		v.DedupWindow = c.Dedup.Window.String()
	}
	if q := c.QuietHours; q != nil {
		v.QuietHours = &quietHoursView{Start: q.Start, End: q.End, Ramp: q.Ramp.String()}
	}
	return v
}
