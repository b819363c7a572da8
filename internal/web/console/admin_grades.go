package console

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

type adminGradesPage struct {
	L        kit.Layout
	A        adminBar
	Failed   []kit.GradeRow
	Counts   map[string]int
	Notice   string
	Platform string
}

// GradesPage lists failed deliveries of every LMS.
func (s *Handlers) GradesPage(c echo.Context) error {
	ctx := c.Request().Context()
	if s.Grades == nil {
		return kit.ErrNoGrades
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
	page := adminGradesPage{L: s.Layout("Grade delivery"), A: s.adminBar(c, "grades"), Failed: s.GradeRows(ds), Counts: counts, Platform: f.PlatformID}
	if n := c.QueryParam("retried"); n != "" {
		page.Notice = fmt.Sprintf("%s failed %s queued again.", n, map[bool]string{true: "score is", false: "scores are"}[n == "1"])
	}
	return s.RenderPage(c, http.StatusOK, adminGradesView(page))
}

// RetryGrades queues failed deliveries again: all, one LMS's, or one
// learner's in one activity.
func (s *Handlers) RetryGrades(c echo.Context) error {
	if s.Grades == nil {
		return kit.ErrNoGrades
	}
	f := grade.Filter{PlatformID: c.FormValue("platform"), LinkID: c.FormValue("link")}
	n, err := s.Grades.Retry(c.Request().Context(), f, c.FormValue("user"))
	if err != nil {
		return err
	}
	s.adminLog(c, "grade deliveries retried", slog.String("platform", f.PlatformID), slog.Int("count", n))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/grades?retried=%d", n))
}
