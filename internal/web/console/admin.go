package console

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// The admin console is a first-party site under /admin, never shown in an
// LMS frame. It has its own accounts and its own cookie, rt_admin
// (SameSite=Strict, Path=/admin), so an LTI session, whose cookie and link
// tokens the console ignores, can never reach it. Every form carries the
// session's CSRF token; the sign-in form, before there is a session, a
// token that must match the rt_admin_login cookie (double submit).
const (
	adminCookie      = "rt_admin"
	adminLoginCookie = "rt_admin_login"
	ctxAdmin         = "admin_session"
	csrfField        = "csrf"
)

// Headers keeps console pages out of every frame and every cache.
func (s *Handlers) Headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// RequireAdmin lets a request through only with a live admin session, and
// a POST only with that session's CSRF token. Without a session a page
// request goes to the sign-in page and a form post is refused.
func (s *Handlers) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.adminSession(c)
		if err != nil {
			return err
		}
		req := c.Request()
		if sess == nil {
			if req.Method == http.MethodGet || req.Method == http.MethodHead {
				target := "/admin/login"
				if p := req.URL.Path; p != "/admin" && p != "/admin/" && p != "/admin/platforms" {
					target += "?next=" + url.QueryEscape(req.URL.RequestURI())
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			return echo.NewHTTPError(http.StatusForbidden, "You are not signed in to the Roundtable admin console, or your session has ended. Sign in again at /admin/login.")
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			if !sameToken(c.FormValue(csrfField), sess.CSRFToken) {
				return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from the admin console. Go back, reload the page and try again.")
			}
		}
		c.Set(ctxAdmin, *sess)
		return next(c)
	}
}

// adminSession returns the session of the rt_admin cookie, or nil.
func (s *Handlers) adminSession(c echo.Context) (*admin.Session, error) {
	ck, err := c.Cookie(adminCookie)
	if err != nil || ck.Value == "" || s.Admins == nil {
		return nil, nil
	}
	sess, err := s.Admins.FindSession(c.Request().Context(), ck.Value)
	if errors.Is(err, admin.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// adminCookieFor is a console cookie: first-party only.
func (s *Handlers) adminCookieFor(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: int(maxAge.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// adminBar is what the console's layout needs besides kit.Layout.
type adminBar struct {
	Email   string
	CSRF    string
	Section string
	// Flash confirms what the last form did.
	Flash string
}

// adminFlashes are the confirmations a redirect after a form may ask for
// with ?done=, so that no message text travels in URLs.
var adminFlashes = map[string]string{
	"added":              "Platform added.",
	"saved":              "Changes saved.",
	"approved":           "Platform approved: its launches now open Roundtable.",
	"disabled":           "Platform disabled: its launches are refused.",
	"enabled":            "Platform enabled: its launches open Roundtable again.",
	"deleted":            "Platform deleted, with everything that belonged to it.",
	"deployment-added":   "Deployment added.",
	"deployment-removed": "Deployment removed: launches from it are refused.",
	"attached":           "Attached: this LMS's launches now record people and courses in its new organisation.",
	"rotated":            "New signing key created for this LMS. The previous key stays published at its keyset URL until you retire it.",
	"retired":            "Key retired: it is no longer published.",
}

func (s *Handlers) adminBar(c echo.Context, section string) adminBar {
	sess, _ := c.Get(ctxAdmin).(admin.Session)
	return adminBar{Email: sess.Email, CSRF: sess.CSRFToken, Section: section, Flash: adminFlashes[c.QueryParam("done")]}
}

func (s *Handlers) Home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/platforms")
}

type adminLoginPage struct {
	L     kit.Layout
	A     adminBar
	Email string
	Next  string
	Error string
	// Wait says the refusal is about pace, not about the password.
	Wait bool
	Out  bool
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "/admin/login") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return "/admin/platforms"
	}
	return next
}

func (s *Handlers) LoginForm(c echo.Context) error {
	if sess, err := s.adminSession(c); err == nil && sess != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.renderLogin(c, http.StatusOK, adminLoginPage{Next: c.QueryParam("next"), Out: c.QueryParam("out") != ""})
}

// renderLogin renders the sign-in form with a fresh double-submit token.
func (s *Handlers) renderLogin(c echo.Context, status int, p adminLoginPage) error {
	token := lti.RandomToken(24)
	c.SetCookie(s.adminCookieFor(adminLoginCookie, token, time.Hour))
	p.L = s.Layout("Sign in")
	p.A.CSRF = token
	p.Next = safeNext(p.Next)
	return s.RenderPage(c, status, adminLoginView(p))
}

// Login signs an administrator in. Every refusal of an email with no
// account is the same page, status and headers as the refusal of an
// account's wrong password at that point, so the answers never tell which
// emails have an account: the admin store counts and paces attempts per
// email typed, whether or not it has an account, and checks a dummy hash
// for an unknown one.
func (s *Handlers) Login(c echo.Context) error {
	ck, err := c.Cookie(adminLoginCookie)
	if err != nil || !sameToken(c.FormValue(csrfField), ck.Value) {
		return echo.NewHTTPError(http.StatusForbidden, "This sign-in form has expired or did not come from the admin console. Reload the sign-in page and try again.")
	}
	ctx := c.Request().Context()
	email, password, next := c.FormValue("email"), c.FormValue("password"), c.FormValue("next")
	page := adminLoginPage{Email: email, Next: next}
	if strings.TrimSpace(email) == "" || password == "" {
		page.Error = "Enter your email address and your password."
		return s.renderLogin(c, http.StatusUnprocessableEntity, page)
	}
	typed := slog.String("email", admin.NormalizeEmail(email))
	u, err := s.Admins.Authenticate(ctx, email, password, c.RealIP())
	var wait *admin.WaitError
	switch {
	case errors.As(err, &wait):
		secs := adminRetryAfter(c, wait.Until.Sub(s.Admins.Now()))
		page.Wait = true
		page.Error = "Too many failed sign-ins with this email address or from your network. Wait " + adminWaitWords(secs) +
			" and try again: until then no password is checked, not even the right one. Each further failure makes the wait longer, up to " +
			adminWaitWords(int(s.Admins.AccountBackoff.Max.Seconds())) + ". Another administrator can end the wait by setting a new password with `roundtable admin password`."
		s.Logger.WarnContext(ctx, "admin sign-in refused: too many attempts", typed, slog.String("by", wait.By),
			slog.String("client", c.RealIP()), slog.Time("until", wait.Until))
		return s.renderLogin(c, http.StatusTooManyRequests, page)
	case errors.Is(err, admin.ErrBusy):
		adminRetryAfter(c, 2*time.Second)
		page.Wait = true
		page.Error = roundtable.ErrorMessage(err)
		s.Logger.WarnContext(ctx, "admin sign-in refused: every password check slot is busy", typed, slog.String("client", c.RealIP()),
			slog.Int("slots", s.Admins.MaxHashing))
		return s.renderLogin(c, http.StatusTooManyRequests, page)
	case errors.Is(err, admin.ErrBadCredentials):
		b := s.Admins.AccountBackoff
		page.Error = "That email and password do not match an administrator account. Check both and try again; after " +
			kit.Plural(b.Free, "failed attempt") + ", each further attempt must wait, from " + adminWaitWords(int(b.First.Seconds())) +
			" up to " + adminWaitWords(int(b.Max.Seconds())) + "."
		s.Logger.InfoContext(ctx, "admin sign-in refused", typed, slog.String("client", c.RealIP()))
		return s.renderLogin(c, http.StatusUnauthorized, page)
	case err != nil:
		return err
	}
	secret, _, err := s.Admins.CreateSession(ctx, u.ID)
	if err != nil {
		return err
	}
	c.SetCookie(s.adminCookieFor(adminCookie, secret, s.Admins.AbsoluteTTL))
	c.SetCookie(s.adminCookieFor(adminLoginCookie, "", -time.Second))
	s.Logger.InfoContext(ctx, "admin signed in", slog.String("admin_id", u.ID))
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// Sign-in posts per client address, counted in this process's memory: a
// cheap first gate that refuses a flood before it costs a database write
// or a password check. The admin store's per-address count is the bound
// that holds across replicas.
const (
	adminSignInPerMinute = 10
	adminSignInBurst     = 10
)

func (s *Handlers) SignInRate() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(adminSignInPerMinute / 60.0), Burst: adminSignInBurst, ExpiresIn: 10 * time.Minute}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, client string, _ error) error {
			secs := adminRetryAfter(c, time.Minute/adminSignInPerMinute)
			s.Logger.WarnContext(c.Request().Context(), "admin sign-in refused: too many sign-in requests from one address", slog.String("client", client))
			return s.renderLogin(c, http.StatusTooManyRequests, adminLoginPage{Email: c.FormValue("email"), Next: c.FormValue("next"), Wait: true,
				Error: "Too many sign-in attempts from your network in a short time. Wait " + adminWaitWords(secs) + " and try again."})
		},
	})
}

// adminRetryAfter sets the Retry-After header to d in whole seconds (at least
// one) and returns them.
func adminRetryAfter(c echo.Context, d time.Duration) int {
	secs := max(1, int(math.Ceil(d.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// adminWaitWords says a wait in words: seconds under two minutes, else
// minutes rounded up.
func adminWaitWords(secs int) string {
	if secs < 120 {
		return kit.Plural(secs, "second")
	}
	return kit.Plural((secs+59)/60, "minute")
}

func (s *Handlers) Logout(c echo.Context) error {
	if ck, err := c.Cookie(adminCookie); err == nil {
		if err := s.Admins.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(s.adminCookieFor(adminCookie, "", -time.Second))
	return c.Redirect(http.StatusSeeOther, "/admin/login?out=1")
}
