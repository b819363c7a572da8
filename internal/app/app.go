// Package app wires Roundtable together: configuration, storage, keys,
// registry and the web server. main stays a thin shell around it, and the
// end-to-end tests boot the same App on port 0.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/blob"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
	"github.com/roundtable-lms/roundtable/internal/web"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// App is a running Roundtable.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *store.DB
	Keys     *toolkey.Store
	Registry *tenant.Registry
	Sessions *session.Store
	Courses  *course.Store
	Admins   *admin.Store
	Grades   *grade.Service
	Roster   *roster.Service
	Live     live.Bus
	Web      *web.Server
	BaseURL  *url.URL

	listener    net.Listener
	server      *http.Server
	discussions *discussion.Store
	stop        context.CancelFunc
	done        chan struct{}
	// endStreams ends the live event streams at shutdown.
	endStreams context.CancelFunc
}

// BindSettings registers the settings' flags on fs (config.Bind) and
// completes their help with the product's defaults, which config does not
// know.
func BindSettings(fs *flag.FlagSet, getenv func(string) string, defaultListen string) *config.Settings {
	s := config.Bind(fs, getenv, defaultListen)
	if f := fs.Lookup("write-limits"); f != nil {
		f.Usage += "; the defaults: " + discussion.FormatWriteLimits(discussion.DefaultWriteLimits)
	}
	return s
}

// OpenStore opens and migrates the configured database.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	db.Logger = logger
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// New opens the database, applies migrations, checks that the secret opens
// the stored keys and binds the listening socket; Serve then answers
// requests.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = cfg.Logger()
	}
	// config checks the setting's form; the discussion knows its kinds.
	limits, err := discussion.WriteLimits(cfg.WriteLimits)
	if err != nil {
		return nil, fmt.Errorf("%s / --write-limits: %w", config.EnvWriteLimits, err)
	}
	cfg.WriteLimits = limits
	db, err := OpenStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: db, done: make(chan struct{})}
	if err := a.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context) error {
	cfg := a.Config
	keys, err := toolkey.New(a.DB, cfg.Secret)
	if err != nil {
		return fmt.Errorf("ROUNDTABLE_SECRET: %w", err)
	}
	if err := keys.Check(ctx); err != nil {
		return err
	}
	a.Keys = keys
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("ROUNDTABLE_LISTEN / --listen: %w", err)
	}
	a.listener = ln
	a.BaseURL = cfg.BaseURL
	if a.BaseURL == nil {
		port := ln.Addr().(*net.TCPAddr).Port
		a.BaseURL = &url.URL{Scheme: "http", Host: fmt.Sprintf("localhost:%d", port)}
	}
	a.Registry = tenant.NewRegistry(a.DB)
	a.Registry.Keys = keys
	a.Sessions = session.NewStore(a.DB, cfg.Secret)
	a.Courses = course.NewStore(a.DB)
	a.Admins = admin.NewStore(a.DB)
	a.Live = live.New(a.DB, a.Logger)
	// Every URL an LMS gives (and every key set URL an admin types) is
	// fetched through a guarded client: public addresses only, unless the
	// operator allows more.
	allow := cfg.AllowPrivateNetworks
	if !allow.IsZero() {
		a.Logger.Info("requests to LMSs may reach these non-public networks and hosts", slog.String("allowed", allow.String()))
	}
	serviceHTTP := egress.NewClient(egress.Config{Allow: allow, Timeout: 30 * time.Second})
	// Each registration's client assertions are signed with its own key.
	sign := func(ctx context.Context, reg lti.Registration) (jwk.Key, error) { return keys.Signing(ctx, reg.ID) }
	ags := &advantage.Client{HTTP: serviceHTTP, Tokens: advantage.NewTokenSource(serviceHTTP, sign)}
	// A token answer tells which scopes the LMS really granted.
	ags.Tokens.Granted = func(ctx context.Context, reg lti.Registration, scopes []string) {
		if err := a.Registry.NoteGrantedScopes(ctx, reg.ID, scopes); err != nil {
			a.Logger.Warn("cannot note the scopes an LMS granted", slog.String("platform", reg.ID), slog.Any("error", err))
		}
	}
	// A conversion, not a copy field by field: a field added to one of
	// config.GradeDelivery and grade.Config and not the other fails to
	// compile.
	a.Grades, err = grade.New(a.DB, ags, a.Registry, grade.Config(cfg.Grades), a.Logger)
	if err != nil {
		ln.Close()
		a.Live.Close()
		return err
	}
	a.Roster = roster.New(a.DB, ags, a.Registry, a.Logger)
	discussions := discussion.NewStore(a.DB)
	a.discussions = discussions
	if n, ok := cfg.WriteLimits[discussion.WritePost]; ok {
		discussions.PostsPerMinute = n
	}
	discussions.OnParticipation = func(ctx context.Context, tx *gorm.DB, orgID, linkID string, userIDs []string) error {
		return a.Grades.Recompute(ctx, tx, orgID, linkID, userIDs...)
	}
	files, err := openFiles(cfg)
	if err != nil {
		ln.Close()
		a.Live.Close()
		return err
	}
	a.Registry.Files = files.Blobs
	streams, endStreams := context.WithCancel(context.Background())
	a.endStreams = endStreams
	a.Web, err = web.New(web.Deps{
		DB: a.DB, BaseURL: a.BaseURL, Registry: a.Registry, Keys: keys,
		Validator: lti.NewValidator(lti.NewKeyCache(egress.NewClient(egress.Config{Allow: allow, Timeout: 10 * time.Second}))),
		Sessions:  a.Sessions, Courses: a.Courses, Logger: a.Logger,
		Registration: web.RegistrationConfig{Open: cfg.Registration == config.RegistrationOpen,
			Client:  egress.NewClient(egress.Config{Allow: allow, Timeout: 15 * time.Second}),
			PerHour: cfg.RegistrationsPerHour},
		AdminHTTP: egress.NewClient(egress.Config{Allow: allow, Timeout: 10 * time.Second}),
		Admins:    a.Admins,
		Live:      a.Live, Streams: streams,
		Discussions: discussions, Grades: a.Grades, Roster: a.Roster,
		ActivePages:    cfg.ActivePages,
		TrustedProxies: cfg.TrustedProxies, LoginRate: cfg.LoginRate,
		LiveLimits:  liveLimits(cfg.LiveStreams),
		WriteLimits: cfg.WriteLimits,
		Files:       files,
	})
	if err != nil {
		endStreams()
		a.Live.Close()
		ln.Close()
		return err
	}
	a.server = &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// liveLimits are the configured bounds on live event streams, each unset
// one (a configuration built by hand) at its default.
func liveLimits(l config.LiveStreams) web.LiveLimits {
	d := config.DefaultLiveStreams
	or := func(n, def int) int {
		if n > 0 {
			return n
		}
		return def
	}
	return web.LiveLimits{Total: or(l.Total, d.Total), PerAddress: or(l.PerAddress, d.PerAddress), PerSession: or(l.PerSession, d.PerSession)}
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// URL is an absolute URL of the tool.
func (a *App) URL(path string) string { return a.Web.URL(path) }

// Start serves requests in the background until Shutdown.
func (a *App) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	go a.janitor(ctx)
	go a.fillBodyText(ctx)
	go a.Roster.Run(ctx)
	// Scores waiting from before a restart are delivered now.
	if err := a.Grades.Start(context.Background()); err != nil {
		a.Logger.Error("grade delivery did not start", slog.Any("error", err))
	}
	go func() {
		defer close(a.done)
		if err := a.server.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Logger.Error("server stopped", slog.Any("error", err))
		}
	}()
	a.Logger.Info("Roundtable is listening", slog.String("addr", a.Addr()), slog.String("base_url", a.BaseURL.String()), slog.String("database", string(a.DB.Dialect)))
	if a.Config.DebugListen != "" {
		go a.serveDebug(ctx)
	}
}

// serveDebug serves Go's profiler on its own address, away from the public
// listener.
func (a *App) serveDebug(ctx context.Context) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: a.Config.DebugListen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if a.Config.DebugListenPublic {
		a.Logger.Warn("profiler listening beyond loopback: whoever reaches it sees the command line and memory", slog.String("addr", a.Config.DebugListen))
	} else {
		a.Logger.Info("profiler listening", slog.String("addr", a.Config.DebugListen))
	}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.Logger.Error("profiler stopped", slog.Any("error", err))
	}
}

// Run serves until ctx ends, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	a.Start()
	<-ctx.Done()
	return a.Shutdown()
}

// Shutdown stops accepting requests, lets those in flight finish (up to 20
// seconds) and closes the database.
func (a *App) Shutdown() error {
	if a.stop != nil {
		a.stop()
	}
	a.endStreams()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.server.Shutdown(ctx)
	if a.stop != nil {
		<-a.done
	} else {
		a.listener.Close()
	}
	if a.stop != nil {
		if gerr := a.Grades.Stop(ctx); gerr != nil {
			a.Logger.Warn("grade delivery stopped before every running delivery finished; they are retried at the next start", slog.Any("error", gerr))
		}
	}
	a.Live.Close()
	a.Logger.Info("Roundtable stopped")
	return errors.Join(err, a.DB.Close())
}

// fillBodyText writes the text of posts written before search indexed it
// (migration 00032), in the background: their Markdown is searched until
// then. A start cut short leaves the rest to the next one.
func (a *App) fillBodyText(ctx context.Context) {
	n, err := a.discussions.FillBodyText(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.Logger.Warn("cannot write the text search reads of older posts; it is tried again at the next start", slog.Int("written", n), slog.Any("error", err))
	case n > 0:
		a.Logger.Info("search reads the text of older posts", slog.Int("posts", n))
	}
}

// janitor removes the ids of spent, expired login states, sessions, deep linking requests,
// the keys of registrations that were never saved, registrations nobody
// approved in time, old failed registrations and old counts of admin
// sign-in attempts.
func (a *App) janitor(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := a.Sessions.DeleteExpiredLoginStates(ctx); err != nil {
			a.Logger.Warn("cannot forget expired spent login states", slog.Any("error", err))
		} else if n > 0 {
			a.Logger.Debug("expired spent login states forgotten", slog.Int64("count", n))
		}
		if _, err := a.Admins.DeleteExpired(ctx); err != nil {
			a.Logger.Warn("cannot delete expired admin sessions", slog.Any("error", err))
		}
		if _, err := a.Admins.ForgetAttempts(ctx); err != nil {
			a.Logger.Warn("cannot forget old admin sign-in attempts", slog.Any("error", err))
		}
		if _, err := a.Sessions.DeleteExpired(ctx); err != nil {
			a.Logger.Warn("cannot delete expired sessions", slog.Any("error", err))
		}
		if _, err := a.Keys.ForgetAbandoned(ctx, time.Now().Add(-time.Hour)); err != nil {
			a.Logger.Warn("cannot delete the keys of abandoned registrations", slog.Any("error", err))
		}
		if _, err := a.Courses.DeleteExpiredPlacementRequests(ctx); err != nil {
			a.Logger.Warn("cannot delete abandoned deep linking requests", slog.Any("error", err))
		}
		if n, err := a.Registry.DeleteExpiredPending(ctx); err != nil {
			a.Logger.Warn("cannot remove lapsed registrations", slog.Any("error", err))
		} else if n > 0 {
			a.Logger.Info("registrations nobody approved in time removed", slog.Int64("count", n))
		}
		if _, err := a.Registry.PruneRegistrationFailures(ctx); err != nil {
			a.Logger.Warn("cannot prune failed registrations", slog.Any("error", err))
		}
		if p, ok := a.Live.(live.Pruner); ok {
			if _, err := p.Prune(ctx, time.Now().Add(-live.Retention)); err != nil {
				a.Logger.Warn("cannot prune live events", slog.Any("error", err))
			}
		}
	}
}

// openFiles opens the blob store of the files in posts, with their bounds
// (each unset one, in a configuration built by hand, at its default).
func openFiles(cfg config.Config) (web.Files, error) {
	blobs, err := blob.Open(cfg.BlobURL, cfg.DataDir, os.Getenv)
	if err != nil {
		return web.Files{}, fmt.Errorf("%s / --blob-url: %w", config.EnvBlobURL, err)
	}
	u, d := cfg.Uploads, config.DefaultUploads
	or := func(n, def int64) int64 {
		if n > 0 {
			return n
		}
		return def
	}
	return web.Files{Blobs: blobs, MaxImage: or(u.MaxImage, d.MaxImage), MaxFile: or(u.MaxFile, d.MaxFile), PerDay: or(u.PerDay, d.PerDay)}, nil
}
