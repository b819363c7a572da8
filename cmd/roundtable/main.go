// Command roundtable runs the Roundtable LTI tool and its administration
// commands. See `roundtable help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/roundtable-lms/roundtable/internal/app"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store"
)

const usage = `Roundtable: the social layer for courses in any LMS (an LTI 1.3 tool).

Usage:
  roundtable [serve] [flags]          run the service (the default)
  roundtable demo [flags]             run Roundtable with a built-in demo LMS, on its
                                      own data (./demo-data; DATABASE_URL is not read)
  roundtable migrate up|status        apply or list database migrations
  roundtable platform add|list|show|remove
                                      register LMS platforms by hand
  roundtable keys list|rotate|retire  manage the tool's signing keys
  roundtable admin create|password|list --email E
                                      admin console accounts (password on stdin)

Settings (flag, or environment variable):
  --listen        ROUNDTABLE_LISTEN      address to listen on (default :8080)
  --base-url      ROUNDTABLE_BASE_URL    public URL an LMS sees (default http://localhost:PORT)
  --database-url  DATABASE_URL           postgres:// URL; empty: SQLite in the data dir
  --data-dir      ROUNDTABLE_DATA_DIR    data directory (default ./data)
  --log-level     ROUNDTABLE_LOG_LEVEL   debug, info, warn, error (default info)
  --log-format    ROUNDTABLE_LOG_FORMAT  text or json (default text)
                  ROUNDTABLE_SECRET      key that encrypts the tool's private keys at
                                         rest (32+ characters); when unset one is
                                         generated and kept in the data dir

Run "roundtable COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "roundtable:", err)
		}
		os.Exit(2)
	}
}

// run dispatches a subcommand; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "platform":
		return platformCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, getenv, stdout, stderr)
	case "admin":
		return adminCmd(ctx, args, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// loadConfig parses a command's flags and settings.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, defaultListen string, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("roundtable "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := app.BindSettings(fs, getenv, defaultListen)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, fs, err
	}
	cfg, err := settings.Load(getenv)
	return cfg, fs, err
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, getenv, stderr, ":8080", nil)
	if err != nil {
		return err
	}
	logger := cfg.Logger()
	warnSecret(cfg, logger)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return whichDatabase(err, cfg, false)
	}
	return a.Run(ctx)
}

// whichDatabase adds to a refusal of the database's schema which database
// Roundtable opened and the setting that points it at another, so the
// operator can act on the message alone.
func whichDatabase(err error, cfg config.Config, demo bool) error {
	var se *store.SchemaError
	if !errors.As(err, &se) {
		return err
	}
	urlName, dirName := config.EnvDatabaseURL, config.EnvDataDir
	if demo {
		urlName, dirName = config.EnvDemoDatabaseURL, config.EnvDemoDataDir
	}
	if cfg.DatabaseURL != "" {
		where := "the Postgres database"
		if u, perr := url.Parse(cfg.DatabaseURL); perr == nil {
			where += " " + u.Host + u.Path
		}
		return fmt.Errorf("%w.\nThat database is %s, named by %s (--database-url).", err, where, urlName)
	}
	file := store.SQLiteFile(cfg.DataDir)
	if abs, aerr := filepath.Abs(file); aerr == nil {
		file = abs
	}
	if demo {
		return fmt.Errorf("%w.\nThat database is the demo's SQLite file %s: delete %s to start the demo afresh, or set %s (--data-dir) to use another directory.",
			err, file, filepath.Dir(file), dirName)
	}
	return fmt.Errorf("%w.\nThat database is the SQLite file %s, in %s (--data-dir).", err, file, dirName)
}
