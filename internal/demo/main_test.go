package demo_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// waitingTests is how many of the package's tests run at once unless
// -test.parallel says otherwise. Each runs a demo (Roundtable and its LMS)
// of its own and a browser context of its own, and spends most of its time
// waiting on the browser's navigations.
const waitingTests = 3

// TestMain shares one Chromium and a pool of migrated Postgres schemas
// among the package's tests, which run at the same time, and ends them
// after.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		flag.Set("test.parallel", strconv.Itoa(waitingTests))
	}
	storetest.ReusePostgresSchemas()
	code := m.Run()
	browsertest.Close()
	storetest.DropPostgresSchemas()
	os.Exit(code)
}

// dataDir is a demo's data directory as a first start leaves it, without
// the minutes of it that every test would repeat: the SQLite database
// migrated and the demo LMS's key made.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	storetest.WriteMigratedSQLite(t, filepath.Join(dir, "roundtable.db"))
	apptest.WritePlatformKey(t, filepath.Join(dir, "demo-lms-key.pem"))
	return dir
}
