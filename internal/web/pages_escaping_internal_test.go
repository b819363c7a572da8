package web

import (
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/internal/web/kit/pagetest"
)

func escapingBase(t *testing.T) kit.ActivityBase {
	return kit.ActivityBase{L: pagetest.Layout(t), Base: "/a/link-1", Staff: true, Form: kit.HiddenFields{CSRF: "csrf-1"}}
}

// The staff's discussion pages show what learners wrote and what the LMS
// named them as text: names, thread titles, flag reasons and notes,
// suspension and moderation reasons, emails, the LMS's error words.
func TestStaffPagesEscapeWhatPeopleWrote(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	b := escapingBase(t)
	author := discussion.Author{ID: "u-2", Name: pagetest.Hostile}

	flagged := flaggedView{FlaggedPost: discussion.FlaggedPost{ID: "p-1", ThreadID: "t-1", ThreadTitle: pagetest.Hostile, Author: author,
		Flags:   []discussion.Flag{{Reason: discussion.ReasonOther, Note: pagetest.Hostile, By: discussion.Author{Name: pagetest.Hostile}, CreatedAt: at}},
		Reasons: []discussion.ReasonCount{{Reason: discussion.ReasonOther, Label: pagetest.Hostile, Count: 1}}, CreatedAt: at},
		PostURL: "/a/link-1/t/t-1", HideURL: "/h", RestoreURL: "/r", DismissURL: "/d", LockURL: "/l", SuspendURL: "/s", LiftURL: "/u", Form: b.Form}
	hidden := flagged
	hidden.Hidden = true
	d := pagetest.RenderDoc(t, "moderation", moderationView(moderationPage{ActivityBase: b, Flagged: []flaggedView{flagged}, Hidden: []flaggedView{hidden},
		Suspended: []suspensionView{{Suspension: discussion.Suspension{UserID: "u-2", Name: pagetest.Hostile, ByName: pagetest.Hostile, Reason: pagetest.Hostile, CreatedAt: at}, LiftURL: "/u"}},
		LogURL:    "/log"}))
	pagetest.MustBeInert(t, "moderation", d)
	pagetest.MustShow(t, "moderation", d, "title", "[data-testid=flagged] [data-testid=post-link]", "[data-testid=flagged] [data-testid=author]",
		"[data-testid=flag-reason]", ".flag-notes li", "[data-testid=hidden-post] h3 a", "[data-testid=suspended-member] strong",
		"[data-testid=suspended-member]")

	d = pagetest.RenderDoc(t, "flag form", flagView(flagPage{ActivityBase: b, ThreadURL: "/a/link-1/t/t-1", Action: "/flag",
		Post: discussion.Post{ID: "p-1", Author: author}, Reasons: discussion.FlagReasons,
		Input: discussion.FlagInput{Reason: discussion.ReasonOther, Note: pagetest.Hostile}, Field: "note", Error: pagetest.Hostile}))
	pagetest.MustBeInert(t, "flag form", d)
	pagetest.MustShow(t, "flag form", d, ".flagged-post [data-testid=author]", "#note", "#note-error", "[data-testid=form-error]")

	d = pagetest.RenderDoc(t, "moderation log", moderationLogView(moderationLogPage{ActivityBase: b, QueueURL: "/q",
		Entries: []logEntryView{{LogEntry: discussion.LogEntry{ID: "e-1", Action: pagetest.Hostile, ActorName: pagetest.Hostile, TargetName: pagetest.Hostile, Reason: pagetest.Hostile, ThreadID: "t-1", CreatedAt: at}}}}))
	pagetest.MustBeInert(t, "moderation log", d)
	pagetest.MustShow(t, "moderation log", d, "[data-testid=log-actor]", "[data-testid=log-target]", "[data-testid=log-reason]")
	pagetest.MustHoldAttr(t, "moderation log", d, "[data-testid=log-entry]", "data-action")

	learner := discussion.LearnerParticipation{UserID: pagetest.Hostile, Name: pagetest.Hostile}
	d = pagetest.RenderDoc(t, "participation", participationView(participationPage{ActivityBase: b,
		Report: discussion.Participation{Learners: []discussion.LearnerParticipation{learner}}, Missing: []discussion.LearnerParticipation{learner},
		Columns: []navLink{{Label: pagetest.Hostile, URL: "/p", Current: true}}, MedianText: pagetest.Hostile, CSVURL: "/csv"}))
	pagetest.MustBeInert(t, "participation", d)
	pagetest.MustShow(t, "participation", d, "[data-testid=learner] [data-testid=name]", "[data-testid=not-participated] li", "thead a", "[data-testid=median-first-answer] strong")
	pagetest.MustHoldAttr(t, "participation", d, "[data-testid=learner]", "data-user")

	member := rosterRow{Member: roster.Member{User: course.User{ID: "u-2", Name: pagetest.Hostile, Email: pagetest.Hostile}, Roles: course.Roles{course.Learner}},
		StatusKey: "never-opened", StatusLabel: "Never opened this activity"}
	d = pagetest.RenderDoc(t, "roster", rosterPageView(rosterPage{ActivityBase: b, Rows: []rosterRow{member}, NeverOpened: []rosterRow{member},
		Course: syncView{Sync: roster.Sync{Error: pagetest.Hostile}}, Outcome: pagetest.Hostile, Action: "/refresh"}))
	pagetest.MustBeInert(t, "roster", d)
	pagetest.MustShow(t, "roster", d, "[data-testid=member] [data-testid=name]", "[data-testid=member] [data-testid=name] .muted", "[data-testid=never-opened] li",
		"[data-testid=roster-outcome]", "[data-testid=roster-course-error]")
	d = pagetest.RenderDoc(t, "roster refused", rosterPageView(rosterPage{ActivityBase: b, Error: pagetest.Hostile, Action: "/refresh"}))
	pagetest.MustBeInert(t, "roster refused", d)
	pagetest.MustShow(t, "roster refused", d, "[data-testid=roster-error]")

	// What the LMS answered: under a readable reason, or as the reason.
	failed := gradeRow{Delivery: grade.Delivery{UserID: "u-2", LearnerName: pagetest.Hostile, State: grade.StateFailed,
		LastError: "lti advantage: post score: HTTP 500: " + pagetest.Hostile}, StateLabel: "Failed"}
	retrying := gradeRow{Delivery: grade.Delivery{UserID: "u-3", LearnerName: pagetest.Hostile, State: grade.StatePending, Attempts: 1, LastError: pagetest.Hostile}}
	d = pagetest.RenderDoc(t, "grades", gradesView(gradesPage{ActivityBase: b, Settings: course.Settings{Graded: true, Points: 10, Options: activity.DefaultDiscussion},
		Deliveries: []gradeRow{failed, retrying}, Failed: 1, Notice: pagetest.Hostile}))
	pagetest.MustBeInert(t, "grades", d)
	pagetest.MustShow(t, "grades", d, "[data-testid=grade-row] th", "[data-testid=grade-error-detail]", "[data-testid=grade-row][data-user=u-3] td:last-child",
		"[data-testid=grades-notice]")
	if got := d.Find("[data-testid=grade-row] button").AttrOr("aria-label", ""); got != "Retry the score of "+pagetest.Hostile {
		t.Errorf("grades: the retry button is labelled %q", got)
	}

	d = pagetest.RenderDoc(t, "notifications", notificationsView(notificationsPage{ActivityBase: b, MarkReadURL: "/read", UpTo: "n-1",
		Notifications: []notificationView{{Notification: discussion.Notification{ID: "n-1", Kind: discussion.NotifyReply, Actor: author, ThreadTitle: pagetest.Hostile, CreatedAt: at}, URL: "/a/link-1/t/t-1"}}}))
	pagetest.MustBeInert(t, "notifications", d)
	pagetest.MustShow(t, "notifications", d, "[data-testid=notification-link]", "[data-testid=notification] q")

	d = pagetest.RenderDoc(t, "activity settings", activitySettingsView(activitySettingsPage{ActivityBase: b, Action: "/settings", ActivityTitle: pagetest.Hostile, CourseTitle: pagetest.Hostile + "!",
		Settings: kit.SettingsForm{S: course.Settings{Kind: activity.KindDiscussion, Instructions: pagetest.Hostile, Options: activity.DefaultDiscussion},
			Typed: map[string]string{"group_size": pagetest.Hostile, "min_replies": pagetest.Hostile}, Field: "min_replies", Error: pagetest.Hostile}}))
	pagetest.MustBeInert(t, "activity settings", d)
	pagetest.MustShow(t, "activity settings", d, "[data-testid=activity-title]", "[data-testid=activity-title] strong", "#instructions",
		"[data-testid=form-error]", "#min_replies-error")
	pagetest.MustHoldAttr(t, "activity settings", d, "#group_size", "value")
	pagetest.MustHoldAttr(t, "activity settings", d, "#min_replies", "value")
}
