package launch

import (
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/internal/web/kit/pagetest"
)

// The pages an LMS opens show what it sent as text: the course, the text
// and the titles of a deep-linking request, the registration's names and
// scopes, the storage steps' values, and an error's words; an address it
// sent that is no web address goes nowhere.
func TestLMSPagesEscapeWhatTheLMSSent(t *testing.T) {
	l := pagetest.Layout(t)

	d := pagetest.RenderDoc(t, "chooser", chooserView(chooserPage{L: l, Secret: pagetest.Hostile, Title: pagetest.Hostile, TitleError: pagetest.Hostile, Error: pagetest.Hostile, Notice: pagetest.Hostile, Field: "title",
		Request:  course.PlacementRequest{ContextTitle: pagetest.Hostile, Text: pagetest.Hostile, AcceptMultiple: true},
		Placed:   []course.Placement{{ID: "pl-1", Title: pagetest.Hostile}},
		Settings: kit.SettingsForm{S: course.DefaultSettings("", "")}}))
	pagetest.MustBeInert(t, "chooser", d)
	pagetest.MustShow(t, "chooser", d, "h1", ".course-name", "p.muted", "[data-testid=notice]", "[data-testid=form-error]", "#title-error", "[data-testid=placed] li")
	pagetest.MustHoldAttr(t, "chooser", d, "input[name=dl]", "value")
	pagetest.MustHoldAttr(t, "chooser", d, "#title", "value")

	for _, auto := range []bool{false, true} {
		d = pagetest.RenderDoc(t, "deep-linking answer", deepLinkReturnView(deepLinkReturnPage{L: l, Action: "javascript:alert(3)", JWT: pagetest.Hostile, Heading: pagetest.Hostile, Message: pagetest.Hostile, Auto: auto}))
		pagetest.MustBeInert(t, "deep-linking answer", d)
		if got := d.Find("[data-testid=deep-link-return]").AttrOr("action", ""); strings.Contains(got, "javascript") {
			t.Errorf("deep-linking answer: posts to %q", got)
		}
		pagetest.MustHoldAttr(t, "deep-linking answer", d, "input[name=JWT]", "value")
		if !auto {
			pagetest.MustShow(t, "deep-linking answer", d, "h1", "[data-testid=deep-link-message]")
		}
	}

	d = pagetest.RenderDoc(t, "registration", registerView(registerPage{L: l, Outcome: pagetest.Hostile, Done: true, Heading: pagetest.Hostile, Message: pagetest.Hostile,
		Platform: pagetest.Hostile, ClientID: pagetest.Hostile, Deploy: pagetest.Hostile, Scopes: []string{pagetest.Hostile}}))
	pagetest.MustBeInert(t, "registration", d)
	pagetest.MustShow(t, "registration", d, "h1", "[data-testid=register-message]", "[data-testid=register-platform]", "[data-testid=register-client-id]",
		"[data-testid=register-deployment] code", "[data-testid=register-scopes] li")
	pagetest.MustHoldAttr(t, "registration", d, "[data-testid=register]", "data-outcome")
	d = pagetest.RenderDoc(t, "registration failed", registerView(registerPage{L: l, Outcome: "failed", Heading: pagetest.Hostile, Message: pagetest.Hostile, Reference: pagetest.Hostile, Answered: true}))
	pagetest.MustBeInert(t, "registration failed", d)
	pagetest.MustShow(t, "registration failed", d, "[data-testid=register-message]", "[data-testid=error-ref]")

	d = pagetest.RenderDoc(t, "launch storage", launchStorageView(launchStoragePage{L: l, Target: pagetest.Hostile, PlatformOrigin: pagetest.Hostile, State: pagetest.Hostile, Nonce: pagetest.Hostile,
		IDToken: pagetest.Hostile, Ticket: pagetest.Hostile, Action: "/lti/launch"}))
	pagetest.MustBeInert(t, "launch storage", d)
	for _, attr := range []string{"data-target", "data-origin", "data-state", "data-nonce"} {
		pagetest.MustHoldAttr(t, "launch storage", d, "#lti-storage", attr)
	}
	for _, name := range []string{"id_token", "state", "storage_ticket"} {
		pagetest.MustHoldAttr(t, "launch storage", d, "input[name="+name+"]", "value")
	}

	d = pagetest.RenderDoc(t, "login storage", loginStorageView(loginStoragePage{L: l, Target: pagetest.Hostile, PlatformOrigin: pagetest.Hostile, State: pagetest.Hostile, Nonce: pagetest.Hostile,
		Next: "javascript:alert(4)"}))
	pagetest.MustBeInert(t, "login storage", d)
	pagetest.MustHoldAttr(t, "login storage", d, "#lti-storage", "data-target")
	if got := d.Find("a.button").AttrOr("href", ""); strings.Contains(got, "javascript") {
		t.Errorf("login storage: Continue goes to %q", got)
	}

	d = pagetest.RenderDoc(t, "error", kit.ErrorView(kit.ErrorPage{L: l, Heading: pagetest.Hostile, Message: pagetest.Hostile, Hint: pagetest.Hostile, Reference: pagetest.Hostile}))
	pagetest.MustBeInert(t, "error", d)
	pagetest.MustShow(t, "error", d, "title", "h1", "[role=alert] p", "[data-testid=error-ref]")
}
