package web

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/course"
	"github.com/roundtable-lms/roundtable/session"
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
		c.Set(ctxSession, sess)
		s.frameBySession(c, sess)
		if viaToken {
			// Keep the cookie-less page working: hand out a fresh token.
			c.Set(ctxToken, s.Sessions.Token(sess))
			// The page may take the token out of its address when the
			// cookie would carry the session without it.
			c.Set(ctxCookieToo, hasCookie && session.HashSecret(secret) == sess.IDHash)
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
