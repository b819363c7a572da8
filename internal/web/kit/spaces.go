package kit

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
)

// ctxSpace holds the session's space and the roles its person holds there
// (an inSpace), set by RequireSession.
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
func (s *Base) spaceOf(ctx context.Context, sess session.Session) (inSpace, error) {
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

// SpaceIDOf is the id of the request's space (see RequireSession).
func SpaceIDOf(c echo.Context) string { return c.Get(ctxSpace).(inSpace).Space.ID }

// ctxReached holds, in a space the session reached rather than its own
// (see SetReachedSpace), the path its pages live under: /a/<link>/s/<space>.
const ctxReached = "reached_space"

// BasePath is where the request's discussion pages live: /a/<link> in the
// session's own space, /a/<link>/s/<space> in a space it reached.
func BasePath(c echo.Context) string {
	if p, ok := c.Get(ctxReached).(string); ok {
		return p
	}
	return "/a/" + c.Param("link")
}

// ReachedSpace reports whether the request is in a space the session
// reached, not the one it was launched into.
func ReachedSpace(c echo.Context) bool {
	_, ok := c.Get(ctxReached).(string)
	return ok
}

// SetReachedSpace puts the request in space sp, which the session reached
// rather than launched into (see discuss's EnterSpace): its pages see the
// session as it stands there, with the roles held in the space, under
// /a/<link>/s/<space>.
func SetReachedSpace(c echo.Context, there session.Session, sp space.Space, held space.Roles) {
	c.Set(CtxSession, there)
	c.Set(ctxSpace, inSpace{Space: sp, Roles: held})
	c.Set(ctxReached, "/a/"+c.Param("link")+"/s/"+sp.ID)
}
