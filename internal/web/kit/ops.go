package kit

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

func (s *Base) Home(c echo.Context) error {
	return s.RenderPage(c, http.StatusOK, homePage(s.Layout("Welcome")))
}

func (s *Base) Healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// Readyz reports whether the database answers.
func (s *Base) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
