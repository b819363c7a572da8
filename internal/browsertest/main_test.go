package browsertest_test

import (
	"testing"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }
