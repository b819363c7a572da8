package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
)

const ctxSession = "session"

// requireSession finds the session from the link token or the cookie. The
// token wins when both are present, so two activities open in two tabs
// each keep their own session. The session's own LMS, and no other, may
// frame its pages.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		link := c.Param("link")
		viaToken := false
		var sess session.Session
		var err error = session.ErrNoSession
		token := c.QueryParam("rt")
		if token == "" {
			token = c.FormValue("rt")
		}
		if token != "" {
			sess, err = s.Sessions.FromToken(ctx, token)
			viaToken = err == nil
		}
		secret, hasCookie := s.cookie(c, sessionCookie)
		if err != nil || sess.LinkID != link {
			if hasCookie {
				if cs, cerr := s.Sessions.FromSecret(ctx, secret); cerr == nil && cs.LinkID == link {
					sess, err, viaToken = cs, nil, false
				}
			}
		}
		if err != nil && !errors.Is(err, session.ErrNoSession) {
			return err
		}
		if err != nil || sess.LinkID != link {
			// The page that says so is shown where the person is: in the
			// frame of the LMS of the session a stale token still names.
			if old, serr := s.Sessions.FromStaleToken(ctx, token); serr == nil && old.LinkID == link {
				s.frameBySession(c, old)
			}
			c.Set(ctxSessionEnded, true)
			return echo.NewHTTPError(http.StatusUnauthorized, "Your session for this activity has ended. Please open the activity again from your course.")
		}
		// The session's own LMS, and no other, may frame its pages, the
		// refusals below included.
		s.frameBySession(c, sess)
		// The session was granted at a launch, maybe hours ago: the platform,
		// the membership and its roles are as they are now.
		current, err := s.Access.Check(ctx, sess)
		if err != nil {
			s.refusedSession(c, sess, err)
			return err
		}
		c.Set(ctxSession, current)
		// Every page of the session reads and writes in its cohort's space.
		in, err := s.spaceOf(ctx, current)
		if err != nil {
			return err
		}
		c.Set(ctxSpace, in)
		if viaToken {
			// Keep the cookie-less page working: hand out a fresh token.
			c.Set(ctxToken, s.Sessions.Token(current))
			// The page may take the token out of its address when the
			// cookie would carry the session without it.
			c.Set(ctxCookieToo, hasCookie && session.HashSecret(secret) == current.IDHash)
		}
		return next(c)
	}
}

// refusedSession logs, for the operator, which session the access check
// refused and why; the person sees the error's page.
func (s *Server) refusedSession(c echo.Context, sess session.Session, err error) {
	if roundtable.ErrorCode(err) != roundtable.EFORBIDDEN {
		return
	}
	s.Logger.InfoContext(c.Request().Context(), "session refused",
		slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.String("platform", sess.PlatformID), slog.String("course", sess.CourseID), slog.String("user", sess.UserID),
		slog.String("cohort", sess.CohortID), slog.String("reason", roundtable.ErrorMessage(err)))
}

// errObserver refuses an observer's form.
var errObserver = roundtable.Errorf(roundtable.EFORBIDDEN,
	"You follow this discussion as a mentor: you can read it, but not post, reply, vote or flag in it. Go back to the discussion to continue.")

// refuseObservers refuses the state-changing requests of an observer (an
// LMS mentor): they read their cohort's discussion and change nothing in
// it, but for marking their own notifications read.
func (s *Server) refuseObservers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if sess := c.Get(ctxSession).(session.Session); sess.Roles.IsObserver() && !strings.HasSuffix(c.Path(), "/notifications/read") {
			return errObserver
		}
		return next(c)
	}
}

const (
	ctxToken = "session_token"
	// ctxCookieToo is true when the cookie names the same session as the
	// token.
	ctxCookieToo = "session_cookie_too"
	// ctxSessionEnded marks the refusal of a page whose session has ended:
	// its script may find the session again from the page's history.
	ctxSessionEnded = "session_ended"
)

// sessionLayout is the layout of a page seen in a session.
func (s *Server) sessionLayout(c echo.Context, title string) Layout {
	l := s.layout(title)
	if t, ok := c.Get(ctxToken).(string); ok {
		l.SessionToken = t
		l.TokenRefresh = "/a/" + c.Param("link") + "/token"
		l.CookieToo, _ = c.Get(ctxCookieToo).(bool)
	}
	return l
}

// prefetchedViews holds, for a few seconds, the activity page that a launch
// already knows everything about, for the page view that follows it. A
// miss (another replica, a slow browser) reads the database as usual.
type prefetchedViews struct {
	mu    sync.Mutex
	views map[string]prefetchedView
}

type prefetchedView struct {
	activity course.Activity
	expiry   time.Time
}

const prefetchTTL = 10 * time.Second

func (p *prefetchedViews) put(sessionHash string, a course.Activity) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.views == nil {
		p.views = map[string]prefetchedView{}
	}
	if len(p.views) > 10000 {
		for k, v := range p.views {
			if now.After(v.expiry) {
				delete(p.views, k)
			}
		}
	}
	p.views[sessionHash] = prefetchedView{activity: a, expiry: now.Add(prefetchTTL)}
}

// take returns the view once, if it is still fresh and for this activity.
func (p *prefetchedViews) take(sessionHash, linkID string) (course.Activity, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.views[sessionHash]
	if !ok {
		return course.Activity{}, false
	}
	delete(p.views, sessionHash)
	if time.Now().After(v.expiry) || v.activity.Link.ID != linkID {
		return course.Activity{}, false
	}
	return v.activity, true
}
