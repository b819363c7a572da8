package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
)

// ctxSpace holds the session's space and the roles its person holds there
// (an inSpace), set by requireSession.
const ctxSpace = "space"

// inSpace is the space a session reads and writes in, and the roles its
// person holds in the space itself (besides the course's).
type inSpace struct {
	Space space.Space
	Roles space.Roles
}

// spaceOf finds the space of the session's cohort in its activity, created
// the first time anyone reaches it, and the person's roles there. Both are
// kept in memory (the space for good, the roles for a few seconds), so a
// page pays no query for them most of the time.
func (s *Server) spaceOf(ctx context.Context, sess session.Session) (inSpace, error) {
	sp, err := s.Spaces.ForCohort(ctx, sess.OrgID, sess.CourseID, sess.LinkID, sess.CohortID)
	if err != nil {
		return inSpace{}, err
	}
	roles, err := s.Spaces.RolesOf(ctx, sp.ID, sess.UserID)
	if err != nil {
		return inSpace{}, err
	}
	return inSpace{Space: sp, Roles: roles}, nil
}

// spaceIDOf is the id of the request's space (see requireSession).
func spaceIDOf(c echo.Context) string { return c.Get(ctxSpace).(inSpace).Space.ID }
