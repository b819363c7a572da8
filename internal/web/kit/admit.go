package kit

import (
	"runtime"

	"github.com/labstack/echo/v4"
)

// PageTurns lets a bounded number of an activity's page requests work at
// once; the others wait their turn, first come first served. When more
// requests run than the cores can, each shares the cores (and Postgres's)
// with all the others and every one of them takes longer; taken in turn,
// most finish sooner and the slowest much sooner. Live event streams,
// which stay open, do not take a turn.
type PageTurns chan struct{}

// NewPageTurns allows n requests at once; n <= 0 means twice the cores
// Go may use (while one request waits on the database another computes).
func NewPageTurns(n int) PageTurns {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return make(PageTurns, n)
}

// statusClientClosed is the status logged for a request whose browser
// went away before it was answered (nginx's convention): not a server
// failure, so not logged as one.
const statusClientClosed = 499

// Wait is the middleware: it holds a turn for the request's duration, or
// gives up when the browser does.
func (t PageTurns) Wait(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		select {
		case t <- struct{}{}:
		case <-ctx.Done():
			return &echo.HTTPError{Code: statusClientClosed, Message: "The browser stopped waiting for this page.", Internal: ctx.Err()}
		}
		defer func() { <-t }()
		return next(c)
	}
}
