package discuss

import (
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit/pagetest"
)

// The staff's discussion pages show what learners wrote and what the LMS
// named them as text: names, thread titles, flag reasons and notes,
// suspension and moderation reasons, emails, the LMS's error words.
func TestStaffPagesEscapeWhatPeopleWrote(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	b := pagetest.Base(t)
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
		Entries: []logEntryView{{LogEntry: discussion.LogEntry{ID: "e-1", Action: pagetest.Hostile, ActorName: pagetest.Hostile, TargetName: pagetest.Hostile, Reason: pagetest.Hostile, ThreadID: "t-1", CreatedAt: at}},
			{LogEntry: discussion.LogEntry{ID: "e-2", Action: pagetest.Hostile, ActorName: pagetest.Hostile, Reason: pagetest.Hostile, ThreadID: "t-1", PostID: "p-1", ThreadTitle: pagetest.Hostile,
				PostAuthor: discussion.Author{ID: "u-2", Name: pagetest.Hostile, Anonymous: true}, PostExcerpt: pagetest.Hostile, CreatedAt: at}, ThreadURL: "/a/link-1/t/t-1"}}}))
	pagetest.MustBeInert(t, "moderation log", d)
	pagetest.MustShow(t, "moderation log", d, "[data-testid=log-actor]", "[data-testid=log-target]", "[data-testid=log-reason]",
		"[data-testid=log-thread]", "[data-testid=log-post] [data-testid=author]", "[data-testid=log-excerpt]")
	pagetest.MustHoldAttr(t, "moderation log", d, "[data-testid=log-entry]", "data-action")

	d = pagetest.RenderDoc(t, "mark as duplicate", duplicateView(&duplicatePage{ActivityBase: b, Thread: discussion.Thread{ID: "t-1", Title: pagetest.Hostile,
		Original: discussion.ThreadRef{ID: "t-2", Title: pagetest.Hostile}}, ThreadURL: "/a/link-1/t/t-1", Action: "/dup", SearchAction: "/a/link-1/t/t-1/duplicate",
		OriginalURL: "/a/link-1/t/t-2", Query: pagetest.Hostile, Candidates: []duplicateCandidate{{ThreadRef: discussion.ThreadRef{ID: "t-3", Title: pagetest.Hostile}, URL: "/a/link-1/t/t-3"}}}))
	pagetest.MustBeInert(t, "mark as duplicate", d)
	pagetest.MustShow(t, "mark as duplicate", d, "[data-testid=candidate-title]", "[data-testid=current-original] a")

	learner := discussion.LearnerParticipation{UserID: pagetest.Hostile, Name: pagetest.Hostile}
	d = pagetest.RenderDoc(t, "participation", participationView(participationPage{ActivityBase: b,
		Report: discussion.Participation{Learners: []discussion.LearnerParticipation{learner}}, Missing: []discussion.LearnerParticipation{learner},
		Columns: []navLink{{Label: pagetest.Hostile, URL: "/p", Current: true}}, MedianText: pagetest.Hostile, CSVURL: "/csv"}))
	pagetest.MustBeInert(t, "participation", d)
	pagetest.MustShow(t, "participation", d, "[data-testid=learner] [data-testid=name]", "[data-testid=not-participated] li", "thead a", "[data-testid=median-first-answer] strong")
	pagetest.MustHoldAttr(t, "participation", d, "[data-testid=learner]", "data-user")

	d = pagetest.RenderDoc(t, "notifications", notificationsView(notificationsPage{ActivityBase: b, MarkReadURL: "/read", UpTo: "n-1",
		Notifications: []notificationView{{Notification: discussion.Notification{ID: "n-1", Kind: discussion.NotifyReply, Actor: author, ThreadTitle: pagetest.Hostile, CreatedAt: at}, URL: "/a/link-1/t/t-1"}}}))
	pagetest.MustBeInert(t, "notifications", d)
	pagetest.MustShow(t, "notifications", d, "[data-testid=notification-link]", "[data-testid=notification] q")

}
