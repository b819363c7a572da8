package config

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Settings that keep an operator from exposing production by accident:
// the profiler stays on loopback unless forced, and the demo keeps to its
// own data.

const (
	EnvDebugListenPublic = "ROUNDTABLE_DEBUG_LISTEN_PUBLIC"

	EnvDemoDatabaseURL = "ROUNDTABLE_DEMO_DATABASE_URL"
	EnvDemoDataDir     = "ROUNDTABLE_DEMO_DATA_DIR"
	// DemoDataDir is where `roundtable demo` keeps its data by default,
	// apart from the service's ./data.
	DemoDataDir = "./demo-data"
)

// boolSetting is a string flag that may also be given bare
// (--debug-listen-public), validated in Load like every other setting.
type boolSetting struct{ v *string }

func (b boolSetting) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolSetting) Set(s string) error { *b.v = s; return nil }
func (b boolSetting) IsBoolFlag() bool   { return true }

func bindDebugListenPublic(fs *flag.FlagSet, s *Settings, env func(name, def string) string) {
	s.DebugListenPublic = env(EnvDebugListenPublic, "")
	fs.Var(boolSetting{&s.DebugListenPublic}, "debug-listen-public",
		"serve the profiler on --debug-listen even when it is not a loopback address ("+EnvDebugListenPublic+"=true)")
}

// loadDebugListen checks --debug-listen: host:port, and on loopback unless
// --debug-listen-public says otherwise. The profiler shows whoever reaches
// it the process's command line (with --database-url and its password)
// and its memory.
func (s *Settings) loadDebugListen(cfg *Config) error {
	public := false
	if v := strings.TrimSpace(s.DebugListenPublic); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s / --debug-listen-public: %q is not true or false", EnvDebugListenPublic, s.DebugListenPublic)
		}
		public = b
	}
	cfg.DebugListen, cfg.DebugListenPublic = s.DebugListen, public
	if s.DebugListen == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(s.DebugListen)
	if err != nil {
		return fmt.Errorf("%s / --debug-listen: %q is not host:port (for example 127.0.0.1:6060)", EnvDebugListen, s.DebugListen)
	}
	if public || host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s / --debug-listen: %q is not a loopback address, and the profiler shows whoever reaches it the command line (with --database-url) and the process's memory; "+
		"use 127.0.0.1:PORT or [::1]:PORT and reach it through SSH, or set %s=true / --debug-listen-public to serve it there on purpose",
		EnvDebugListen, s.DebugListen, EnvDebugListenPublic)
}

// DemoEnv is the environment `roundtable demo` reads: the service's own,
// except that the demo keeps to its own data. DATABASE_URL,
// ROUNDTABLE_DATA_DIR and ROUNDTABLE_SECRET are not read, so a demo
// started on a production host never writes its admin account and active
// demo LMS into the production database; ROUNDTABLE_DEMO_DATABASE_URL and
// ROUNDTABLE_DEMO_DATA_DIR (or the --database-url and --data-dir flags)
// point it elsewhere explicitly, and its data directory is ./demo-data by
// default. Its secret is generated and kept in that directory.
func DemoEnv(getenv func(string) string) func(string) string {
	return func(name string) string {
		switch name {
		case EnvDatabaseURL:
			return getenv(EnvDemoDatabaseURL)
		case EnvDataDir:
			if v := getenv(EnvDemoDataDir); v != "" {
				return v
			}
			return DemoDataDir
		case EnvSecret:
			return ""
		}
		return getenv(name)
	}
}
