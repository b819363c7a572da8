package staff

import (
	"testing"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/internal/web/kit/pagetest"
)

// The staff's discussion pages show what learners wrote and what the LMS
// named them as text: names, thread titles, flag reasons and notes,
// suspension and moderation reasons, emails, the LMS's error words.
func TestStaffPagesEscapeWhatPeopleWrote(t *testing.T) {
	b := pagetest.Base(t)

	member := rosterRow{Member: roster.Member{User: course.User{ID: "u-2", Name: pagetest.Hostile, Email: pagetest.Hostile}, Roles: course.Roles{course.Learner}},
		StatusKey: "never-opened", StatusLabel: "Never opened this activity"}
	d := pagetest.RenderDoc(t, "roster", rosterPageView(rosterPage{ActivityBase: b, Rows: []rosterRow{member}, NeverOpened: []rosterRow{member},
		Course: syncView{Sync: roster.Sync{Error: pagetest.Hostile}}, Outcome: pagetest.Hostile, Action: "/refresh"}))
	pagetest.MustBeInert(t, "roster", d)
	pagetest.MustShow(t, "roster", d, "[data-testid=member] [data-testid=name]", "[data-testid=member] [data-testid=name] .muted", "[data-testid=never-opened] li",
		"[data-testid=roster-outcome]", "[data-testid=roster-course-error]")
	d = pagetest.RenderDoc(t, "roster refused", rosterPageView(rosterPage{ActivityBase: b, Error: pagetest.Hostile, Action: "/refresh"}))
	pagetest.MustBeInert(t, "roster refused", d)
	pagetest.MustShow(t, "roster refused", d, "[data-testid=roster-error]")

	// What the LMS answered: under a readable reason, or as the reason.
	failed := kit.GradeRow{Delivery: grade.Delivery{UserID: "u-2", LearnerName: pagetest.Hostile, State: grade.StateFailed,
		LastError: "lti advantage: post score: HTTP 500: " + pagetest.Hostile}, StateLabel: "Failed"}
	retrying := kit.GradeRow{Delivery: grade.Delivery{UserID: "u-3", LearnerName: pagetest.Hostile, State: grade.StatePending, Attempts: 1, LastError: pagetest.Hostile}}
	d = pagetest.RenderDoc(t, "grades", gradesView(gradesPage{ActivityBase: b, Settings: course.Settings{Graded: true, Points: 10, Options: activity.DefaultDiscussion},
		Deliveries: []kit.GradeRow{failed, retrying}, Failed: 1, Notice: pagetest.Hostile}))
	pagetest.MustBeInert(t, "grades", d)
	pagetest.MustShow(t, "grades", d, "[data-testid=grade-row] th", "[data-testid=grade-error-detail]", "[data-testid=grade-row][data-user=u-3] td:last-child",
		"[data-testid=grades-notice]")
	if got := d.Find("[data-testid=grade-row] button").AttrOr("aria-label", ""); got != "Retry the score of "+pagetest.Hostile {
		t.Errorf("grades: the retry button is labelled %q", got)
	}

	d = pagetest.RenderDoc(t, "activity settings", activitySettingsView(activitySettingsPage{ActivityBase: b, Action: "/settings", ActivityTitle: pagetest.Hostile, CourseTitle: pagetest.Hostile + "!",
		Settings: kit.SettingsForm{S: course.Settings{Kind: activity.KindDiscussion, Instructions: pagetest.Hostile, Options: activity.DefaultDiscussion},
			Typed: map[string]string{"group_size": pagetest.Hostile, "min_replies": pagetest.Hostile}, Field: "min_replies", Error: pagetest.Hostile}}))
	pagetest.MustBeInert(t, "activity settings", d)
	pagetest.MustShow(t, "activity settings", d, "[data-testid=activity-title]", "[data-testid=activity-title] strong", "#instructions",
		"[data-testid=form-error]", "#min_replies-error")
	pagetest.MustHoldAttr(t, "activity settings", d, "#group_size", "value")
	pagetest.MustHoldAttr(t, "activity settings", d, "#min_replies", "value")
}
