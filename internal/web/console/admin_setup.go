package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// setupValue is one value an LMS admin enters in the LMS.
type setupValue struct {
	ID    string
	Label string
	Also  string // other names LMSs give it
	Value string
}

type adminSetupPage struct {
	L      kit.Layout
	A      adminBar
	Values []setupValue
	// NewID is the id of the next registration made by hand: the keyset
	// and Canvas configuration URLs shown are that registration's.
	NewID string
}

// LMSSetup tells an LMS administrator what to enter in the LMS, with
// this installation's exact values. Each registration signs with keys of
// its own, so the keyset and Canvas configuration URLs are those of a new
// registration, whose id the page chooses and the "add by hand" links
// carry; dynamic registration makes its own.
func (s *Handlers) LMSSetup(c echo.Context) error {
	id := store.NewID()
	values := []setupValue{
		{"register", "Dynamic registration URL", lms.RegistrationURLLabels(), s.URL("/lti/register")},
		{"canvas-config", "Canvas configuration URL of a new registration", "Canvas developer key: Method Enter URL, JSON URL. It names the registration you then add by hand with the links below.", s.canvasConfigURL(id)},
		{"login", "Login initiation URL", "OpenID Connect login URL, Initiate login URL, OIDC login URL", s.URL("/lti/login")},
		{"redirect", "Redirect URI", "Redirection URI, Redirect URLs, Tool redirect URL", s.URL("/lti/launch")},
		{"target", "Target link URI", "Tool URL, Launch URL, Target Link URI", s.URL("/lti/launch")},
		{"jwks", "Public keyset (JWKS) URL of a new registration", "Keyset URL, Public JWK URL, Tool JWKS URL. Each LMS registration has its own; this one belongs to the registration you then add by hand with the links below.", s.JWKSURL(id)},
		{"domain", "Domain", "Tool domain, where the LMS asks for one", s.BaseURL.Host},
	}
	page := adminSetupPage{L: s.Layout("Register Roundtable in your LMS"), A: s.adminBar(c, "lms-setup"), Values: values, NewID: id}
	page.L.Scripts = []string{"js/copy.js"}
	return s.RenderPage(c, http.StatusOK, adminLMSSetupView(page))
}
