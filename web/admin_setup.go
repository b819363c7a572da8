package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// setupValue is one value an LMS admin enters in the LMS.
type setupValue struct {
	ID    string
	Label string
	Also  string // other names LMSs give it
	Value string
}

type adminSetupPage struct {
	L      Layout
	A      adminBar
	Values []setupValue
	// V holds the same values by id, for the per-LMS steps.
	V map[string]string
}

// adminLMSSetup tells an LMS administrator what to enter in the LMS, with
// this installation's exact values.
func (s *Server) adminLMSSetup(c echo.Context) error {
	values := []setupValue{
		{"register", "Dynamic registration URL", "Moodle: Tool URL; Canvas: Dynamic Registration URL; Brightspace: Tool initiation registration endpoint; Sakai: LTI Advantage auto-registration URL", s.URL("/lti/register")},
		{"canvas-config", "Canvas configuration URL", "Canvas developer key: Method Enter URL, JSON URL", s.URL("/lti/config.json")},
		{"login", "Login initiation URL", "OpenID Connect login URL, Initiate login URL, OIDC login URL", s.URL("/lti/login")},
		{"redirect", "Redirect URI", "Redirection URI, Redirect URLs, Tool redirect URL", s.URL("/lti/launch")},
		{"target", "Target link URI", "Tool URL, Launch URL, Target Link URI", s.URL("/lti/launch")},
		{"jwks", "Public keyset (JWKS) URL", "Keyset URL, Public JWK URL, Tool JWKS URL", s.URL("/.well-known/jwks.json")},
		{"domain", "Domain", "Tool domain, where the LMS asks for one", s.BaseURL.Host},
	}
	page := adminSetupPage{L: s.layout("Register Roundtable in your LMS"), A: s.adminBar(c, "lms-setup"), Values: values, V: map[string]string{}}
	for _, v := range values {
		page.V[v.ID] = v.Value
	}
	return s.render(c, http.StatusOK, "admin_lms_setup", page)
}
