package templates

import "github.com/minipush/minipush/sender/internal/config"

// FromConfig is the catalog's view of the configured apps. listers holds
// the platform clients that list templates, by app name; an app's lister
// is used only when the app lists its templates (config.App.ListsTemplates).
func FromConfig(apps []config.App, listers map[string]Lister) []App {
	out := make([]App, 0, len(apps))
	for _, a := range apps {
		ca := App{Name: a.Name, Platform: a.Platform, Declared: a.Templates, DefaultPage: a.DefaultPage,
			Refresh: a.TemplateRefresh}
		if l, ok := listers[a.Name]; ok && a.ListsTemplates() {
			ca.Lister = l
		}
		out = append(out, ca)
	}
	return out
}
