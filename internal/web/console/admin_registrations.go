package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// failuresShown is how many failed registrations the console lists.
const failuresShown = 100

type registrationFailureView struct {
	tenant.RegistrationFailure
	At kit.TimeView
}

type adminRegistrationsPage struct {
	L           kit.Layout
	A           adminBar
	Failures    []registrationFailureView
	PendingDays int
	PerHour     int
}

// Registrations lists the dynamic registrations that failed, with
// what each LMS answered: the registration page shows its visitor only
// Roundtable's words and a reference, so the LMS's own reason is here.
func (s *Handlers) Registrations(c echo.Context) error {
	fs, err := s.Registry.RegistrationFailures(c.Request().Context(), failuresShown)
	if err != nil {
		return err
	}
	page := adminRegistrationsPage{L: s.Layout("Failed registrations"), A: s.adminBar(c, "registrations"),
		PendingDays: int(tenant.PendingLifetime / (24 * time.Hour)), PerHour: s.RegistrationsPerHour}
	for _, f := range fs {
		page.Failures = append(page.Failures, registrationFailureView{RegistrationFailure: f, At: s.TimeView(&f.CreatedAt)})
	}
	return s.RenderPage(c, http.StatusOK, adminRegistrationsView(page))
}
