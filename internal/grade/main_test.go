package grade_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// waitingTests is how many of the package's tests run at once unless
// -test.parallel says otherwise. They spend their time waiting on the
// delivery queue (workers look for due jobs every PollInterval, and the
// tests' LMSs answer late on purpose), not on the CPU, so more of them
// than there are cores can wait together.
const waitingTests = 6

// TestMain shares a pool of migrated Postgres schemas and one build of
// `roundtable` among the package's tests, and removes them after.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		flag.Set("test.parallel", strconv.Itoa(waitingTests))
	}
	storetest.ReusePostgresSchemas()
	code := m.Run()
	storetest.DropPostgresSchemas()
	if roundtableBuild.dir != "" {
		os.RemoveAll(roundtableBuild.dir)
	}
	os.Exit(code)
}

// eachDatabase runs fn on SQLite and on Postgres, as storetest.Each does,
// both halves at the same time as the package's other waiting tests.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, kind))
		})
	}
}

// roundtableBuild is the `roundtable` command, built once for the tests
// that run it as a server process.
var roundtableBuild struct {
	once sync.Once
	done chan struct{}
	dir  string
	path string
	err  error
	out  []byte
}

// buildRoundtable starts building the `roundtable` command, if no test has
// yet, so that it builds while a test sets up.
func buildRoundtable() {
	b := &roundtableBuild
	b.once.Do(func() {
		b.done = make(chan struct{})
		go func() {
			defer close(b.done)
			if b.dir, b.err = os.MkdirTemp("", "roundtable-grade-test-"); b.err != nil {
				return
			}
			b.path = filepath.Join(b.dir, "roundtable")
			b.out, b.err = exec.Command("go", "build", "-o", b.path, "github.com/roundtable-lms/roundtable/cmd/roundtable").CombinedOutput()
		}()
	})
}

// roundtableBinary waits for the build buildRoundtable started and returns
// the command's path.
func roundtableBinary(t *testing.T) string {
	t.Helper()
	buildRoundtable()
	<-roundtableBuild.done
	if roundtableBuild.err != nil {
		t.Fatalf("go build: %v\n%s", roundtableBuild.err, roundtableBuild.out)
	}
	return roundtableBuild.path
}
