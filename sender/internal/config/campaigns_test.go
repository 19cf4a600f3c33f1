package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/sender/internal/config"
)

// campaignConfig is a valid configuration whose first app has the rules
// of the YAML document doc (its apps[0].campaigns).
func campaignConfig(t *testing.T, doc string) config.Config {
	t.Helper()
	c := config.Defaults()
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	c.APIKeys = []config.APIKey{{Name: "k", Key: "0123456789abcdef"}}
	a := &c.Apps[0]
	a.Secret, a.SecretFile = "secret", ""
	return c
}

// TestCampaignsDocExample: the example of docs/campaigns.md is valid.
func TestCampaignsDocExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../../docs/campaigns.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("docs/campaigns.md has no yaml block")
	}
	c := campaignConfig(t, m[1])
	if err := c.Validate(); err != nil {
		t.Fatalf("the documented example: %v", err)
	}
	cp := c.Apps[0].Campaigns
	if cp == nil || cp.QuietHours == nil || len(cp.FrequencyCaps) != 2 || cp.Categories["TPL-SPRING-SALE"] != "promotion" {
		t.Errorf("example read as %+v", cp)
	}
}

// TestCampaignsValidation: every bad setting is refused with its name.
func TestCampaignsValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rules, setting string
	}{
		{`time_zone: Mars/Olympus`, "apps[0].campaigns.time_zone"},
		{`dedup: {window: 0s}`, "apps[0].campaigns.dedup.window"},
		{`quiet_hours: {start: "25:00", end: "08:00"}`, "apps[0].campaigns.quiet_hours.start"},
		{`quiet_hours: {start: "22:00", end: "8"}`, "apps[0].campaigns.quiet_hours.end"},
		{`quiet_hours: {start: "22:00", end: "22:00"}`, "apps[0].campaigns.quiet_hours.end"},
		{`quiet_hours: {start: "22:00", end: "08:00", ramp: 7h}`, "apps[0].campaigns.quiet_hours.ramp"},
		{`on_exceed: drop`, "apps[0].campaigns.on_exceed"},
		{`frequency_caps: [{period: month, limit: 1}]`, "apps[0].campaigns.frequency_caps[0].period"},
		{`frequency_caps: [{period: day, limit: 0}]`, "apps[0].campaigns.frequency_caps[0].limit"},
		{`frequency_caps: [{period: day, limit: 1, category: promo}]`, "apps[0].campaigns.frequency_caps[0].category"},
		{`frequency_caps: [{period: day, limit: 1}, {period: day, limit: 2}]`, "apps[0].campaigns.frequency_caps[1]"},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			doc := "apps:\n  - {name: shop, platform: wechat, app_id: wx1, campaigns: {" + strings.TrimSpace(tc.rules) + "}}\n"
			c := campaignConfig(t, doc)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.setting+":") {
				t.Errorf("%s: error %v, want one naming %s", tc.rules, err, tc.setting)
			}
		})
	}
	// The defaults are filled in.
	c := campaignConfig(t, "apps:\n  - {name: shop, platform: wechat, app_id: wx1, campaigns: {dedup: {window: 1h}}}\n")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if cp := c.Apps[0].Campaigns; cp.TimeZone != "Asia/Shanghai" || cp.OnExceed != "reject" {
		t.Errorf("defaults: time_zone %q on_exceed %q", cp.TimeZone, cp.OnExceed)
	}
}
