package kit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestPageTurns: no more requests work at once than there are turns; the
// next one starts when a turn is given back, and one whose browser gave up
// while it waited never runs.
func TestPageTurns(t *testing.T) {
	turns := NewPageTurns(1)
	e := echo.New()
	release := make(chan struct{})
	started := make(chan string, 3)
	h := turns.Wait(func(c echo.Context) error {
		started <- c.Request().URL.Path
		if c.Request().URL.Path == "/first" {
			<-release
		}
		return nil
	})
	serve := func(ctx context.Context, path string) chan error {
		done := make(chan error, 1)
		go func() {
			req := httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx)
			done <- h(e.NewContext(req, httptest.NewRecorder()))
		}()
		return done
	}
	first := serve(context.Background(), "/first")
	if got := <-started; got != "/first" {
		t.Fatalf("started %s", got)
	}
	gaveUp, cancel := context.WithCancel(context.Background())
	abandoned := serve(gaveUp, "/abandoned")
	second := serve(context.Background(), "/second")
	select {
	case got := <-started:
		t.Fatalf("%s started while the only turn was taken", got)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	// Logged as the browser's doing, not as a server failure.
	var he *echo.HTTPError
	if err := <-abandoned; !errors.Is(err, context.Canceled) || !errors.As(err, &he) || he.Code != statusClientClosed {
		t.Fatalf("a request whose browser gave up: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := <-started; got != "/second" {
		t.Fatalf("then %s started, want /second", got)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := len(turns); n != 0 {
		t.Errorf("%d turns still taken", n)
	}
}
