package launch

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// SignOut ends the session on the server, so that neither its cookie nor
// any of its link tokens opens the activity again, and says so in the
// LMS's frame. Other activities' sessions of the same person go on.
func (s *Handlers) SignOut(c echo.Context) error {
	ctx := c.Request().Context()
	sess := c.Get(kit.CtxSession).(session.Session)
	if err := s.Sessions.End(ctx, sess); err != nil {
		return err
	}
	// The cookie goes too, unless it is another (newer) session's.
	s.ClearSessionCookie(c, sess.LinkID, sess.IDHash)
	s.Logger.InfoContext(ctx, "signed out", slog.String("platform", sess.PlatformID), slog.String("user", sess.UserID),
		slog.String("link", sess.LinkID))
	return s.RenderPage(c, http.StatusOK, signedOutPage(s.Layout("Signed out")))
}

// freshToken is the answer to a page that asks for a fresh session token.
type freshToken struct {
	Token string `json:"token"`
}

// SessionToken hands a page whose session came from its link token a fresh
// token before that one expires (static/js/session.js); a page whose
// cookie carries the session needs none.
func (s *Handlers) SessionToken(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	t, ok := c.Get(kit.CtxToken).(string)
	if !ok {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, freshToken{Token: t})
}
