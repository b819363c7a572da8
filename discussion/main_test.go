package discussion_test

import (
	"os"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestMain shares a pool of migrated Postgres schemas among the package's
// tests, and drops it after.
func TestMain(m *testing.M) {
	storetest.ReusePostgresSchemas()
	code := m.Run()
	storetest.DropPostgresSchemas()
	os.Exit(code)
}
