package staff

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The staff's cohort switch: staff see every cohort of their course and
// move their view of the activity from one to another, with the switcher
// on the discussion list (see discuss's cohortSwitcher).

// SwitchCohort moves a staff member to another cohort of the course: a new
// session for it (see session.SwitchCohort), then the list of that cohort.
func (s *Handlers) SwitchCohort(c echo.Context) error {
	sess := c.Get(kit.CtxSession).(session.Session)
	if err := requireStaff(sess, "switch between cohorts"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	co, err := s.Courses.CohortOf(ctx, sess.OrgID, sess.CourseID, c.FormValue("cohort"))
	if err != nil {
		return err
	}
	if co.ID == sess.CohortID {
		return s.SeeOther(c, "/a/"+sess.LinkID, "")
	}
	// The same check every request of the new session passes.
	to := sess
	to.CohortID = co.ID
	if _, err := s.Access.Check(ctx, to); err != nil {
		if errors.Is(err, session.ErrCohortClosed) {
			return roundtable.Errorf(roundtable.EFORBIDDEN, "Your course limits you to the cohorts of your own sections: you cannot switch to %s. Go back to the discussion to continue.", co.Name)
		}
		return err
	}
	secret, moved, err := s.Sessions.SwitchCohort(ctx, sess, co.ID)
	if err != nil {
		return err
	}
	s.SetSessionCookie(c, moved.LinkID, secret)
	if _, ok := c.Get(kit.CtxToken).(string); ok {
		// Without a cookie the next page finds the new session by its token.
		c.Set(kit.CtxToken, s.Sessions.Token(moved))
	}
	c.Set(kit.CtxSession, moved)
	return c.Redirect(http.StatusSeeOther, s.SessionLayout(c, "").URL("/a/"+sess.LinkID))
}
