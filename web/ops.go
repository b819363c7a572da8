package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type homePage struct{ L Layout }

func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", homePage{L: s.layout("Welcome")})
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

// jwks publishes the tool's public keys.
func (s *Server) jwks(c echo.Context) error {
	set, err := s.Keys.PublicSet(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}
