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
	"github.com/roundtable-lms/roundtable/course"
	"github.com/roundtable-lms/roundtable/session"
)

const ctxSession = "session"

// requireSession finds the session from the link token or the cookie. The
// token wins when both are present, so two activities open in two tabs
// each keep their own session.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		link := c.Param("link")
		viaToken := false
		var sess session.Session
		var err error = session.ErrNoSession
		if t := c.QueryParam("rt"); t != "" {
			sess, err = s.Sessions.FromToken(ctx, t)
			viaToken = err == nil
		} else if t := c.FormValue("rt"); t != "" {
			sess, err = s.Sessions.FromToken(ctx, t)
			viaToken = err == nil
		}
		if err != nil || sess.LinkID != link {
			if ck, cerr := c.Cookie(sessionCookie); cerr == nil {
				if cs, cerr := s.Sessions.FromSecret(ctx, ck.Value); cerr == nil && cs.LinkID == link {
					sess, err, viaToken = cs, nil, false
				}
			}
		}
		if err != nil && !errors.Is(err, session.ErrNoSession) {
			return err
		}
		if err != nil || sess.LinkID != link {
			return echo.NewHTTPError(http.StatusUnauthorized, "Your session for this activity has ended. Please open the activity again from your course.")
		}
		// The session was granted at a launch, maybe hours ago: the platform,
		// the membership and its roles are as they are now.
		current, err := s.Access.Check(ctx, sess)
		if err != nil {
			s.refusedSession(c, sess, err)
			return err
		}
		c.Set(ctxSession, current)
		if viaToken {
			// Keep the cookie-less page working: hand out a fresh token.
			c.Set(ctxToken, s.Sessions.Token(current))
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

const ctxToken = "session_token"

// sessionLayout is the layout of a page seen in a session.
func (s *Server) sessionLayout(c echo.Context, title string) Layout {
	l := s.layout(title)
	if t, ok := c.Get(ctxToken).(string); ok {
		l.SessionToken = t
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
