package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The staff's cohort switcher: staff see every cohort of their course and
// move their view of the activity from one to another. It is a plain form
// (a select and a button) on the discussion list.

type cohortSwitcher struct {
	Current cohortOption
	Options []cohortOption
	Action  string
	Form    kit.HiddenFields
}

type cohortOption struct {
	ID, Label string
	Selected  bool
}

func cohortLabel(c course.CohortSummary) string {
	people := "people"
	if c.Size == 1 {
		people = "person"
	}
	name := c.Name
	switch {
	case c.Key == "course":
		name = "Whole course"
		if c.Name != "" {
			name += " (" + c.Name + ")"
		}
	case strings.HasPrefix(c.Key, "groups:"):
		// Activities with other group sizes have groups of the same names.
		if n, _, ok := strings.Cut(strings.TrimPrefix(c.Key, "groups:"), ":"); ok {
			name += " (groups of " + n + ")"
		}
	}
	return fmt.Sprintf("%s: %d %s", name, c.Size, people)
}

func (s *Server) cohortSwitcher(c echo.Context, sess session.Session, b kit.ActivityBase, a course.Activity) (cohortSwitcher, error) {
	list, err := s.Courses.Cohorts(c.Request().Context(), sess.OrgID, sess.CourseID)
	if err != nil {
		return cohortSwitcher{}, err
	}
	st, err := s.Access.Standing(c.Request().Context(), sess)
	if err != nil {
		return cohortSwitcher{}, err
	}
	sw := cohortSwitcher{Action: b.L.URL(b.Base + "/cohort"), Form: b.Form}
	for _, co := range list {
		o := cohortOption{ID: co.ID, Label: cohortLabel(co), Selected: co.ID == sess.CohortID}
		if !o.Selected && !course.MayViewCohort(sess.Roles, st.Sections, co.Key) {
			// A teaching assistant limited to their sections.
			continue
		}
		if o.Selected {
			sw.Current = o
		}
		sw.Options = append(sw.Options, o)
	}
	if sw.Current.ID == "" {
		sw.Current = cohortOption{ID: a.Cohort.ID, Label: cohortLabel(course.CohortSummary{Cohort: a.Cohort, Size: a.CohortSize})}
	}
	return sw, nil
}

// switchCohort moves a staff member to another cohort of the course: a new
// session for it (see session.SwitchCohort), then the list of that cohort.
func (s *Server) switchCohort(c echo.Context) error {
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
