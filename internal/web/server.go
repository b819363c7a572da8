// Package web is Roundtable's HTTP face, assembled: the server, and in
// routes.go the one table of every route, naming the handlers of each
// product area (launch, discuss, staff, console) and the middleware of
// the kit they share. Handlers parse, authorize, call the domain and
// render; the domain packages know nothing of HTTP.
package web

import (
	"context"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/web/review"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

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
	"github.com/roundtable-lms/roundtable/internal/web/console"
	"github.com/roundtable-lms/roundtable/internal/web/discuss"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/internal/web/launch"
	"github.com/roundtable-lms/roundtable/internal/web/staff"
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
	// Reviews are the peer reviews; one on DB when nil (its grades then
	// reach the gradebook through Grades).
	Reviews *peerreview.Store
	// Spaces finds the space of a session's cohort and the roles held in
	// it; one on DB when nil.
	Spaces *space.Store
	// Grades computes completion and delivers scores (nil: activities are
	// not graded).
	Grades *grade.Service
	// Roster reads course rosters from the LMS (nil: no roster page).
	Roster *roster.Service
	Logger *slog.Logger
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
	// Files keeps the images and files in posts, and bounds them.
	Files Files
	// Access checks on each request that a session still holds; one on
	// DB when nil.
	Access *session.Access
}

// RegistrationConfig says how LMSs register by LTI Dynamic Registration.
type RegistrationConfig = launch.RegistrationConfig

// LiveLimits bound the open live event streams.
type LiveLimits = discuss.LiveLimits

// Files keeps and bounds the images and files in posts.
type Files = discuss.Files

// Server holds the Echo instance and each area's handlers.
type Server struct {
	*kit.Base
	echo *echo.Echo

	launch  *launch.Handlers
	discuss *discuss.Handlers
	review  *review.Handlers
	staff   *staff.Handlers
	console *console.Handlers

	// turns bounds how many of the activities' pages work at once.
	turns kit.PageTurns
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
	if d.Reviews == nil {
		d.Reviews = peerreview.NewStore(d.DB)
		if d.Grades != nil {
			d.Reviews.OnGrades = func(ctx context.Context, tx *gorm.DB, orgID, linkID string, users []string) error {
				return d.Grades.Recompute(ctx, tx, orgID, linkID, users...)
			}
		}
	}
	if d.Access == nil {
		d.Access = session.NewAccess(d.DB)
	}
	if d.Spaces == nil {
		d.Spaces = space.NewStore(d.DB)
	}
	base, err := kit.NewBase(&kit.Base{DB: d.DB, BaseURL: d.BaseURL, Registry: d.Registry, Keys: d.Keys,
		Sessions: d.Sessions, Courses: d.Courses, Discussions: d.Discussions, Spaces: d.Spaces, Grades: d.Grades,
		Logger: d.Logger, Now: d.Now, Access: d.Access})
	if err != nil {
		return nil, err
	}
	s := &Server{Base: base, echo: echo.New(), turns: kit.NewPageTurns(d.ActivePages)}
	s.launch = &launch.Handlers{Base: base, Validator: d.Validator, Registration: d.Registration, LoginRate: d.LoginRate}
	s.discuss = discuss.New(base, d.Live, d.Streams, d.LiveLimits, d.WriteLimits)
	s.discuss.Files = d.Files
	s.review = &review.Handlers{Base: base, Reviews: d.Reviews, Blobs: d.Files.Blobs, PerDay: d.Files.PerDay}
	s.discuss.KindHomes = map[string]func(echo.Context, course.Activity) error{peerreview.KindName: s.review.Home}
	s.staff = &staff.Handlers{Base: base, Roster: d.Roster}
	if d.Admins == nil && d.DB != nil {
		d.Admins = admin.NewStore(d.DB)
	}
	s.console = &console.Handlers{Base: base, Admins: d.Admins, AdminHTTP: d.AdminHTTP, RegistrationsPerHour: d.Registration.PerHour}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.HandleError
	e.IPExtractor = kit.ClientAddress(d.TrustedProxies)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: func() string { return lti.RandomToken(9) }}))
	e.Use(s.LogRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.LogPanic}))
	// The forms that may carry files, sent as multipart, take bodies as
	// large as their files; every other request 1 MB.
	carriesFiles := func(c echo.Context) bool {
		p := c.Path()
		return strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) &&
			(strings.HasSuffix(p, "/files") || strings.HasSuffix(p, "/threads") || strings.HasSuffix(p, "/replies") || strings.HasSuffix(p, "/edit"))
	}
	// A peer review's work is read as a stream, bounded by the largest
	// an activity may take (its own bounds apply as it streams).
	carriesWork := func(c echo.Context) bool { return strings.HasSuffix(c.Path(), "/review/work") }
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M",
		Skipper: func(c echo.Context) bool { return carriesFiles(c) || carriesWork(c) }}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(max(d.Files.MaxUploadBody()>>20, 1), 10) + "M",
		Skipper: func(c echo.Context) bool { return !carriesFiles(c) }}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.Itoa(peerreview.MaxFileMB*peerreview.MaxFilesPerWork+1) + "M",
		Skipper: func(c echo.Context) bool { return !carriesWork(c) }}))
	e.Use(s.SecurityHeaders)
	s.routes()
	return s, nil
}

// RegisterPlatform registers an LMS by LTI Dynamic Registration (see
// launch.Handlers.RegisterPlatform).
func (s *Server) RegisterPlatform(ctx context.Context, configURL, token string, open bool) (tenant.Platform, error) {
	return s.launch.RegisterPlatform(ctx, configURL, token, open)
}

// OpenLiveStreams is how many live event streams are open.
func (s *Server) OpenLiveStreams() int { return s.discuss.OpenLiveStreams() }

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }
