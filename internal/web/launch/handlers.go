//go:generate go tool templ generate

// Package launch is how people and LMSs come into Roundtable by LTI: the
// OIDC login and its limits, the launch, deep linking, dynamic
// registration, the keysets Roundtable publishes, and signing out.
package launch

import (
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// Handlers serve the LTI entry points.
type Handlers struct {
	*kit.Base
	Validator *lti.Validator
	// Registration is how LMSs register by LTI Dynamic Registration.
	Registration RegistrationConfig
	// LoginRate is how many LTI logins one client address may start a
	// minute (0: config.DefaultLoginRate).
	LoginRate int
}
