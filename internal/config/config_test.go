package config

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	s := Bind(fs, getenv, ":8080")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s.Load(getenv)
}

func TestBadSettingsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"listen", nil, []string{"--listen", "nonsense", "--data-dir", dir}, "ROUNDTABLE_LISTEN"},
		{"base url http", map[string]string{EnvBaseURL: "http://tool.example.com"}, []string{"--data-dir", dir}, "ROUNDTABLE_BASE_URL"},
		{"base url relative", nil, []string{"--base-url", "/tool", "--data-dir", dir}, "ROUNDTABLE_BASE_URL"},
		{"database", map[string]string{EnvDatabaseURL: "mysql://x"}, []string{"--data-dir", dir}, "DATABASE_URL"},
		{"short secret", map[string]string{EnvSecret: "short"}, []string{"--data-dir", dir}, "ROUNDTABLE_SECRET"},
		{"log level", nil, []string{"--log-level", "loud", "--data-dir", dir}, "ROUNDTABLE_LOG_LEVEL"},
		{"registration", map[string]string{EnvRegistration: "anyone"}, []string{"--data-dir", dir}, "ROUNDTABLE_REGISTRATION"},
		{"active pages", map[string]string{EnvActivePages: "lots"}, []string{"--data-dir", dir}, "ROUNDTABLE_ACTIVE_PAGES"},
		{"active pages negative", nil, []string{"--active-pages", "-1", "--data-dir", dir}, "ROUNDTABLE_ACTIVE_PAGES"},
		{"private networks", map[string]string{EnvAllowPrivateNetworks: "10.0.0.0/33"}, []string{"--data-dir", dir}, "ROUNDTABLE_ALLOW_PRIVATE_NETWORKS"},
		{"private networks URL", nil, []string{"--allow-private-networks", "http://lms.local", "--data-dir", dir}, "ROUNDTABLE_ALLOW_PRIVATE_NETWORKS"},
		{"registrations per hour", map[string]string{EnvRegistrationsPerHour: "0"}, []string{"--data-dir", dir}, "ROUNDTABLE_REGISTRATIONS_PER_HOUR"},
		{"registrations per hour text", nil, []string{"--registrations-per-hour", "many", "--data-dir", dir}, "ROUNDTABLE_REGISTRATIONS_PER_HOUR"},
		{"trusted proxies", map[string]string{EnvTrustedProxies: "10.0.0.0/8, proxy.example.edu"}, []string{"--data-dir", dir}, "ROUNDTABLE_TRUSTED_PROXIES"},
		{"trusted proxies range", nil, []string{"--trusted-proxies", "10.0.0.0/33", "--data-dir", dir}, "ROUNDTABLE_TRUSTED_PROXIES"},
		{"login rate", map[string]string{EnvLoginRate: "0"}, []string{"--data-dir", dir}, "ROUNDTABLE_LOGIN_RATE"},
		{"login rate words", nil, []string{"--login-rate", "fast", "--data-dir", dir}, "ROUNDTABLE_LOGIN_RATE"},
		{"pending logins", map[string]string{EnvPendingLogins: "-5"}, []string{"--data-dir", dir}, "ROUNDTABLE_PENDING_LOGINS"},
		{"live streams", map[string]string{EnvLiveStreams: "many"}, []string{"--data-dir", dir}, "ROUNDTABLE_LIVE_STREAMS"},
		{"live streams per address", nil, []string{"--live-streams-per-address", "0", "--data-dir", dir}, "ROUNDTABLE_LIVE_STREAMS_PER_ADDRESS"},
		{"live streams per session", map[string]string{EnvLiveStreamsPerSession: "-2"}, []string{"--data-dir", dir}, "ROUNDTABLE_LIVE_STREAMS_PER_SESSION"},
		{"write limits kind", map[string]string{EnvWriteLimits: "Vote!=10"}, []string{"--data-dir", dir}, "ROUNDTABLE_WRITE_LIMITS"},
		{"write limits number", nil, []string{"--write-limits", "vote=many", "--data-dir", dir}, "ROUNDTABLE_WRITE_LIMITS"},
		{"write limits negative", nil, []string{"--write-limits", "edit=-1", "--data-dir", dir}, "ROUNDTABLE_WRITE_LIMITS"},
		{"write limits no kind", nil, []string{"--write-limits", "30", "--data-dir", dir}, "ROUNDTABLE_WRITE_LIMITS"},
		{"image size", map[string]string{EnvMaxImageMB: "0"}, []string{"--data-dir", dir}, "ROUNDTABLE_MAX_IMAGE_MB"},
		{"file size", nil, []string{"--max-file-mb", "big", "--data-dir", dir}, "ROUNDTABLE_MAX_FILE_MB"},
		{"upload per day", nil, []string{"--upload-mb-per-day", "5000", "--data-dir", dir}, "ROUNDTABLE_UPLOAD_MB_PER_DAY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestSecretIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	a, err := load(t, nil, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.SecretSource != "generated" || len(a.Secret) < 32 {
		t.Fatalf("first start: source %q, %d bytes", a.SecretSource, len(a.Secret))
	}
	st, err := os.Stat(filepath.Join(dir, secretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st, err)
	}
	b, err := load(t, nil, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.SecretSource != "file" || string(b.Secret) != string(a.Secret) {
		t.Fatal("second start did not reuse the kept secret")
	}
	c, err := load(t, map[string]string{EnvSecret: strings.Repeat("s", 40), EnvBaseURL: "https://rt.example.edu/"}, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretSource != "env" || c.BaseURL.String() != "https://rt.example.edu" {
		t.Fatalf("env: source %q base %v", c.SecretSource, c.BaseURL)
	}
}

func TestRegistrationPolicy(t *testing.T) {
	dir := t.TempDir()
	c, err := load(t, nil, "--data-dir", dir)
	if err != nil || c.Registration != RegistrationApproval {
		t.Fatalf("default: %q %v, want approval", c.Registration, err)
	}
	c, err = load(t, map[string]string{EnvRegistration: "open"}, "--data-dir", dir)
	if err != nil || c.Registration != RegistrationOpen {
		t.Fatalf("env: %q %v, want open", c.Registration, err)
	}
	c, err = load(t, map[string]string{EnvRegistration: "open"}, "--data-dir", dir, "--registration", "approval")
	if err != nil || c.Registration != RegistrationApproval {
		t.Fatalf("flag over env: %q %v, want approval", c.Registration, err)
	}
}

func TestActivePages(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  string
		args []string
		want int
	}{{"", nil, 0}, {"12", nil, 12}, {"12", []string{"--active-pages", "3"}, 3}} {
		cfg, err := load(t, map[string]string{EnvActivePages: tc.env}, append([]string{"--data-dir", dir}, tc.args...)...)
		if err != nil || cfg.ActivePages != tc.want {
			t.Errorf("env %q, flags %v: %d (%v), want %d", tc.env, tc.args, cfg.ActivePages, err, tc.want)
		}
	}
}

func TestEgressAndRegistrationSettings(t *testing.T) {
	dir := t.TempDir()
	c, err := load(t, nil, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllowPrivateNetworks.IsZero() || c.RegistrationsPerHour != DefaultRegistrationsPerHour {
		t.Fatalf("defaults: allow %q, %d registrations an hour", c.AllowPrivateNetworks, c.RegistrationsPerHour)
	}
	c, err = load(t, map[string]string{EnvAllowPrivateNetworks: "10.1.0.0/16, lms.campus.internal", EnvRegistrationsPerHour: "3"},
		"--data-dir", dir, "--registrations-per-hour", "5")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AllowPrivateNetworks.String(); got != "10.1.0.0/16,lms.campus.internal" || c.RegistrationsPerHour != 5 {
		t.Fatalf("allow %q, %d an hour (the flag wins over the variable)", got, c.RegistrationsPerHour)
	}
}

func TestLoginLimitsAndTrustedProxies(t *testing.T) {
	dir := t.TempDir()
	c, err := load(t, nil, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.TrustedProxies != nil || c.LoginRate != DefaultLoginRate || c.PendingLogins != DefaultPendingLogins {
		t.Fatalf("defaults: proxies %v, login rate %d, pending logins %d", c.TrustedProxies, c.LoginRate, c.PendingLogins)
	}
	c, err = load(t, map[string]string{EnvTrustedProxies: "10.0.0.0/8, 192.0.2.7 2001:db8::/32", EnvLoginRate: "30"},
		"--data-dir", dir, "--pending-logins", "500")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 2001:db8::/32" || c.LoginRate != 30 || c.PendingLogins != 500 {
		t.Fatalf("proxies %v, login rate %d, pending logins %d", got, c.LoginRate, c.PendingLogins)
	}
}

func TestLiveStreams(t *testing.T) {
	dir := t.TempDir()
	cfg, err := load(t, nil, "--data-dir", dir)
	if err != nil || cfg.LiveStreams != DefaultLiveStreams {
		t.Fatalf("defaults: %+v (%v)", cfg.LiveStreams, err)
	}
	cfg, err = load(t, map[string]string{EnvLiveStreams: "50", EnvLiveStreamsPerSession: "3"}, "--data-dir", dir, "--live-streams-per-address", "10", "--live-streams", "40")
	if want := (LiveStreams{Total: 40, PerAddress: 10, PerSession: 3}); err != nil || cfg.LiveStreams != want {
		t.Errorf("set: %+v (%v), want %+v", cfg.LiveStreams, err, want)
	}
}

// The setting gives the limits it names; the discussion knows the kinds
// and the defaults of those not named (discussion.WriteLimits).
func TestWriteLimits(t *testing.T) {
	dir := t.TempDir()
	cfg, err := load(t, nil, "--data-dir", dir)
	if err != nil || len(cfg.WriteLimits) != 0 {
		t.Fatalf("none named: %v (%v)", cfg.WriteLimits, err)
	}
	cfg, err = load(t, map[string]string{EnvWriteLimits: "vote=5, edit=0"}, "--data-dir", dir)
	if want := map[string]int{"vote": 5, "edit": 0}; err != nil || !maps.Equal(cfg.WriteLimits, want) {
		t.Fatalf("env: %v (%v), want %v", cfg.WriteLimits, err, want)
	}
	cfg, err = load(t, map[string]string{EnvWriteLimits: "vote=5"}, "--data-dir", dir, "--write-limits", "vote=7")
	if err != nil || !maps.Equal(cfg.WriteLimits, map[string]int{"vote": 7}) {
		t.Fatalf("flag over env: %v (%v)", cfg.WriteLimits, err)
	}
}

// FuzzParseWriteLimits: any text is read into limits of well-formed kinds,
// each from 0 to 10000, or refused with a one-line error.
func FuzzParseWriteLimits(f *testing.F) {
	for _, seed := range []string{"", "vote=30", "vote=30,edit=10", " post = 6 ,, flag=0", "votes=1", "vote=-1", "vote==1", "=", "vote=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		limits, err := ParseWriteLimits(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		for k, n := range limits {
			if !isKindName(k) || n < 0 || n > 10000 {
				t.Fatalf("%q: %s=%d", s, k, n)
			}
		}
	})
}

func TestUploads(t *testing.T) {
	dir := t.TempDir()
	cfg, err := load(t, nil, "--data-dir", dir)
	if err != nil || cfg.Uploads != DefaultUploads || cfg.BlobURL != "" {
		t.Fatalf("defaults: %+v %q (%v)", cfg.Uploads, cfg.BlobURL, err)
	}
	cfg, err = load(t, map[string]string{EnvMaxImageMB: "5", EnvBlobURL: " s3://files?endpoint=minio:9000 "}, "--data-dir", dir, "--max-file-mb", "50", "--upload-mb-per-day", "1000")
	if want := (Uploads{MaxImage: 5 << 20, MaxFile: 50 << 20, PerDay: 1000 << 20}); err != nil || cfg.Uploads != want || cfg.BlobURL != "s3://files?endpoint=minio:9000" {
		t.Errorf("set: %+v %q (%v), want %+v", cfg.Uploads, cfg.BlobURL, err, want)
	}
}
