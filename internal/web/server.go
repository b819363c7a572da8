// Package web is Roundtable's HTTP face: routes, middleware, handlers and
// server-rendered pages. Handlers parse, authorize, call the domain and
// render; the domain packages know nothing of HTTP.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
	"github.com/roundtable-lms/roundtable/lti"
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
	// Spaces finds the space of a session's cohort and the roles held in
	// it; one on DB when nil.
	Spaces *space.Store
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
	// AdminHTTP fetches the key sets of platforms added by hand: a guarded
	// client (internal/egress) that allows what the operator allows. When
	// nil, one that reaches only public addresses.
	AdminHTTP *http.Client

	// ActivePages is how many requests of the activities' pages work at
	// once, the others waiting their turn (0: twice the cores).
	ActivePages int

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (none: the connection's address is the client's).
	TrustedProxies []*net.IPNet
	// LoginRate is how many LTI logins one client address may start a
	// minute (0: config.DefaultLoginRate).
	LoginRate int
	// WriteLimits is how many writes of each kind (discussion.WriteKinds,
	// but posts) one person may make in a minute; a kind missing takes
	// discussion.DefaultWriteLimits, 0 is no limit.
	WriteLimits map[string]int

	// Live carries live updates to the pages of a cohort (nil: none).
	Live live.Bus
	// Streams ends when the app shuts down: long-lived responses (live
	// event streams) end with it, so a graceful shutdown does not wait on
	// them.
	Streams context.Context
	// LiveLimits bounds the open live event streams (zero: no bound).
	LiveLimits LiveLimits
	// Access checks on each request that a session still holds; one on
	// DB when nil.
	Access *session.Access
}

// Server holds the Echo instance and the static assets its pages name.
type Server struct {
	Deps
	echo   *echo.Echo
	assets *assets

	prefetched prefetchedViews
	// turns bounds how many of the activities' pages work at once.
	turns pageTurns
	// openStreams counts the live event streams against LiveLimits.
	openStreams streamCounts
	// writeLimits bounds each person's votes, accepts, endorsements,
	// edits, flags and follows.
	writeLimits writeLimits

	// https is true when the base URL is https: then responses carry HSTS
	// and cookies the __Host- prefix (see frames.go).
	https bool
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
	if d.Access == nil {
		d.Access = session.NewAccess(d.DB)
	}
	if d.Spaces == nil {
		d.Spaces = space.NewStore(d.DB)
	}
	as, err := newAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, echo: echo.New(), assets: as, turns: newPageTurns(d.ActivePages),
		https: d.BaseURL != nil && d.BaseURL.Scheme == "https", writeLimits: newWriteLimits(d.WriteLimits)}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientAddress(d.TrustedProxies)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: func() string { return lti.RandomToken(9) }}))
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}))
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.securityHeaders)
	s.routes()
	return s, nil
}

// clientAddress is how c.RealIP() finds the client: the connection's
// address, or, behind trusted proxies, the nearest address in
// X-Forwarded-For that is not one of them. Only the listed proxies are
// trusted (not every private address, Echo's default), so a client on the
// same network cannot name itself someone else.
func clientAddress(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
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
		} else if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || strings.HasPrefix(req.URL.Path, "/static/") || req.URL.Path == "/favicon.ico" {
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
