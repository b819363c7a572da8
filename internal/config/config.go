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
	"time"

	"github.com/roundtable-lms/roundtable/internal/egress"
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
	// DebugListen, when set, serves Go's profiler on a separate address,
	// a loopback one unless DebugListenPublic.
	DebugListen       string
	DebugListenPublic bool
	// Grades tunes score delivery to LMS gradebooks; zero values take
	// the grade service's defaults.
	Grades GradeDelivery
	// ActivePages is how many requests of the activities' pages work at
	// once, the others waiting their turn; 0 is twice the cores.
	ActivePages int
	// AllowPrivateNetworks lists the non-public networks and hosts that
	// requests to LMS-supplied URLs may reach (an LMS on the campus
	// network); by default only public addresses.
	AllowPrivateNetworks egress.Allowlist
	// RegistrationsPerHour is how many LTI Dynamic Registrations
	// Roundtable accepts in an hour, all LMSs together.
	RegistrationsPerHour int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client; empty: the connection's own address is the client.
	TrustedProxies []*net.IPNet
	// LoginRate is how many LTI logins one client address may start a
	// minute; 0 is DefaultLoginRate.
	LoginRate int
	// PendingLogins is no longer used: a login stores nothing, so
	// unfinished ones cost nothing to bound. Still accepted (and checked),
	// so that a deployment that sets it starts as before.
	PendingLogins int
	// LiveStreams bounds the open live event streams: in all, per client
	// address and per session.
	LiveStreams LiveStreams
	// WriteLimits is how many writes of each kind named in the setting
	// one person may make in a minute; 0 is no limit. Which kinds there
	// are, and the limits of those not named, are the discussion's:
	// discussion.WriteLimits checks these against them.
	WriteLimits map[string]int
	// BlobURL names where uploaded files are kept: empty for the
	// directory "files" in DataDir, file:///path, or s3://bucket?... for
	// a bucket several replicas share (see blob.Open).
	BlobURL string
	// Uploads bound the files people put in posts.
	Uploads Uploads
}

// GradeDelivery tunes score delivery to LMS gradebooks (grade.Config has
// the same fields, and the app converts one into the other); zero values
// take the grade service's defaults.
type GradeDelivery struct {
	// Workers is how many deliveries a process holds at once.
	Workers int
	// PerLMS is how many deliveries run at once against one LMS.
	PerLMS int
	// MaxAttempts bounds the tries of one score.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait between tries.
	BackoffBase, BackoffMax time.Duration
	// PollInterval is how often an idle worker looks for jobs when the
	// database cannot notify it.
	PollInterval time.Duration
	// SweepInterval is how often held and uncounted scores are looked for.
	SweepInterval time.Duration
}

// DefaultRegistrationsPerHour bounds dynamic registrations when the
// setting is not given: far more than a real institution makes, few enough
// that a flood of fake LMSs cannot bury the console.
const DefaultRegistrationsPerHour = 20

// Defaults of the limits on LTI login initiation.
const (
	DefaultLoginRate     = 120
	DefaultPendingLogins = 10000
)

// LiveStreams bounds the open live event streams of one process.
type LiveStreams struct {
	Total, PerAddress, PerSession int
}

// DefaultLiveStreams are the bounds when none is set. Each open stream
// holds a connection, a file descriptor and a subscription.
var DefaultLiveStreams = LiveStreams{Total: 2000, PerAddress: 200, PerSession: 6}

// Uploads bound the files people put in posts, in bytes.
type Uploads struct {
	MaxImage, MaxFile, PerDay int64
}

// DefaultUploads: a photo of a whiteboard or a screenshot fits in 10 MB,
// a document in 20 MB; a person uploads at most 200 MB a day.
var DefaultUploads = Uploads{MaxImage: 10 << 20, MaxFile: 20 << 20, PerDay: 200 << 20}

// Settings is the raw values before validation; flags bind to it.
type Settings struct {
	Listen, BaseURL, DatabaseURL, DataDir, LogLevel, LogFormat, Registration, DebugListen, ActivePages, WriteLimits string
	AllowPrivateNetworks, RegistrationsPerHour                                                                      string
	TrustedProxies, LoginRate, PendingLogins                                                                        string
	LiveStreams, LiveStreamsPerAddress, LiveStreamsPerSession                                                       string
	BlobURL, MaxImageMB, MaxFileMB, UploadMBPerDay                                                                  string

	// DebugListenPublic allows a non-loopback DebugListen (safety.go).
	DebugListenPublic string
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

	EnvAllowPrivateNetworks  = "ROUNDTABLE_ALLOW_PRIVATE_NETWORKS"
	EnvRegistrationsPerHour  = "ROUNDTABLE_REGISTRATIONS_PER_HOUR"
	EnvTrustedProxies        = "ROUNDTABLE_TRUSTED_PROXIES"
	EnvLoginRate             = "ROUNDTABLE_LOGIN_RATE"
	EnvPendingLogins         = "ROUNDTABLE_PENDING_LOGINS"
	EnvLiveStreams           = "ROUNDTABLE_LIVE_STREAMS"
	EnvLiveStreamsPerAddress = "ROUNDTABLE_LIVE_STREAMS_PER_ADDRESS"
	EnvLiveStreamsPerSession = "ROUNDTABLE_LIVE_STREAMS_PER_SESSION"
	EnvWriteLimits           = "ROUNDTABLE_WRITE_LIMITS"
	EnvBlobURL               = "ROUNDTABLE_BLOB_URL"
	EnvMaxImageMB            = "ROUNDTABLE_MAX_IMAGE_MB"
	EnvMaxFileMB             = "ROUNDTABLE_MAX_FILE_MB"
	EnvUploadMBPerDay        = "ROUNDTABLE_UPLOAD_MB_PER_DAY"
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
	fs.StringVar(&s.DebugListen, "debug-listen", env(EnvDebugListen, ""), "address for Go's profiler at /debug/pprof/, off when empty; a loopback address unless --debug-listen-public ("+EnvDebugListen+")")
	bindDebugListenPublic(fs, s, env)
	fs.StringVar(&s.ActivePages, "active-pages", env(EnvActivePages, ""), "how many requests of the activities' pages work at once, the others waiting their turn; empty or 0: twice the cores ("+EnvActivePages+")")
	fs.StringVar(&s.AllowPrivateNetworks, "allow-private-networks", env(EnvAllowPrivateNetworks, ""), "networks (CIDR), addresses and host names that requests to LMS-supplied URLs may reach although they are not public, comma separated; empty: public addresses only ("+EnvAllowPrivateNetworks+")")
	fs.StringVar(&s.RegistrationsPerHour, "registrations-per-hour", env(EnvRegistrationsPerHour, strconv.Itoa(DefaultRegistrationsPerHour)), "how many LTI Dynamic Registrations are accepted in an hour, all LMSs together ("+EnvRegistrationsPerHour+")")
	fs.StringVar(&s.TrustedProxies, "trusted-proxies", env(EnvTrustedProxies, ""), "addresses or CIDR ranges of the reverse proxies in front of Roundtable, comma-separated; their X-Forwarded-For names the client. Empty: none ("+EnvTrustedProxies+")")
	fs.StringVar(&s.LoginRate, "login-rate", env(EnvLoginRate, strconv.Itoa(DefaultLoginRate)), "how many LTI logins one client address may start a minute ("+EnvLoginRate+")")
	fs.StringVar(&s.PendingLogins, "pending-logins", env(EnvPendingLogins, strconv.Itoa(DefaultPendingLogins)), "no longer used: LTI logins store nothing, so unfinished ones need no bound ("+EnvPendingLogins+")")
	d := DefaultLiveStreams
	fs.StringVar(&s.LiveStreams, "live-streams", env(EnvLiveStreams, ""), fmt.Sprintf("how many live event streams this process keeps open in all; past it a stream is answered 503 (%s; default %d)", EnvLiveStreams, d.Total))
	fs.StringVar(&s.LiveStreamsPerAddress, "live-streams-per-address", env(EnvLiveStreamsPerAddress, ""), fmt.Sprintf("how many live event streams one client address keeps open; past it 429 (%s; default %d)", EnvLiveStreamsPerAddress, d.PerAddress))
	fs.StringVar(&s.LiveStreamsPerSession, "live-streams-per-session", env(EnvLiveStreamsPerSession, ""), fmt.Sprintf("how many live event streams one session keeps open; past it 429 (%s; default %d)", EnvLiveStreamsPerSession, d.PerSession))
	fs.StringVar(&s.WriteLimits, "write-limits", env(EnvWriteLimits, ""), "writes one person may make in a minute, per kind, for example vote=30,edit=10 (0: no limit); kinds not named keep their default ("+EnvWriteLimits+")")
	u := DefaultUploads
	fs.StringVar(&s.BlobURL, "blob-url", env(EnvBlobURL, ""), "where uploaded files are kept: empty for the directory files/ in the data dir, file:///path, or s3://bucket?endpoint=host:port&region=r&prefix=p&insecure=1&path_style=1 with the keys in ROUNDTABLE_BLOB_ACCESS_KEY and ROUNDTABLE_BLOB_SECRET_KEY ("+EnvBlobURL+")")
	fs.StringVar(&s.MaxImageMB, "max-image-mb", env(EnvMaxImageMB, strconv.FormatInt(u.MaxImage>>20, 10)), "largest image a post may carry, in MB ("+EnvMaxImageMB+")")
	fs.StringVar(&s.MaxFileMB, "max-file-mb", env(EnvMaxFileMB, strconv.FormatInt(u.MaxFile>>20, 10)), "largest other file a post may carry, in MB ("+EnvMaxFileMB+")")
	fs.StringVar(&s.UploadMBPerDay, "upload-mb-per-day", env(EnvUploadMBPerDay, strconv.FormatInt(u.PerDay>>20, 10)), "how many MB of files one person may upload in a day ("+EnvUploadMBPerDay+")")
	return s
}

// loadUploads reads the upload bounds; an unset one keeps its default.
func (s *Settings) loadUploads(cfg *Config) error {
	cfg.BlobURL = strings.TrimSpace(s.BlobURL)
	cfg.Uploads = DefaultUploads
	for _, f := range []struct {
		env, flag, v string
		to           *int64
	}{
		{EnvMaxImageMB, "max-image-mb", s.MaxImageMB, &cfg.Uploads.MaxImage},
		{EnvMaxFileMB, "max-file-mb", s.MaxFileMB, &cfg.Uploads.MaxFile},
		{EnvUploadMBPerDay, "upload-mb-per-day", s.UploadMBPerDay, &cfg.Uploads.PerDay},
	} {
		if strings.TrimSpace(f.v) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f.v))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("%s / --%s: %q is not a number of MB from 1 to 1024", f.env, f.flag, f.v)
		}
		*f.to = int64(n) << 20
	}
	return nil
}

// Load validates the settings and resolves the secret. A bad setting is an
// error naming the setting and what is wrong with it.
func (s *Settings) Load(getenv func(string) string) (Config, error) {
	cfg := Config{Listen: s.Listen, DatabaseURL: strings.TrimSpace(s.DatabaseURL), DataDir: s.DataDir, LogFormat: s.LogFormat}
	if err := s.loadDebugListen(&cfg); err != nil {
		return cfg, err
	}
	if s.ActivePages != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s.ActivePages))
		if err != nil || n < 0 || n > 10000 {
			return cfg, fmt.Errorf("%s / --active-pages: %q is not a number from 0 to 10000 (0: twice the cores)", EnvActivePages, s.ActivePages)
		}
		cfg.ActivePages = n
	}
	allow, err := egress.ParseAllowlist(s.AllowPrivateNetworks)
	if err != nil {
		return cfg, fmt.Errorf("%s / --allow-private-networks: %v", EnvAllowPrivateNetworks, err)
	}
	cfg.AllowPrivateNetworks = allow
	cfg.RegistrationsPerHour = DefaultRegistrationsPerHour
	if s.RegistrationsPerHour != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s.RegistrationsPerHour))
		if err != nil || n < 1 || n > 10000 {
			return cfg, fmt.Errorf("%s / --registrations-per-hour: %q is not a number from 1 to 10000", EnvRegistrationsPerHour, s.RegistrationsPerHour)
		}
		cfg.RegistrationsPerHour = n
	}
	proxies, err := ParseTrustedProxies(s.TrustedProxies)
	if err != nil {
		return cfg, fmt.Errorf("%s / --trusted-proxies: %w", EnvTrustedProxies, err)
	}
	cfg.TrustedProxies = proxies
	if cfg.LoginRate, err = count(s.LoginRate, DefaultLoginRate, 1, 1000000); err != nil {
		return cfg, fmt.Errorf("%s / --login-rate: %q is not a number of logins a minute from 1 to 1000000", EnvLoginRate, s.LoginRate)
	}
	if cfg.PendingLogins, err = count(s.PendingLogins, DefaultPendingLogins, 1, 100000000); err != nil {
		return cfg, fmt.Errorf("%s / --pending-logins: %q is not a number from 1 to 100000000", EnvPendingLogins, s.PendingLogins)
	}
	if err := s.loadLiveStreams(&cfg); err != nil {
		return cfg, err
	}
	limits, err := ParseWriteLimits(s.WriteLimits)
	if err != nil {
		return cfg, fmt.Errorf("%s / --write-limits: %w", EnvWriteLimits, err)
	}
	cfg.WriteLimits = limits
	if err := s.loadUploads(&cfg); err != nil {
		return cfg, err
	}
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

// count reads a whole number from lo to hi; empty is def.
func count(raw string, def, lo, hi int) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, errors.New("out of range")
	}
	return n, nil
}

// ParseTrustedProxies reads a list of addresses and CIDR ranges separated
// by commas or spaces. A bare address is a range of one.
func ParseTrustedProxies(raw string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR range (for example 10.0.0.0/8 or 192.0.2.7)", f)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR range (for example 10.0.0.0/8 or 192.0.2.7)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadLiveStreams reads the bounds on live event streams; an empty one
// takes its default.
func (s *Settings) loadLiveStreams(cfg *Config) error {
	cfg.LiveStreams = DefaultLiveStreams
	for _, b := range []struct {
		raw, env, flag string
		to             *int
	}{
		{s.LiveStreams, EnvLiveStreams, "--live-streams", &cfg.LiveStreams.Total},
		{s.LiveStreamsPerAddress, EnvLiveStreamsPerAddress, "--live-streams-per-address", &cfg.LiveStreams.PerAddress},
		{s.LiveStreamsPerSession, EnvLiveStreamsPerSession, "--live-streams-per-session", &cfg.LiveStreams.PerSession},
	} {
		if strings.TrimSpace(b.raw) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(b.raw))
		if err != nil || n < 1 || n > 1000000 {
			return fmt.Errorf("%s / %s: %q is not a number from 1 to 1000000", b.env, b.flag, b.raw)
		}
		*b.to = n
	}
	return nil
}

// ParseWriteLimits reads per-minute limits of writes, "kind=N" separated
// by commas (N from 0, no limit, to 10000), into the limits it names. It
// checks their form only: the discussion knows the kinds
// (discussion.WriteLimits).
func ParseWriteLimits(s string) (map[string]int, error) {
	limits := map[string]int{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, value, ok := strings.Cut(item, "=")
		kind = strings.TrimSpace(kind)
		if !ok || !isKindName(kind) {
			return nil, fmt.Errorf("%q is not kind=number, such as vote=30", item)
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > 10000 {
			return nil, fmt.Errorf("%s=%q is not a number from 0 (no limit) to 10000 a minute", kind, value)
		}
		limits[kind] = n
	}
	return limits, nil
}

// isKindName reports whether s can name a kind of write: lowercase
// letters, at most 32.
func isKindName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
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
