// Package app wires Roundtable together: configuration, storage, keys,
// registry and the web server. main stays a thin shell around it, and the
// end-to-end tests boot the same App on port 0.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/admin"
	"github.com/roundtable-lms/roundtable/config"
	"github.com/roundtable-lms/roundtable/course"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/grade"
	"github.com/roundtable-lms/roundtable/live"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/roster"
	"github.com/roundtable-lms/roundtable/session"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/tenant"
	"github.com/roundtable-lms/roundtable/toolkey"
	"github.com/roundtable-lms/roundtable/web"
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

	listener net.Listener
	server   *http.Server
	stop     context.CancelFunc
	done     chan struct{}
	// endStreams ends the live event streams at shutdown.
	endStreams context.CancelFunc
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

// New opens the database, applies migrations, makes the first tool key if
// needed and binds the listening socket; Serve then answers requests.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = cfg.Logger()
	}
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
	if err := keys.EnsureKey(ctx); err != nil {
		return err
	}
	if _, err := keys.Signing(ctx); err != nil {
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
	a.Sessions = session.NewStore(a.DB, cfg.Secret)
	a.Courses = course.NewStore(a.DB)
	a.Admins = admin.NewStore(a.DB)
	a.Live = live.New(a.DB, a.Logger)
	serviceHTTP := &http.Client{Timeout: 30 * time.Second}
	ags := &advantage.Client{HTTP: serviceHTTP, Tokens: advantage.NewTokenSource(serviceHTTP, keys.Signing)}
	a.Grades, err = grade.New(a.DB, ags, a.Registry, cfg.Grades, a.Logger)
	if err != nil {
		ln.Close()
		a.Live.Close()
		return err
	}
	a.Roster = roster.New(a.DB, ags, a.Registry, a.Logger)
	discussions := discussion.NewStore(a.DB)
	if n, ok := cfg.WriteLimits[discussion.WritePost]; ok {
		discussions.PostsPerMinute = n
	}
	discussions.OnParticipation = func(ctx context.Context, tx *gorm.DB, platformID, linkID string, userIDs []string) error {
		return a.Grades.Recompute(ctx, tx, platformID, linkID, userIDs...)
	}
	streams, endStreams := context.WithCancel(context.Background())
	a.endStreams = endStreams
	a.Web, err = web.New(web.Deps{
		DB: a.DB, BaseURL: a.BaseURL, Registry: a.Registry, Keys: keys,
		Validator: lti.NewValidator(lti.NewKeyCache(&http.Client{Timeout: 10 * time.Second})),
		Sessions:  a.Sessions, Courses: a.Courses, Logger: a.Logger, Secret: cfg.Secret,
		Registration: web.RegistrationConfig{Open: cfg.Registration == config.RegistrationOpen},
		Admins:       a.Admins,
		Live:         a.Live, Streams: streams,
		Discussions: discussions, Grades: a.Grades, Roster: a.Roster,
		ActivePages: cfg.ActivePages,
		WriteLimits: cfg.WriteLimits,
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

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// URL is an absolute URL of the tool.
func (a *App) URL(path string) string { return a.Web.URL(path) }

// Start serves requests in the background until Shutdown.
func (a *App) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	go a.janitor(ctx)
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
	a.Logger.Info("profiler listening", slog.String("addr", a.Config.DebugListen))
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

// janitor removes expired login states, sessions and deep linking requests.
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
			a.Logger.Warn("cannot delete expired login states", slog.Any("error", err))
		} else if n > 0 {
			a.Logger.Debug("expired login states deleted", slog.Int64("count", n))
		}
		if _, err := a.Admins.DeleteExpired(ctx); err != nil {
			a.Logger.Warn("cannot delete expired admin sessions", slog.Any("error", err))
		}
		if _, err := a.Sessions.DeleteExpired(ctx); err != nil {
			a.Logger.Warn("cannot delete expired sessions", slog.Any("error", err))
		}
		if _, err := a.Courses.DeleteExpiredPlacementRequests(ctx); err != nil {
			a.Logger.Warn("cannot delete abandoned deep linking requests", slog.Any("error", err))
		}
		if p, ok := a.Live.(live.Pruner); ok {
			if _, err := p.Prune(ctx, time.Now().Add(-live.Retention)); err != nil {
				a.Logger.Warn("cannot prune live events", slog.Any("error", err))
			}
		}
	}
}
