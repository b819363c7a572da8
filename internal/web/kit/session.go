package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

const CtxSession = "session"

// RequireSession finds the activity's session from the link token or the
// activity's own cookie. The token wins when both are present and name
// different sessions; each activity has its own cookie, so two activities
// open in two tabs each keep their own session whether or not their pages
// carry a token. The session's own LMS, and no other, may frame its pages.
//
// A page carries the token in its links and forms only when the session
// came from the token alone: when the cookie came back naming the same
// session, the cookie works and the token is left out (see SessionLayout).
func (s *Base) RequireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		link := c.Param("link")
		sess, viaToken, err := s.findSession(c, link)
		if err != nil && !errors.Is(err, session.ErrNoSession) {
			return err
		}
		token := requestToken(c)
		if err != nil {
			// The page that says so is shown where the person is: in the
			// frame of the LMS of the session a stale token still names.
			// A shared link opened in another activity's frame is shown in
			// the frame of the LMS that placed its own activity: the page
			// names only that activity and its course.
			place := s.placeOf(ctx, link)
			if old, serr := s.Sessions.FromStaleToken(ctx, token); serr == nil && old.LinkID == link {
				s.frameBySession(c, old)
			} else {
				s.FrameByPlatform(c, place.PlatformID)
			}
			c.Set(ctxSessionEnded, true)
			return echo.NewHTTPError(http.StatusUnauthorized, openFromCourse(place))
		}
		// The session's own LMS, and no other, may frame its pages, the
		// refusals below included.
		s.frameBySession(c, sess)
		// The session was granted at a launch, maybe hours ago: the platform,
		// the membership and its roles are as they are now.
		current, err := s.Access.Check(ctx, sess)
		if err != nil {
			s.RefusedSession(c, sess, err)
			return err
		}
		c.Set(CtxSession, current)
		// Every page of the session reads and writes in its cohort's space.
		in, err := s.spaceOf(ctx, current)
		if err != nil {
			return err
		}
		c.Set(ctxSpace, in)
		if viaToken {
			// Keep the cookie-less page working: hand out a fresh token.
			c.Set(CtxToken, s.Sessions.Token(current))
		}
		return next(c)
	}
}

// requestToken is the link token a request carries, in its query or form
// (the query only, for a body read as a stream: see StreamedBody).
func requestToken(c echo.Context) string {
	if t := c.QueryParam("rt"); t != "" {
		return t
	}
	if streamed, _ := c.Get(ctxStreamed).(bool); streamed {
		return ""
	}
	return c.FormValue("rt")
}

const ctxStreamed = "streamedBody"

// StreamedBody marks a route whose handler reads its body as a stream (a
// large upload): nothing before it parses the form, so the session token
// and the CSRF token come in the query (see RequireQueryCSRF).
func StreamedBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxStreamed, true)
		return next(c)
	}
}

// RequireQueryCSRF is RequireCSRF for a streamed body: the token is in
// the form's action URL.
func (s *Base) RequireQueryCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := c.Get(CtxSession).(session.Session)
		if !s.Sessions.CheckCSRF(sess, c.QueryParam("csrf")) {
			return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Roundtable. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// findSession finds the session of activity link that the request names:
// by its token, else by the activity's cookie. viaToken is true when only
// the token names it (the cookie did not come back, or names another
// session of the activity): then the page's links must carry a token.
func (s *Base) findSession(c echo.Context, link string) (sess session.Session, viaToken bool, err error) {
	ctx := c.Request().Context()
	found := false
	if token := requestToken(c); token != "" {
		ts, terr := s.Sessions.FromToken(ctx, token)
		switch {
		case terr == nil && ts.LinkID == link:
			sess, found, viaToken = ts, true, true
		case terr != nil && !errors.Is(terr, session.ErrNoSession):
			return session.Session{}, false, terr
		}
	}
	secret, hasCookie := s.Cookie(c, SessionCookieName(link))
	switch {
	case hasCookie && found:
		// The cookie came back with this very session: it works, and
		// the page needs no token.
		viaToken = session.HashSecret(secret) != sess.IDHash
	case hasCookie:
		cs, cerr := s.Sessions.FromSecret(ctx, secret)
		if cerr != nil {
			return session.Session{}, false, cerr
		}
		if cs.LinkID != link {
			return session.Session{}, false, session.ErrNoSession
		}
		sess, found = cs, true
	}
	if !found {
		return session.Session{}, false, session.ErrNoSession
	}
	return sess, viaToken, nil
}

// sessionCookiePrefix begins the name of every session cookie. Each
// activity has a cookie of its own (see SessionCookieName), so a launch
// of one activity does not take the cookie of another open in another tab.
const sessionCookiePrefix = "rt_session_"

// SessionCookieName names the cookie of activity link's session: a short
// hash of the link's id, whatever characters the id holds.
func SessionCookieName(link string) string {
	sum := sha256.Sum256([]byte(link))
	return sessionCookiePrefix + hex.EncodeToString(sum[:8])
}

// MaxSessionCookies bounds the session cookies a browser holds for
// Roundtable: a person who opened many activities in a day would
// otherwise send a growing header with every request.
const MaxSessionCookies = 8

// SetSessionCookie gives the browser the cookie of the session of activity
// link. Past MaxSessionCookies, the oldest other session cookies go:
// browsers send cookies of one path in the order they were first set
// (RFC 6265, 5.4), so the first ones are the oldest; an activity whose
// Cookie went goes on with its link token or a new launch.
func (s *Base) SetSessionCookie(c echo.Context, link, secret string) {
	name := SessionCookieName(link)
	var others []string
	seen := map[string]bool{name: true}
	for _, ck := range c.Request().Cookies() {
		plain, ok := strings.CutPrefix(ck.Name, s.cookieName(""))
		if !ok || !strings.HasPrefix(plain, sessionCookiePrefix) || seen[plain] {
			continue
		}
		seen[plain] = true
		others = append(others, plain)
	}
	if extra := len(others) - (MaxSessionCookies - 1); extra > 0 {
		for _, old := range others[:extra] {
			c.SetCookie(s.CrossSiteCookie(old, "", -time.Second))
		}
	}
	c.SetCookie(s.CrossSiteCookie(name, secret, s.Sessions.TTL))
}

// ClearSessionCookie removes the cookie of activity link's session when it
// names the session idHash (and not a newer one of the activity).
func (s *Base) ClearSessionCookie(c echo.Context, link, idHash string) {
	name := SessionCookieName(link)
	if v, ok := s.Cookie(c, name); ok && session.HashSecret(v) == idHash {
		c.SetCookie(s.CrossSiteCookie(name, "", -time.Second))
	}
}

// RefusedSession logs, for the operator, which session the access check
// refused and why; the person sees the error's page.
func (s *Base) RefusedSession(c echo.Context, sess session.Session, err error) {
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

// RefuseObservers refuses the state-changing requests of an observer (an
// LMS mentor): they read their cohort's discussion and change nothing in
// it, but for marking their own notifications read.
func (s *Base) RefuseObservers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if sess := c.Get(CtxSession).(session.Session); sess.Roles.IsObserver() && !strings.HasSuffix(c.Path(), "/notifications/read") {
			return errObserver
		}
		return next(c)
	}
}

const (
	// CtxToken holds the fresh link token of a page whose session came
	// from its token alone: its links and forms carry it.
	CtxToken = "session_token"
	// ctxSessionEnded marks the refusal of a page whose session has ended:
	// its script may find the session again from the page's history.
	ctxSessionEnded = "session_ended"
)

// SessionLayout is the layout of a page seen in a session: with the link
// token for its links and forms only when the session came from the token
// alone (see RequireSession).
func (s *Base) SessionLayout(c echo.Context, title string) Layout {
	l := s.Layout(title)
	if t, ok := c.Get(CtxToken).(string); ok {
		l.SessionToken = t
		l.TokenRefresh = "/a/" + c.Param("link") + "/token"
	} else {
		_, l.SessionCookie = c.Get(CtxSession).(session.Session)
	}
	return l
}

// PrefetchedViews holds, for a few seconds, the activity page that a launch
// already knows everything about, for the page view that follows it. A
// miss (another replica, a slow browser) reads the database as usual.
type PrefetchedViews struct {
	mu    sync.Mutex
	views map[string]prefetchedView
}

type prefetchedView struct {
	activity course.Activity
	expiry   time.Time
}

const prefetchTTL = 10 * time.Second

func (p *PrefetchedViews) Put(sessionHash string, a course.Activity) {
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

// Take returns the view once, if it is still fresh and for this activity.
func (p *PrefetchedViews) Take(sessionHash, linkID string) (course.Activity, bool) {
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

// placeOf names the activity of a page opened without a session for it;
// the zero Place when it cannot.
func (s *Base) placeOf(ctx context.Context, link string) course.Place {
	p, ok, err := s.Courses.PlaceOf(ctx, link)
	if err != nil {
		s.Logger.WarnContext(ctx, "name the activity of a page opened without a session", slog.Any("err", err))
	}
	if !ok {
		return course.Place{}
	}
	return p
}

// openFromCourse is what a page opened without a session for its activity
// says: a classmate's shared link, or a session that has ended. It names
// the activity and course to open it from, and nothing of the page.
func openFromCourse(p course.Place) string {
	const ended = "Your session for this activity has ended, or this link was shared with you. Please open the activity from your course."
	if p.Activity == "" {
		return ended
	}
	in := ""
	if p.Course != "" {
		in = " in your course \u201c" + p.Course + "\u201d"
	}
	return "This page belongs to the activity \u201c" + p.Activity + "\u201d" + in +
		". Open that activity from your course (again, if your session there has ended), then follow this link once more: it shows only what you may see there."
}
