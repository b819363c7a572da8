package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"
)

// versionTable is where goose records the applied migrations.
const versionTable = "goose_db_version"

// SchemaProblem names why a binary will not run on a database.
type SchemaProblem int

const (
	// SchemaNewer: the database holds migrations this binary does not
	// know, written by a newer (or another) build.
	SchemaNewer SchemaProblem = iota + 1
	// SchemaGap: the database lacks a migration this binary knows below
	// versions it has applied, so a build without that migration wrote it.
	// Applying it now would run migrations out of order.
	SchemaGap
	// SchemaFailed: a pending migration failed and was rolled back.
	SchemaFailed
)

// SchemaError says why Roundtable stopped before serving from a database,
// and what an operator can do. Nothing in the database was changed by the
// start that reports it, except the migrations applied before a failed one.
type SchemaError struct {
	Problem SchemaProblem
	// Database is the highest version the database records; Known the
	// highest this binary holds.
	Database, Known int64
	// Versions are the migrations concerned: the unknown ones, the skipped
	// ones, or the one that failed.
	Versions []int64
	// File is the failed migration's file (SchemaFailed).
	File string
	// Err is the database's answer to the failed migration (SchemaFailed).
	Err error
}

func (e *SchemaError) Unwrap() error { return e.Err }

func (e *SchemaError) Error() string {
	switch e.Problem {
	case SchemaNewer:
		if e.Database > e.Known {
			return fmt.Sprintf("this database was written by a newer Roundtable (schema version %d; this binary knows up to %d): "+
				"run that release or a newer one, or point Roundtable at another database; nothing was changed",
				e.Database, e.Known)
		}
		return fmt.Sprintf("this database holds %s, which this binary does not have: another build of Roundtable wrote it. "+
			"Run that build, or point Roundtable at another database; nothing was changed", versionList(e.Versions))
	case SchemaGap:
		return fmt.Sprintf("this database lacks %s, which this binary applies before version %d that the database already has: "+
			"a build without %s wrote it, and migrations never run out of order. "+
			"Restore the database from a backup taken before that build ran, or point Roundtable at another database; nothing was changed",
			versionList(e.Versions), e.Database, pronoun(e.Versions))
	case SchemaFailed:
		return fmt.Sprintf("migration %d (%s) failed and was rolled back, so the database stays at schema version %d and keeps its data: %v. "+
			"If the database was changed by hand or by another build, restore it from a backup or point Roundtable at another database; "+
			"otherwise report this message",
			e.Versions[0], e.File, e.Database, e.Err)
	}
	return "the database's schema cannot be used"
}

func versionList(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatInt(v, 10)
	}
	if len(vs) == 1 {
		return "migration " + s[0]
	}
	return "migrations " + strings.Join(s, ", ")
}

func pronoun(vs []int64) string {
	if len(vs) == 1 {
		return "it"
	}
	return "them"
}

func (db *DB) provider() (*goose.Provider, error) {
	dir := "migrations/sqlite"
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dir = "migrations/postgres"
		dialect = goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.SQL, sub)
}

// Migrate applies every pending migration, one transaction each, after
// checking that this binary can handle the database: a database written
// by a newer build, or missing a migration below ones it has, stops the
// start with a *SchemaError and is left as it was.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrate(ctx, 0)
}

// MigrateTo applies the pending migrations up to and including version,
// and no later one: tests of a migration run it on a database holding the
// data of the version before.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	return db.migrate(ctx, version)
}

func (db *DB) migrate(ctx context.Context, target int64) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	unlock, err := db.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := db.checkVersions(ctx, p); err != nil {
		return err
	}
	var results []*goose.MigrationResult
	if target > 0 {
		results, err = p.UpTo(ctx, target)
	} else {
		results, err = p.Up(ctx)
	}
	if err != nil {
		return db.migrationFailed(ctx, p, err)
	}
	logger := db.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// Each step at debug; one line at info says the schema moved, so a
	// first start prints one line instead of one per migration.
	for _, r := range results {
		logger.DebugContext(ctx, "migration applied", slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
	}
	if n := len(results); n > 0 {
		logger.InfoContext(ctx, "database migrated", slog.Int("applied", n), slog.Int64("version", results[n-1].Source.Version))
	}
	if target > 0 {
		return nil
	}
	// The durable job queue (River) keeps its own tables and versions.
	m, err := rivermigrate.New(db.QueueDriver(), nil)
	if err != nil {
		return fmt.Errorf("load job queue migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	for _, v := range res.Versions {
		logger.DebugContext(ctx, "job queue migration applied", slog.Int("version", v.Version), slog.Duration("took", v.Duration))
	}
	if n := len(res.Versions); n > 0 {
		logger.InfoContext(ctx, "job queue tables migrated", slog.Int("applied", n), slog.Int("version", res.Versions[n-1].Version))
	}
	return nil
}

// appliedVersions reads the versions the database records, none for a
// database that was never migrated.
func (db *DB) appliedVersions(ctx context.Context) ([]int64, error) {
	if !db.WithContext(ctx).Migrator().HasTable(versionTable) {
		return nil, nil
	}
	var vs []int64
	err := db.WithContext(ctx).Raw(`SELECT DISTINCT version_id FROM ` + versionTable + ` WHERE version_id > 0 ORDER BY version_id`).Scan(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("read the database's schema version: %w", err)
	}
	return vs, nil
}

// checkVersions refuses a database this binary cannot handle before
// anything is written to it.
func (db *DB) checkVersions(ctx context.Context, p *goose.Provider) error {
	applied, err := db.appliedVersions(ctx)
	if err != nil || len(applied) == 0 {
		return err
	}
	var known []int64
	for _, s := range p.ListSources() {
		known = append(known, s.Version)
	}
	maxKnown := slices.Max(known)
	maxApplied := slices.Max(applied)
	var unknown []int64
	for _, v := range applied {
		if !slices.Contains(known, v) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		return &SchemaError{Problem: SchemaNewer, Database: maxApplied, Known: maxKnown, Versions: unknown}
	}
	var skipped []int64
	for _, v := range known {
		if v < maxApplied && !slices.Contains(applied, v) {
			skipped = append(skipped, v)
		}
	}
	if len(skipped) > 0 {
		return &SchemaError{Problem: SchemaGap, Database: maxApplied, Known: maxKnown, Versions: skipped}
	}
	return nil
}

// migrationFailed turns goose's account of a failed migration into one an
// operator can act on.
func (db *DB) migrationFailed(ctx context.Context, p *goose.Provider, err error) error {
	var partial *goose.PartialError
	if !errors.As(err, &partial) || partial.Failed == nil || partial.Failed.Source == nil {
		return fmt.Errorf("migrate: %w", err)
	}
	e := &SchemaError{Problem: SchemaFailed, Versions: []int64{partial.Failed.Source.Version},
		File: filepath.Base(partial.Failed.Source.Path), Err: partial.Err}
	for _, s := range p.ListSources() {
		e.Known = max(e.Known, s.Version)
	}
	if applied, aerr := db.appliedVersions(context.WithoutCancel(ctx)); aerr == nil && len(applied) > 0 {
		e.Database = slices.Max(applied)
	}
	return e
}

// sqliteMigrations serialises migrations of one SQLite file within this
// process (tests open one database through several handles).
var sqliteMigrations sync.Map // path → *sync.Mutex

// lockMigrations makes concurrent starts on one database migrate one after
// the other: replicas starting together on Postgres wait on an advisory
// lock of the schema, held on a connection of its own until the caller
// unlocks. Without it, two starts apply the same migration twice and one
// fails halfway through the list.
func (db *DB) lockMigrations(ctx context.Context) (func(), error) {
	if db.Dialect != Postgres {
		mu, _ := sqliteMigrations.LoadOrStore(db.path, &sync.Mutex{})
		mu.(*sync.Mutex).Lock()
		return mu.(*sync.Mutex).Unlock, nil
	}
	// The lock belongs to a session, so it needs one connection for its
	// lifetime: database/sql's Conn, the one handle that pins one.
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	const key = `hashtext('roundtable migrations ' || current_database() || '.' || current_schema())`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate: wait for other starts to finish migrating: %w", err)
	}
	return func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(unlockCtx, `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			// A session that cannot unlock is ended, which releases the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationStatuses lists every embedded migration and its state.
func (db *DB) MigrationStatuses(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Name:      filepath.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}
