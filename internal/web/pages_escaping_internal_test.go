package web

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// hostile is what a person, or an LMS, could send as a name, a title, a
// reason or a note: markup that would run if a page copied it as HTML,
// quotes that would end an attribute, and an entity that must stay text.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&amp;</p>`

// renderDoc renders a page component and parses it as a browser would.
func renderDoc(t *testing.T, name string, page templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := page.Render(context.Background(), &buf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// mustBeInert fails unless the page holds no markup of hostile's: no
// inline script, no image, no event handler attribute.
func mustBeInert(t *testing.T, name string, d *goquery.Document) {
	t.Helper()
	if n := d.Find("script:not([src]), img").Length(); n != 0 {
		h, _ := d.Html()
		t.Errorf("%s: %d elements came from a value:\n%s", name, n, h)
	}
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s %s=%q> came from a value", name, goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
}

// mustShow fails unless each selector's text holds hostile as text.
func mustShow(t *testing.T, name string, d *goquery.Document, sels ...string) {
	t.Helper()
	for _, sel := range sels {
		s := d.Find(sel)
		if s.Length() == 0 {
			t.Errorf("%s: nothing matches %s", name, sel)
			continue
		}
		s.Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.Text(), hostile) {
				t.Errorf("%s: %s shows %q, want it to hold %q as text", name, sel, s.Text(), hostile)
			}
		})
	}
}

// mustHoldAttr fails unless sel's attribute is hostile, whole.
func mustHoldAttr(t *testing.T, name string, d *goquery.Document, sel, attr string) {
	t.Helper()
	s := d.Find(sel)
	if s.Length() == 0 {
		t.Errorf("%s: nothing matches %s", name, sel)
		return
	}
	if got := s.AttrOr(attr, ""); got != hostile {
		t.Errorf("%s: %s's %s is %q, want %q", name, sel, attr, got, hostile)
	}
}

func escapingLayout(t *testing.T) kit.Layout {
	t.Helper()
	b, err := kit.NewBase(&kit.Base{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Layout(hostile)
}

func escapingBase(t *testing.T) kit.ActivityBase {
	return kit.ActivityBase{L: escapingLayout(t), Base: "/a/link-1", Staff: true, Form: kit.HiddenFields{CSRF: "csrf-1"}}
}

// The staff's discussion pages show what learners wrote and what the LMS
// named them as text: names, thread titles, flag reasons and notes,
// suspension and moderation reasons, emails, the LMS's error words.
func TestStaffPagesEscapeWhatPeopleWrote(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	b := escapingBase(t)
	author := discussion.Author{ID: "u-2", Name: hostile}

	flagged := flaggedView{FlaggedPost: discussion.FlaggedPost{ID: "p-1", ThreadID: "t-1", ThreadTitle: hostile, Author: author,
		Flags:   []discussion.Flag{{Reason: discussion.ReasonOther, Note: hostile, By: discussion.Author{Name: hostile}, CreatedAt: at}},
		Reasons: []discussion.ReasonCount{{Reason: discussion.ReasonOther, Label: hostile, Count: 1}}, CreatedAt: at},
		PostURL: "/a/link-1/t/t-1", HideURL: "/h", RestoreURL: "/r", DismissURL: "/d", LockURL: "/l", SuspendURL: "/s", LiftURL: "/u", Form: b.Form}
	hidden := flagged
	hidden.Hidden = true
	d := renderDoc(t, "moderation", moderationView(moderationPage{ActivityBase: b, Flagged: []flaggedView{flagged}, Hidden: []flaggedView{hidden},
		Suspended: []suspensionView{{Suspension: discussion.Suspension{UserID: "u-2", Name: hostile, ByName: hostile, Reason: hostile, CreatedAt: at}, LiftURL: "/u"}},
		LogURL:    "/log"}))
	mustBeInert(t, "moderation", d)
	mustShow(t, "moderation", d, "title", "[data-testid=flagged] [data-testid=post-link]", "[data-testid=flagged] [data-testid=author]",
		"[data-testid=flag-reason]", ".flag-notes li", "[data-testid=hidden-post] h3 a", "[data-testid=suspended-member] strong",
		"[data-testid=suspended-member]")

	d = renderDoc(t, "flag form", flagView(flagPage{ActivityBase: b, ThreadURL: "/a/link-1/t/t-1", Action: "/flag",
		Post: discussion.Post{ID: "p-1", Author: author}, Reasons: discussion.FlagReasons,
		Input: discussion.FlagInput{Reason: discussion.ReasonOther, Note: hostile}, Field: "note", Error: hostile}))
	mustBeInert(t, "flag form", d)
	mustShow(t, "flag form", d, ".flagged-post [data-testid=author]", "#note", "#note-error", "[data-testid=form-error]")

	d = renderDoc(t, "moderation log", moderationLogView(moderationLogPage{ActivityBase: b, QueueURL: "/q",
		Entries: []logEntryView{{LogEntry: discussion.LogEntry{ID: "e-1", Action: hostile, ActorName: hostile, TargetName: hostile, Reason: hostile, ThreadID: "t-1", CreatedAt: at}}}}))
	mustBeInert(t, "moderation log", d)
	mustShow(t, "moderation log", d, "[data-testid=log-actor]", "[data-testid=log-target]", "[data-testid=log-reason]")
	mustHoldAttr(t, "moderation log", d, "[data-testid=log-entry]", "data-action")

	learner := discussion.LearnerParticipation{UserID: hostile, Name: hostile}
	d = renderDoc(t, "participation", participationView(participationPage{ActivityBase: b,
		Report: discussion.Participation{Learners: []discussion.LearnerParticipation{learner}}, Missing: []discussion.LearnerParticipation{learner},
		Columns: []navLink{{Label: hostile, URL: "/p", Current: true}}, MedianText: hostile, CSVURL: "/csv"}))
	mustBeInert(t, "participation", d)
	mustShow(t, "participation", d, "[data-testid=learner] [data-testid=name]", "[data-testid=not-participated] li", "thead a", "[data-testid=median-first-answer] strong")
	mustHoldAttr(t, "participation", d, "[data-testid=learner]", "data-user")

	member := rosterRow{Member: roster.Member{User: course.User{ID: "u-2", Name: hostile, Email: hostile}, Roles: course.Roles{course.Learner}},
		StatusKey: "never-opened", StatusLabel: "Never opened this activity"}
	d = renderDoc(t, "roster", rosterPageView(rosterPage{ActivityBase: b, Rows: []rosterRow{member}, NeverOpened: []rosterRow{member},
		Course: syncView{Sync: roster.Sync{Error: hostile}}, Outcome: hostile, Action: "/refresh"}))
	mustBeInert(t, "roster", d)
	mustShow(t, "roster", d, "[data-testid=member] [data-testid=name]", "[data-testid=member] [data-testid=name] .muted", "[data-testid=never-opened] li",
		"[data-testid=roster-outcome]", "[data-testid=roster-course-error]")
	d = renderDoc(t, "roster refused", rosterPageView(rosterPage{ActivityBase: b, Error: hostile, Action: "/refresh"}))
	mustBeInert(t, "roster refused", d)
	mustShow(t, "roster refused", d, "[data-testid=roster-error]")

	// What the LMS answered: under a readable reason, or as the reason.
	failed := gradeRow{Delivery: grade.Delivery{UserID: "u-2", LearnerName: hostile, State: grade.StateFailed,
		LastError: "lti advantage: post score: HTTP 500: " + hostile}, StateLabel: "Failed"}
	retrying := gradeRow{Delivery: grade.Delivery{UserID: "u-3", LearnerName: hostile, State: grade.StatePending, Attempts: 1, LastError: hostile}}
	d = renderDoc(t, "grades", gradesView(gradesPage{ActivityBase: b, Settings: course.Settings{Graded: true, Points: 10, Options: activity.DefaultDiscussion},
		Deliveries: []gradeRow{failed, retrying}, Failed: 1, Notice: hostile}))
	mustBeInert(t, "grades", d)
	mustShow(t, "grades", d, "[data-testid=grade-row] th", "[data-testid=grade-error-detail]", "[data-testid=grade-row][data-user=u-3] td:last-child",
		"[data-testid=grades-notice]")
	if got := d.Find("[data-testid=grade-row] button").AttrOr("aria-label", ""); got != "Retry the score of "+hostile {
		t.Errorf("grades: the retry button is labelled %q", got)
	}

	d = renderDoc(t, "notifications", notificationsView(notificationsPage{ActivityBase: b, MarkReadURL: "/read", UpTo: "n-1",
		Notifications: []notificationView{{Notification: discussion.Notification{ID: "n-1", Kind: discussion.NotifyReply, Actor: author, ThreadTitle: hostile, CreatedAt: at}, URL: "/a/link-1/t/t-1"}}}))
	mustBeInert(t, "notifications", d)
	mustShow(t, "notifications", d, "[data-testid=notification-link]", "[data-testid=notification] q")

	d = renderDoc(t, "activity settings", activitySettingsView(activitySettingsPage{ActivityBase: b, Action: "/settings", ActivityTitle: hostile, CourseTitle: hostile + "!",
		Settings: settingsForm{S: course.Settings{Kind: activity.KindDiscussion, Instructions: hostile, Options: activity.DefaultDiscussion},
			Typed: map[string]string{"group_size": hostile, "min_replies": hostile}, Field: "min_replies", Error: hostile}}))
	mustBeInert(t, "activity settings", d)
	mustShow(t, "activity settings", d, "[data-testid=activity-title]", "[data-testid=activity-title] strong", "#instructions",
		"[data-testid=form-error]", "#min_replies-error")
	mustHoldAttr(t, "activity settings", d, "#group_size", "value")
	mustHoldAttr(t, "activity settings", d, "#min_replies", "value")
}

// The pages an LMS opens show what it sent as text: the course, the text
// and the titles of a deep-linking request, the registration's names and
// scopes, the storage steps' values, and an error's words; an address it
// sent that is no web address goes nowhere.
func TestLMSPagesEscapeWhatTheLMSSent(t *testing.T) {
	l := escapingLayout(t)

	d := renderDoc(t, "chooser", chooserView(chooserPage{L: l, Secret: hostile, Title: hostile, TitleError: hostile, Error: hostile, Notice: hostile, Field: "title",
		Request:  course.PlacementRequest{ContextTitle: hostile, Text: hostile, AcceptMultiple: true},
		Placed:   []course.Placement{{ID: "pl-1", Title: hostile}},
		Settings: settingsForm{S: course.DefaultSettings("", "")}}))
	mustBeInert(t, "chooser", d)
	mustShow(t, "chooser", d, "h1", ".course-name", "p.muted", "[data-testid=notice]", "[data-testid=form-error]", "#title-error", "[data-testid=placed] li")
	mustHoldAttr(t, "chooser", d, "input[name=dl]", "value")
	mustHoldAttr(t, "chooser", d, "#title", "value")

	for _, auto := range []bool{false, true} {
		d = renderDoc(t, "deep-linking answer", deepLinkReturnView(deepLinkReturnPage{L: l, Action: "javascript:alert(3)", JWT: hostile, Heading: hostile, Message: hostile, Auto: auto}))
		mustBeInert(t, "deep-linking answer", d)
		if got := d.Find("[data-testid=deep-link-return]").AttrOr("action", ""); strings.Contains(got, "javascript") {
			t.Errorf("deep-linking answer: posts to %q", got)
		}
		mustHoldAttr(t, "deep-linking answer", d, "input[name=JWT]", "value")
		if !auto {
			mustShow(t, "deep-linking answer", d, "h1", "[data-testid=deep-link-message]")
		}
	}

	d = renderDoc(t, "registration", registerView(registerPage{L: l, Outcome: hostile, Done: true, Heading: hostile, Message: hostile,
		Platform: hostile, ClientID: hostile, Deploy: hostile, Scopes: []string{hostile}}))
	mustBeInert(t, "registration", d)
	mustShow(t, "registration", d, "h1", "[data-testid=register-message]", "[data-testid=register-platform]", "[data-testid=register-client-id]",
		"[data-testid=register-deployment] code", "[data-testid=register-scopes] li")
	mustHoldAttr(t, "registration", d, "[data-testid=register]", "data-outcome")
	d = renderDoc(t, "registration failed", registerView(registerPage{L: l, Outcome: "failed", Heading: hostile, Message: hostile, Reference: hostile, Answered: true}))
	mustBeInert(t, "registration failed", d)
	mustShow(t, "registration failed", d, "[data-testid=register-message]", "[data-testid=error-ref]")

	d = renderDoc(t, "launch storage", launchStorageView(launchStoragePage{L: l, Target: hostile, PlatformOrigin: hostile, State: hostile, Nonce: hostile,
		IDToken: hostile, Ticket: hostile, Action: "/lti/launch"}))
	mustBeInert(t, "launch storage", d)
	for _, attr := range []string{"data-target", "data-origin", "data-state", "data-nonce"} {
		mustHoldAttr(t, "launch storage", d, "#lti-storage", attr)
	}
	for _, name := range []string{"id_token", "state", "storage_ticket"} {
		mustHoldAttr(t, "launch storage", d, "input[name="+name+"]", "value")
	}

	d = renderDoc(t, "login storage", loginStorageView(loginStoragePage{L: l, Target: hostile, PlatformOrigin: hostile, State: hostile, Nonce: hostile,
		Next: "javascript:alert(4)"}))
	mustBeInert(t, "login storage", d)
	mustHoldAttr(t, "login storage", d, "#lti-storage", "data-target")
	if got := d.Find("a.button").AttrOr("href", ""); strings.Contains(got, "javascript") {
		t.Errorf("login storage: Continue goes to %q", got)
	}

	d = renderDoc(t, "error", kit.ErrorView(kit.ErrorPage{L: l, Heading: hostile, Message: hostile, Hint: hostile, Reference: hostile}))
	mustBeInert(t, "error", d)
	mustShow(t, "error", d, "title", "h1", "[role=alert] p", "[data-testid=error-ref]")
}
