package kit

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/lti"
)

// Which LMS may show a page in a frame: the session's own LMS for the pages
// of a session, the LMS a refusal names for the page that refuses, and
// nobody else. Handlers say so with FrameBy; the Content-Security-Policy
// is written when the response starts, from what they said.

const ctxFrameOrigins = "frame_origins"

// cspBase is every page's policy but its frame-ancestors. Images come from
// Roundtable alone (img-src 'self'): posts show other images as links (see
// markdown/images.go), and no image may tell an outsider who reads what.
const cspBase = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self' https: http://localhost:* http://127.0.0.1:*; base-uri 'none'; object-src 'none'; frame-ancestors "

// hstsMaxAge is a year: browsers that once reached Roundtable over https
// never try plain http to it again.
const hstsMaxAge = "max-age=31536000"

// SecurityHeaders sets the headers every response carries, and the CSP
// when the response starts: its frame-ancestors are Roundtable itself and
// the origins the handler allowed with FrameBy. A route that sets its own
// CSP (the admin console) keeps it.
func (s *Base) SecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if s.https {
			h.Set("Strict-Transport-Security", hstsMaxAge)
		}
		c.Response().Before(func() {
			if h.Get("Content-Security-Policy") == "" {
				h.Set("Content-Security-Policy", cspBase+s.frameAncestors(c))
			}
		})
		return next(c)
	}
}

// FrameBy lets origins show this response in a frame, besides Roundtable.
func (s *Base) FrameBy(c echo.Context, origins []string) {
	c.Set(ctxFrameOrigins, origins)
}

// Framed reports whether a handler already said who may frame the response.
func Framed(c echo.Context) bool {
	_, ok := c.Get(ctxFrameOrigins).([]string)
	return ok
}

// FrameByPlatform lets the LMS of a registration, whatever its status, show
// this response in a frame, with the origins of URLs from its signed launch
// (see tenant.FrameOrigins). An unknown platform frames nothing.
func (s *Base) FrameByPlatform(c echo.Context, platformID string, launchURLs ...string) {
	if platformID == "" {
		return
	}
	origins, err := s.Registry.PlatformFrameOrigins(c.Request().Context(), platformID, launchURLs...)
	if err != nil {
		s.Logger.WarnContext(c.Request().Context(), "cannot read the platform's frame origins",
			slog.String("platform", platformID), slog.Any("error", err))
		return
	}
	s.FrameBy(c, origins)
}

// frameBySession lets the session's own LMS frame the response. A session
// opened before sessions kept their LMS's origins takes its platform's.
func (s *Base) frameBySession(c echo.Context, sess session.Session) {
	if len(sess.FrameOrigins) == 0 {
		s.FrameByPlatform(c, sess.PlatformID)
		return
	}
	s.FrameBy(c, sess.FrameOrigins)
}

// frameAncestors is the value of frame-ancestors: 'self' and each allowed
// origin checked again as it goes into the header, so that a bad value
// that reached the database is logged and left out, never pasted.
func (s *Base) frameAncestors(c echo.Context) string {
	origins, _ := c.Get(ctxFrameOrigins).([]string)
	var b strings.Builder
	b.WriteString("'self'")
	for _, o := range origins {
		checked, err := lti.CheckFrameOrigin(o)
		if err != nil {
			s.Logger.WarnContext(c.Request().Context(), "frame origin left out of the CSP",
				slog.String("origin", o), slog.Any("error", err))
			continue
		}
		b.WriteString(" ")
		b.WriteString(checked)
	}
	return b.String()
}

// Cookies. Served over https, the session and browser cookies take the
// __Host- prefix: the browser then keeps them only if they are Secure,
// Path=/ and without Domain, so no other host of the school's domain and
// no plain-http page can set or shadow them. On http (the demo on
// localhost) they keep their plain names: browsers differ on whether an
// http page, even on localhost, may set a __Host- cookie.
func (s *Base) cookieName(name string) string {
	if s.https {
		return "__Host-" + name
	}
	return name
}

// CrossSiteCookie is a cookie that an LMS iframe sends back: SameSite=None
// needs Secure, and Partitioned keeps it when third-party cookies are blocked.
func (s *Base) CrossSiteCookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: s.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true,
	}
}

// Cookie is the value of one of Roundtable's cookies by its plain name.
func (s *Base) Cookie(c echo.Context, name string) (string, bool) {
	ck, err := c.Cookie(s.cookieName(name))
	if err != nil {
		return "", false
	}
	return ck.Value, true
}
