package discuss

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Reaching other spaces: a session reads and writes the discussion of
// another space, under /a/<link>/s/<space>, without another launch.

// Refusals of a space a session tries to reach.
var (
	errNoSuchSpace = roundtable.Errorf(roundtable.ENOTFOUND,
		"There is no such discussion. Go back to your activity to continue.")
	errSpaceOfAnotherCourse = roundtable.Errorf(roundtable.EFORBIDDEN,
		"This discussion belongs to a course you are not a member of, so you cannot read it. Go back to your activity to continue.")
	errSpaceOfAnotherCohort = roundtable.Errorf(roundtable.EFORBIDDEN,
		"This discussion belongs to a cohort that is not yours, so you cannot read it. Go back to your activity to continue.")
)

// EnterSpace lets a session into another space, named by id in the path,
// without another launch: the way communities will be reached. The
// session's launch (its activity, roles and cohort) stays what it
// remembers; in the space the person holds the roles they hold now, in
// the space's course (read as every request of a session reads its own)
// and in the space itself, and may enter only when the space's rules let
// them read it. The pages of the request then see the session as it
// stands in that space, under /a/<link>/s/<space>.
func (s *Handlers) EnterSpace(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		sess := c.Get(kit.CtxSession).(session.Session)
		sp, err := s.Spaces.Get(ctx, c.Param("space"))
		if roundtable.ErrorCode(err) == roundtable.ENOTFOUND {
			return errNoSuchSpace
		}
		if err != nil {
			return err
		}
		// Persons are one organisation's; the only spaces so far are
		// activities' cohorts, whose rules rest on the course.
		if sp.OrgID != sess.OrgID || sp.Kind != space.ActivityCohort {
			return errNoSuchSpace
		}
		there := sess
		there.CourseID, there.LinkID, there.CohortID = sp.CourseID, sp.LinkID, sp.CohortID
		refusal := error(nil)
		if checked, err := s.Access.Check(ctx, there); err == nil {
			there = checked
		} else {
			switch {
			case errors.Is(err, session.ErrNotMember), errors.Is(err, session.ErrMembershipInactive):
				refusal = errSpaceOfAnotherCourse
			case errors.Is(err, session.ErrCohortClosed):
				refusal = errSpaceOfAnotherCohort
			default:
				return err
			}
			there.Roles = nil
		}
		held, err := s.Spaces.RolesOf(ctx, sp.ID, sess.UserID)
		if err != nil {
			return err
		}
		if !sp.Rules(there.Roles, held).Read {
			if refusal == nil {
				refusal = errSpaceOfAnotherCourse
			}
			return refusal
		}
		kit.SetReachedSpace(c, there, sp, held)
		return next(c)
	}
}

// ToSessionActivity sends a request for one of the activity's own pages
// (notifications, participation, sign out...), made from a space the
// session reached, to that page of the session's activity: the query,
// token included, goes along, and a form is posted again there (307).
func (s *Handlers) ToSessionActivity(c echo.Context) error {
	rest := strings.TrimPrefix(c.Request().URL.Path, kit.BasePath(c))
	to := "/a/" + c.Param("link") + rest
	if q := c.Request().URL.RawQuery; q != "" {
		to += "?" + q
	}
	code := http.StatusSeeOther
	if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
		code = http.StatusTemporaryRedirect
	}
	return c.Redirect(code, to)
}
