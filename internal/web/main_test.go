package web_test

import (
	"os"
	"testing"

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
