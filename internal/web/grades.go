package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Grades: learners see their progress toward completion; staff see what
// reached the LMS gradebook, what waits and what failed, and retry the
// failures; administrators do the same for every LMS.

// progressView is a learner's progress panel on the activity page.
type progressView struct {
	Progress activity.Progress
	Settings course.Settings
}

// learnerProgress is the progress panel's data for the activity's settings
// st, as its kind measures it; nil when the activity has no completion
// measure or the viewer is staff or an observer (neither is graded).
func (s *Server) learnerProgress(c echo.Context, sess session.Session, st course.Settings) (*progressView, error) {
	if s.Grades == nil || !sess.Roles.Participant() || !st.Grading().Measured() {
		return nil, nil
	}
	p, err := s.Grades.ProgressOf(c.Request().Context(), st, sess.UserID)
	if err != nil {
		return nil, err
	}
	return &progressView{Progress: p, Settings: st}, nil
}

var errNoGrades = roundtable.Errorf(roundtable.ENOTFOUND, "Grades are not available on this Roundtable.")

// gradesFor refuses what only staff may do with grades (action says what),
// and everything when this Roundtable does not grade.
func (s *Server) gradesFor(sess session.Session, action string) error {
	if !sess.Roles.IsStaff() {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "Only instructors and teaching assistants can %s.", action)
	}
	if s.Grades == nil {
		return errNoGrades
	}
	return nil
}

type gradesPage struct {
	kit.ActivityBase
	Settings   course.Settings
	Deliveries []gradeRow
	Counts     map[string]int
	Failed     int
	Notice     string
}

type gradeRow struct {
	grade.Delivery
	StateLabel string
	ScoredAt   kit.TimeView
	Attempted  kit.TimeView
}

func stateLabel(st string) string {
	switch st {
	case grade.StateDelivered:
		return "In the gradebook"
	case grade.StatePending:
		return "Waiting to be sent"
	case grade.StateFailed:
		return "Failed"
	case grade.StateUnavailable:
		return "No gradebook service"
	case grade.StateHeld:
		return "Waiting: the LMS is turned off in Roundtable"
	}
	return st
}

func (s *Server) gradeRows(ds []grade.Delivery) []gradeRow {
	out := make([]gradeRow, len(ds))
	for i, d := range ds {
		out[i] = gradeRow{Delivery: d, StateLabel: stateLabel(d.State), ScoredAt: s.TimeView(&d.ScoredAt)}
		if !d.LastAttemptAt.IsZero() {
			out[i].Attempted = s.TimeView(&ds[i].LastAttemptAt)
		}
	}
	return out
}

// activityGrades shows staff the scores of this activity's learners and the
// course's failed deliveries.
func (s *Server) activityGrades(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Grades")
	if err := s.gradesFor(sess, "see the grades of an activity"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	st, err := s.Courses.Settings(ctx, sess.OrgID, sess.LinkID)
	if err != nil {
		return err
	}
	// The counts are read before the rows, and a failure the rows show
	// always counts: a delivery that fails between the two reads never
	// leaves a failed row without its banner and retry button.
	counts, err := s.Grades.StateCounts(ctx, grade.Filter{OrgID: sess.OrgID, CourseID: sess.CourseID})
	if err != nil {
		return err
	}
	ds, err := s.Grades.Deliveries(ctx, grade.Filter{OrgID: sess.OrgID, CourseID: sess.CourseID, LinkID: sess.LinkID})
	if err != nil {
		return err
	}
	failedRows := 0
	for _, d := range ds {
		if d.State == grade.StateFailed {
			failedRows++
		}
	}
	page := gradesPage{ActivityBase: b, Settings: st, Deliveries: s.gradeRows(ds), Counts: counts, Failed: max(counts[grade.StateFailed], failedRows)}
	switch c.QueryParam("done") {
	case "retried":
		page.Notice = "The failed scores are queued again; they are sent in the next moments."
	case "none":
		page.Notice = "There was nothing to retry."
	}
	return s.RenderPage(c, http.StatusOK, gradesView(page))
}

// retryGrades queues the course's failed deliveries again (or one
// learner's, with user).
func (s *Server) retryGrades(c echo.Context) error {
	sess := c.Get(kit.CtxSession).(session.Session)
	if err := s.gradesFor(sess, "retry grade deliveries"); err != nil {
		return err
	}
	n, err := s.Grades.Retry(c.Request().Context(), grade.Filter{OrgID: sess.OrgID, CourseID: sess.CourseID}, strings.TrimSpace(c.FormValue("user")))
	if err != nil {
		return err
	}
	s.Logger.InfoContext(c.Request().Context(), "grade deliveries retried by staff", slog.String("platform", sess.PlatformID),
		slog.String("course", sess.CourseID), slog.String("by", sess.UserID), slog.Int("count", n))
	done := "retried"
	if n == 0 {
		done = "none"
	}
	return s.SeeOther(c, "/a/"+sess.LinkID+"/grades?done="+done, "")
}

type adminGradesPage struct {
	L        kit.Layout
	A        adminBar
	Failed   []gradeRow
	Counts   map[string]int
	Notice   string
	Platform string
}

// adminGrades lists failed deliveries of every LMS.
func (s *Server) adminGrades(c echo.Context) error {
	ctx := c.Request().Context()
	if s.Grades == nil {
		return errNoGrades
	}
	f := grade.Filter{PlatformID: c.QueryParam("platform"), State: grade.StateFailed}
	ds, err := s.Grades.Deliveries(ctx, f)
	if err != nil {
		return err
	}
	counts, err := s.Grades.StateCounts(ctx, grade.Filter{PlatformID: f.PlatformID})
	if err != nil {
		return err
	}
	page := adminGradesPage{L: s.Layout("Grade delivery"), A: s.adminBar(c, "grades"), Failed: s.gradeRows(ds), Counts: counts, Platform: f.PlatformID}
	if n := c.QueryParam("retried"); n != "" {
		page.Notice = fmt.Sprintf("%s failed %s queued again.", n, map[bool]string{true: "score is", false: "scores are"}[n == "1"])
	}
	return s.RenderPage(c, http.StatusOK, adminGradesView(page))
}

// adminRetryGrades queues failed deliveries again: all, one LMS's, or one
// learner's in one activity.
func (s *Server) adminRetryGrades(c echo.Context) error {
	if s.Grades == nil {
		return errNoGrades
	}
	f := grade.Filter{PlatformID: c.FormValue("platform"), LinkID: c.FormValue("link")}
	n, err := s.Grades.Retry(c.Request().Context(), f, c.FormValue("user"))
	if err != nil {
		return err
	}
	s.adminLog(c, "grade deliveries retried", slog.String("platform", f.PlatformID), slog.Int("count", n))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/grades?retried=%d", n))
}
