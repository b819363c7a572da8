package ltiplatform_test

import (
	"testing"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

// TestMain ends the package's shared Chromium after its tests.
func TestMain(m *testing.M) { browsertest.Main(m) }
