package staff

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Grades: learners see their progress toward completion; staff see what
// reached the LMS gradebook, what waits and what failed, and retry the
// failures; administrators do the same for every LMS.

// gradesFor refuses what only staff may do with grades (action says what),
// and everything when this Roundtable does not grade.
func (s *Handlers) gradesFor(sess session.Session, action string) error {
	if !sess.Roles.IsStaff() {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "Only instructors and teaching assistants can %s.", action)
	}
	if s.Grades == nil {
		return kit.ErrNoGrades
	}
	return nil
}

type gradesPage struct {
	kit.ActivityBase
	Settings   course.Settings
	Deliveries []kit.GradeRow
	Counts     map[string]int
	Failed     int
	Notice     string
}

// GradesPage shows staff the scores of this activity's learners and the
// course's failed deliveries.
func (s *Handlers) GradesPage(c echo.Context) error {
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
	page := gradesPage{ActivityBase: b, Settings: st, Deliveries: s.GradeRows(ds), Counts: counts, Failed: max(counts[grade.StateFailed], failedRows)}
	switch c.QueryParam("done") {
	case "retried":
		page.Notice = "The failed scores are queued again; they are sent in the next moments."
	case "none":
		page.Notice = "There was nothing to retry."
	}
	return s.RenderPage(c, http.StatusOK, gradesView(page))
}

// RetryGrades queues the course's failed deliveries again (or one
// learner's, with user).
func (s *Handlers) RetryGrades(c echo.Context) error {
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
