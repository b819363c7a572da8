// Package web is Roundtable's HTTP face: routes, middleware, handlers and
// server-rendered pages. Handlers parse, authorize, call the domain and
// render; the domain packages know nothing of HTTP.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/roundtable-lms/roundtable/admin"
	"github.com/roundtable-lms/roundtable/course"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/grade"
	"github.com/roundtable-lms/roundtable/live"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/roster"
	"github.com/roundtable-lms/roundtable/session"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/tenant"
	"github.com/roundtable-lms/roundtable/toolkey"
)

// Deps is everything the handlers need.
type Deps struct {
	DB        *store.DB
	BaseURL   *url.URL
	Registry  *tenant.Registry
	Keys      *toolkey.Store
	Validator *lti.Validator
	Sessions  *session.Store
	Courses   *course.Store
	// Discussions is the cohort discussion; one on DB when nil.
	Discussions *discussion.Store
	// Grades computes completion and delivers scores (nil: activities are
	// not graded).
	Grades *grade.Service
	// Roster reads course rosters from the LMS (nil: no roster page).
	Roster *roster.Service
	Logger *slog.Logger
	// Secret signs values the server hands to browsers (platform-storage
	// tickets).
	Secret []byte
	Now    func() time.Time
	// Registration is how LMSs register by LTI Dynamic Registration.
	Registration RegistrationConfig

	// Admin console
	Admins *admin.Store
	// AdminHTTP fetches the key sets of platforms added by hand; a client
	// with a 10-second timeout when nil.
	AdminHTTP *http.Client

	// ActivePages is how many requests of the activities' pages work at
	// once, the others waiting their turn (0: twice the cores).
	ActivePages int

	// Live carries live updates to the pages of a cohort (nil: none).
	Live live.Bus
	// Streams ends when the app shuts down: long-lived responses (live
	// event streams) end with it, so a graceful shutdown does not wait on
	// them.
	Streams context.Context
}

// Server holds the Echo instance and the parsed templates.
type Server struct {
	Deps
	echo   *echo.Echo
	pages  *pages
	assets *assets

	prefetched prefetchedViews
	// turns bounds how many of the activities' pages work at once.
	turns pageTurns

	framesMu     sync.Mutex
	frameOrigins string
	framesAt     time.Time
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Discussions == nil {
		d.Discussions = discussion.NewStore(d.DB)
	}
	as, err := newAssets()
	if err != nil {
		return nil, err
	}
	ps, err := parsePages(as)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, echo: echo.New(), pages: ps, assets: as, turns: newPageTurns(d.ActivePages)}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: func() string { return lti.RandomToken(9) }}))
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}))
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.securityHeaders)
	s.routes()
	return s, nil
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// URL is an absolute URL of this tool.
func (s *Server) URL(path string) string {
	return strings.TrimSuffix(s.BaseURL.String(), "/") + path
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		} else if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || strings.HasPrefix(req.URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		s.Logger.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Duration("took", time.Since(start)),
		)
		return nil
	}
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.Logger.Error("panic", slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		slog.Any("error", err), slog.String("stack", string(stack)))
	return err
}

// securityHeaders sets a strict CSP whose frame-ancestors are the
// registered platforms, so only an LMS that registered Roundtable can
// embed it. Images come from Roundtable alone (img-src 'self'): posts
// show other images as links (see markdown/images.go), and no image
// elsewhere may tell an outsider who reads what.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"form-action 'self' https: http://localhost:* http://127.0.0.1:*; base-uri 'none'; object-src 'none'; frame-ancestors "+s.frameAncestors(c.Request().Context()))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

func (s *Server) frameAncestors(ctx context.Context) string {
	s.framesMu.Lock()
	defer s.framesMu.Unlock()
	if s.frameOrigins != "" && time.Since(s.framesAt) < 10*time.Second {
		return s.frameOrigins
	}
	origins, err := s.Registry.FrameOrigins(ctx)
	if err != nil {
		s.Logger.Warn("cannot list platform origins for frame-ancestors", slog.Any("error", err))
	}
	s.frameOrigins = strings.Join(append([]string{"'self'"}, origins...), " ")
	s.framesAt = time.Now()
	return s.frameOrigins
}
