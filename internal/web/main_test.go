package web_test

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// waitingTests is how many of the package's parallel tests (those run by
// eachDB and its kin: each has an app, a database and an LMS of its own)
// run at once unless -test.parallel says otherwise. They spend much of
// their time waiting on a database, a queue or a browser, not on the CPU.
const waitingTests = 4

// TestMain shares one Chromium and a pool of migrated Postgres schemas
// among the package's tests, and ends them after.
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
