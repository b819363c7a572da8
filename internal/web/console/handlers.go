//go:generate go tool templ generate

// Package console is the admin console under /admin: its sign-in, the
// LMS registrations (platforms, their keys and deployments), the LMS
// setup values, the failed dynamic registrations and grade deliveries.
package console

import (
	"net/http"

	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Handlers serve the admin console.
type Handlers struct {
	*kit.Base
	// Admins are the console's accounts and sessions.
	Admins *admin.Store
	// AdminHTTP fetches the key sets of platforms added by hand (see
	// web.Deps).
	AdminHTTP *http.Client
	// RegistrationsPerHour is how many dynamic registrations are accepted
	// in an hour (see launch.RegistrationConfig).
	RegistrationsPerHour int
}
