// Package config reads Roundtable's settings once, from flags and
// environment variables, into a validated struct.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/grade"
)

// Config is the service's validated configuration.
type Config struct {
	Listen      string
	BaseURL     *url.URL // nil: derived from the address actually listened on
	DatabaseURL string
	DataDir     string
	Secret      []byte
	// SecretSource says where the secret came from: env, file or generated.
	SecretSource string
	LogLevel     slog.Level
	LogFormat    string
	// Registration is the policy for LMSs registering by LTI Dynamic
	// Registration: RegistrationOpen or RegistrationApproval.
	Registration string
	// DebugListen, when set, serves Go's profiler on a separate address
	// (keep it on loopback).
	DebugListen string
	// Grades tunes score delivery to LMS gradebooks; zero values take
	// grade's defaults.
	Grades grade.Config
	// ActivePages is how many requests of the activities' pages work at
	// once, the others waiting their turn; 0 is twice the cores.
	ActivePages int
	// WriteLimits is how many writes of each kind (discussion.WriteKinds)
	// one person may make in a minute; 0 is no limit. A kind missing takes
	// discussion.DefaultWriteLimits.
	WriteLimits map[string]int
}

// Settings is the raw values before validation; flags bind to it.
type Settings struct {
	Listen, BaseURL, DatabaseURL, DataDir, LogLevel, LogFormat, Registration, DebugListen, ActivePages, WriteLimits string
}

// Env names, documented in --help and the README.
const (
	EnvListen       = "ROUNDTABLE_LISTEN"
	EnvBaseURL      = "ROUNDTABLE_BASE_URL"
	EnvDatabaseURL  = "DATABASE_URL"
	EnvDataDir      = "ROUNDTABLE_DATA_DIR"
	EnvSecret       = "ROUNDTABLE_SECRET"
	EnvLogLevel     = "ROUNDTABLE_LOG_LEVEL"
	EnvLogFormat    = "ROUNDTABLE_LOG_FORMAT"
	EnvRegistration = "ROUNDTABLE_REGISTRATION"
	EnvDebugListen  = "ROUNDTABLE_DEBUG_LISTEN"
	EnvActivePages  = "ROUNDTABLE_ACTIVE_PAGES"
	EnvWriteLimits  = "ROUNDTABLE_WRITE_LIMITS"
)

// Registration policies: an LMS that registers by LTI Dynamic Registration
// is active at once (open) or waits for an administrator (approval).
const (
	RegistrationOpen     = "open"
	RegistrationApproval = "approval"
)

// Bind registers the settings' flags on fs, with environment defaults.
func Bind(fs *flag.FlagSet, getenv func(string) string, defaultListen string) *Settings {
	s := &Settings{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&s.Listen, "listen", env(EnvListen, defaultListen), "address to listen on ("+EnvListen+")")
	fs.StringVar(&s.BaseURL, "base-url", env(EnvBaseURL, ""), "public URL an LMS sees; every tool URL is built from it ("+EnvBaseURL+"; default: http://localhost:PORT)")
	fs.StringVar(&s.DatabaseURL, "database-url", env(EnvDatabaseURL, ""), "postgres:// URL; empty uses an SQLite file in the data dir ("+EnvDatabaseURL+")")
	fs.StringVar(&s.DataDir, "data-dir", env(EnvDataDir, "./data"), "directory for the SQLite file and generated secret ("+EnvDataDir+")")
	fs.StringVar(&s.LogLevel, "log-level", env(EnvLogLevel, "info"), "debug, info, warn or error ("+EnvLogLevel+")")
	fs.StringVar(&s.LogFormat, "log-format", env(EnvLogFormat, "text"), "text or json ("+EnvLogFormat+")")
	fs.StringVar(&s.Registration, "registration", env(EnvRegistration, RegistrationApproval), "LMSs registering by LTI Dynamic Registration are active at once (open) or wait for an administrator's approval (approval) ("+EnvRegistration+")")
	fs.StringVar(&s.DebugListen, "debug-listen", env(EnvDebugListen, ""), "address for Go's profiler at /debug/pprof/, off when empty; keep it on loopback ("+EnvDebugListen+")")
	fs.StringVar(&s.ActivePages, "active-pages", env(EnvActivePages, ""), "how many requests of the activities' pages work at once, the others waiting their turn; empty or 0: twice the cores ("+EnvActivePages+")")
	fs.StringVar(&s.WriteLimits, "write-limits", env(EnvWriteLimits, ""), "writes one person may make in a minute, per kind, for example vote=30,edit=10 (0: no limit); kinds not named keep their default: "+
		FormatWriteLimits(discussion.DefaultWriteLimits)+" ("+EnvWriteLimits+")")
	return s
}

// Load validates the settings and resolves the secret. A bad setting is an
// error naming the setting and what is wrong with it.
func (s *Settings) Load(getenv func(string) string) (Config, error) {
	cfg := Config{Listen: s.Listen, DatabaseURL: strings.TrimSpace(s.DatabaseURL), DataDir: s.DataDir, LogFormat: s.LogFormat, DebugListen: s.DebugListen}
	if s.DebugListen != "" {
		if _, _, err := net.SplitHostPort(s.DebugListen); err != nil {
			return cfg, fmt.Errorf("%s / --debug-listen: %q is not host:port (for example 127.0.0.1:6060)", EnvDebugListen, s.DebugListen)
		}
	}
	if s.ActivePages != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s.ActivePages))
		if err != nil || n < 0 || n > 10000 {
			return cfg, fmt.Errorf("%s / --active-pages: %q is not a number from 0 to 10000 (0: twice the cores)", EnvActivePages, s.ActivePages)
		}
		cfg.ActivePages = n
	}
	limits, err := ParseWriteLimits(s.WriteLimits)
	if err != nil {
		return cfg, fmt.Errorf("%s / --write-limits: %w", EnvWriteLimits, err)
	}
	cfg.WriteLimits = limits
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || port == "" {
		return cfg, fmt.Errorf("%s / --listen: %q is not host:port (for example :8080 or 127.0.0.1:8080)", EnvListen, s.Listen)
	}
	if s.BaseURL != "" {
		u, err := ParseBaseURL(s.BaseURL)
		if err != nil {
			return cfg, fmt.Errorf("%s / --base-url: %w", EnvBaseURL, err)
		}
		cfg.BaseURL = u
	}
	if cfg.DatabaseURL != "" {
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return cfg, fmt.Errorf("%s / --database-url: must be a postgres:// URL (leave it empty for SQLite)", EnvDatabaseURL)
		}
	}
	if cfg.DataDir == "" {
		return cfg, fmt.Errorf("%s / --data-dir: must not be empty", EnvDataDir)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return cfg, fmt.Errorf("%s / --log-level: %q is not debug, info, warn or error", EnvLogLevel, s.LogLevel)
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		return cfg, fmt.Errorf("%s / --log-format: %q is not text or json", EnvLogFormat, s.LogFormat)
	}
	switch s.Registration {
	case RegistrationOpen, RegistrationApproval:
		cfg.Registration = s.Registration
	default:
		return cfg, fmt.Errorf("%s / --registration: %q is not open or approval", EnvRegistration, s.Registration)
	}
	secret, source, err := loadSecret(getenv(EnvSecret), cfg.DataDir)
	if err != nil {
		return cfg, err
	}
	cfg.Secret, cfg.SecretSource = secret, source
	return cfg, nil
}

// ParseWriteLimits reads per-minute limits of writes, "kind=N" separated
// by commas (kinds: discussion.WriteKinds; N from 0, no limit, to 10000),
// over discussion.DefaultWriteLimits: it returns every kind's limit.
func ParseWriteLimits(s string) (map[string]int, error) {
	limits := make(map[string]int, len(discussion.DefaultWriteLimits))
	for k, n := range discussion.DefaultWriteLimits {
		limits[k] = n
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, value, ok := strings.Cut(item, "=")
		kind = strings.TrimSpace(kind)
		if _, known := discussion.DefaultWriteLimits[kind]; !ok || !known {
			return nil, fmt.Errorf("%q is not kind=number, with a kind among %s", item, strings.Join(discussion.WriteKinds, ", "))
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > 10000 {
			return nil, fmt.Errorf("%s=%q is not a number from 0 (no limit) to 10000 a minute", kind, value)
		}
		limits[kind] = n
	}
	return limits, nil
}

// FormatWriteLimits writes limits as ParseWriteLimits reads them.
func FormatWriteLimits(limits map[string]int) string {
	var parts []string
	for _, k := range discussion.WriteKinds {
		if n, ok := limits[k]; ok {
			parts = append(parts, k+"="+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ",")
}

// ParseBaseURL checks a public base URL: absolute, https (http only on
// loopback, for trying Roundtable locally), no query or fragment.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must not have a query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return nil, fmt.Errorf("%q must use https (plain http is only for localhost)", raw)
		}
	default:
		return nil, fmt.Errorf("%q must use https", raw)
	}
	return u, nil
}

const secretFile = "secret.key"

// loadSecret returns the secret from the environment, else from the data
// dir, else a new one kept in the data dir.
func loadSecret(env, dataDir string) ([]byte, string, error) {
	if env != "" {
		if len(env) < 32 {
			return nil, "", fmt.Errorf("%s: must be at least 32 characters (generate one with: openssl rand -base64 32)", EnvSecret)
		}
		return []byte(env), "env", nil
	}
	path := filepath.Join(dataDir, secretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, "", fmt.Errorf("%s: the secret in %s is shorter than 32 characters", EnvSecret, path)
		}
		return []byte(s), "file", nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("%s: cannot read %s: %w", EnvSecret, path, err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, "", fmt.Errorf("%s / --data-dir: cannot create %s: %w", EnvDataDir, dataDir, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	s := base64.RawStdEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("%s: cannot write a new secret to %s: %w", EnvSecret, path, err)
	}
	return []byte(s), "generated", nil
}

// Logger builds the service's logger.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
