package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

func (s *Server) home(c echo.Context) error {
	return s.RenderPage(c, http.StatusOK, homePage(s.Layout("Welcome")))
}

func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz reports whether the database answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// registrationJWKS publishes one registration's public keys.
func (s *Server) registrationJWKS(c echo.Context) error {
	id := c.Param("id")
	notFound := func() error {
		return c.JSON(http.StatusNotFound, kit.Problem{Type: "about:blank", Title: "Not found", Status: http.StatusNotFound,
			Detail:    "Roundtable has no keys for this registration: check the platform id in the URL.",
			Reference: c.Response().Header().Get(echo.HeaderXRequestID)})
	}
	if !tenant.ValidID(id) {
		return notFound()
	}
	set, err := s.Keys.PublicSet(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}

// sharedJWKS publishes the keys every LMS shared before each registration
// had its own, for LMSs still configured with this URL; empty on an
// installation that never shared keys.
func (s *Server) sharedJWKS(c echo.Context) error {
	set, err := s.Keys.SharedSet(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}
