package launch

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The keysets Roundtable publishes: each registration's, and the one every
// LMS shared before.

// RegistrationJWKS publishes one registration's public keys.
func (s *Handlers) RegistrationJWKS(c echo.Context) error {
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

// SharedJWKS publishes the keys every LMS shared before each registration
// had its own, for LMSs still configured with this URL; empty on an
// installation that never shared keys.
func (s *Handlers) SharedJWKS(c echo.Context) error {
	set, err := s.Keys.SharedSet(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}
