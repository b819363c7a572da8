package demo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestMain shares one Chromium and a pool of migrated Postgres schemas
// among the package's tests, and ends them after.
func TestMain(m *testing.M) {
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
