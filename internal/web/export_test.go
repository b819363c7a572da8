package web

import (
	"github.com/a-h/templ"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/web/discuss"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Hooks for the web_test package.

func init() { discuss.CountMarkdownRenders() }

// MarkdownRenders is how many times the process rendered a post's text
// (its cache missed).
func MarkdownRenders(body string) int { return discuss.MarkdownRenders(body) }

// SessionCookieName names the session cookie of the activity whose id is
// link (without the __Host- prefix of an https installation).
func SessionCookieName(link string) string { return kit.SessionCookieName(link) }

// MaxSessionCookies is how many session cookies a browser keeps at most.
const MaxSessionCookies = kit.MaxSessionCookies

// RegisterKindForm registers fields as the settings fields of a kind's
// form, as a kind built into Roundtable registers its components.
func RegisterKindForm(form string, fields templ.Component) (withdraw func()) {
	return kit.RegisterKindForm(form, func(kit.SettingsForm, activity.Options) templ.Component { return fields }, nil)
}
