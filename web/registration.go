package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/tenant"
)

// RegistrationConfig says how LMSs register by LTI Dynamic Registration.
type RegistrationConfig struct {
	// Open makes a registered LMS active at once; otherwise it waits for
	// an administrator's approval.
	Open bool
	// Client fetches the LMS's configuration and posts the registration;
	// defaults to a client with a 15-second timeout.
	Client *http.Client
}

// registrationRoutes serves LTI Dynamic Registration and the Canvas JSON
// configuration.
func (s *Server) registrationRoutes() {
	s.echo.GET("/lti/register", s.ltiRegister)
	s.echo.GET("/lti/config.json", s.canvasConfig)
}

// Outcomes of a registration, shown on the register page.
const (
	outcomeRegistered = "registered"
	outcomePending    = "pending"
	outcomeFailed     = "failed"
)

type registerPage struct {
	L         Layout
	Outcome   string
	Heading   string
	Message   string
	Platform  string
	ClientID  string
	Deploy    string
	Scopes    []string
	Reference string
	// CloseAfter is the delay in milliseconds before the page tells the
	// LMS to close it; 0 leaves it open until the admin presses Close.
	CloseAfter int
}

// toolDescription is what Roundtable asks of every LMS it registers with.
func (s *Server) toolDescription() lti.ToolDescription {
	launch := s.URL("/lti/launch")
	return lti.ToolDescription{
		Name:          "Roundtable",
		Description:   "Cohort discussion, questions answered by peers and experts, peer review and learning playlists, inside your courses.",
		LoginURL:      s.URL("/lti/login"),
		RedirectURIs:  []string{launch},
		TargetLinkURI: launch,
		JWKSURL:       s.URL("/.well-known/jwks.json"),
		LogoURL:       s.URL(s.assets.url("img/roundtable.svg")),
		Scopes:        wantedScopes,
		Claims:        []string{"iss", "sub", "name", "given_name", "family_name", "email", "picture", "locale"},
		Custom:        registrationCustom(),
		Messages: []lti.ToolMessage{
			{Type: lti.MessageResourceLink, TargetLinkURI: launch, Label: "Roundtable",
				Placements: []string{"course_navigation", "ContentArea"}},
			{Type: lti.MessageDeepLinking, TargetLinkURI: launch, Label: "Add a Roundtable activity",
				Placements: []string{"link_selection", "assignment_selection", "ContentArea", "RichTextEditor"}},
		},
	}
}

// wantedScopes are the LTI Advantage services Roundtable uses: grades
// (AGS) and class lists (NRPS).
var wantedScopes = []string{
	lti.AGSScopeLineItem, lti.AGSScopeLineItemReadOnly, lti.AGSScopeResultReadOnly, lti.AGSScopeScore,
	lti.NRPSScopeMembershipReadOnly,
}

// RegisterPlatform runs LTI Dynamic Registration with the LMS whose OpenID
// configuration is at configURL, and saves the LMS as active (open) or
// pending approval. Nothing is saved unless the LMS accepted the
// registration.
func (s *Server) RegisterPlatform(ctx context.Context, configURL, token string, open bool) (tenant.Platform, error) {
	client := s.Registration.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	cfg, err := lti.FetchPlatformConfiguration(ctx, client, configURL, token)
	if err != nil {
		return tenant.Platform{}, err
	}
	reg := cfg.ClientRegistration(s.toolDescription())
	answer, err := lti.RegisterClient(ctx, client, cfg.RegistrationEndpoint, token, reg)
	if err != nil {
		return tenant.Platform{}, err
	}
	status := tenant.StatusPending
	if open {
		status = tenant.StatusActive
	}
	return s.Registry.AddDynamic(ctx, tenant.FromDynamicRegistration(cfg, answer, reg.Scope, status))
}

// ltiRegister is the tool's LTI Dynamic Registration initiation URL. The
// LMS opens it, usually in a frame, with openid_configuration and
// registration_token; the page tells the admin what happened and then asks
// the LMS to close it.
func (s *Server) ltiRegister(c echo.Context) error {
	ctx := c.Request().Context()
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	configURL := strings.TrimSpace(c.QueryParam("openid_configuration"))
	token := c.QueryParam("registration_token")
	pg := registerPage{L: s.layout("Register Roundtable"), Reference: ref}

	// The LMS that registers is not yet allowed to frame Roundtable: allow
	// the origin the registration comes from, for this page only.
	ancestors := append([]string{"'self'"}, tenant.RegistrationFrameOrigins(configURL)...)
	h := c.Response().Header()
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "frame-ancestors ") {
		h.Set("Content-Security-Policy", csp[:strings.Index(csp, "frame-ancestors ")]+"frame-ancestors "+strings.Join(ancestors, " "))
	}

	if configURL == "" || len(configURL) > 2048 || len(token) > 8192 || !isWebURL(configURL) {
		pg.Outcome, pg.Heading = outcomeFailed, "This registration link is incomplete"
		pg.Message = "Roundtable registers with an LMS when the LMS opens this address with openid_configuration (the address of the LMS's configuration) and registration_token. Start the registration from your LMS's tool registration screen."
		return s.render(c, http.StatusBadRequest, "register", pg)
	}

	p, err := s.RegisterPlatform(ctx, configURL, token, s.Registration.Open)
	if err != nil {
		var le *lti.Error
		pg.Outcome, pg.Heading = outcomeFailed, "Roundtable could not register with your LMS"
		status := http.StatusBadGateway
		switch {
		case errors.As(err, &le):
			pg.Message = le.Message
			s.Logger.WarnContext(ctx, "dynamic registration failed", slog.String("request_id", ref),
				slog.String("reason", string(le.Reason)), slog.String("detail", le.Detail), slog.String("openid_configuration", configURL))
		case roundtable.ErrorCode(err) == roundtable.EINVALID || roundtable.ErrorCode(err) == roundtable.ECONFLICT:
			pg.Message = "Your LMS accepted the registration, but Roundtable cannot use what it returned: " + roundtable.ErrorMessage(err) + ". Remove the new tool from your LMS and tell your Roundtable administrator."
			s.Logger.WarnContext(ctx, "dynamic registration not saved", slog.String("request_id", ref), slog.Any("error", err))
		default:
			return err
		}
		return s.render(c, status, "register", pg)
	}
	s.Logger.InfoContext(ctx, "platform registered", slog.String("request_id", ref), slog.String("platform", p.ID),
		slog.String("issuer", p.Issuer), slog.String("client_id", p.ClientID), slog.String("status", p.Status), slog.String("lms_family", p.LMSFamily))
	pg.Platform, pg.ClientID, pg.Scopes = p.Name, p.ClientID, strings.Fields(p.Scopes)
	if len(p.Deployments) > 0 {
		pg.Deploy = p.Deployments[0]
	}
	if p.Status == tenant.StatusActive {
		pg.Outcome, pg.Heading = outcomeRegistered, "Roundtable is registered"
		pg.Message = "Your LMS and Roundtable are connected. Instructors can now add Roundtable activities to their courses."
	} else {
		pg.Outcome, pg.Heading = outcomePending, "Registered: waiting for approval"
		pg.Message = "Your LMS and Roundtable are connected, but launches wait until the Roundtable administrator approves this LMS. Until then, people who open Roundtable from a course see a page saying so."
	}
	pg.CloseAfter = 4000
	return s.render(c, http.StatusOK, "register", pg)
}

func isWebURL(raw string) bool {
	return strings.HasPrefix(raw, "https://") || strings.HasPrefix(raw, "http://")
}

// canvasConfig serves the JSON configuration a Canvas admin pastes (or
// points to) when adding Roundtable as an LTI 1.3 developer key.
func (s *Server) canvasConfig(c echo.Context) error {
	launch := s.URL("/lti/launch")
	placement := func(name, message string) map[string]any {
		return map[string]any{
			"placement": name, "message_type": message, "target_link_uri": launch,
			"text": "Roundtable", "icon_url": s.URL(s.assets.url("img/roundtable.svg")),
		}
	}
	doc := map[string]any{
		"title":               "Roundtable",
		"description":         s.toolDescription().Description,
		"oidc_initiation_url": s.URL("/lti/login"),
		"target_link_uri":     launch,
		"public_jwk_url":      s.URL("/.well-known/jwks.json"),
		"scopes":              wantedScopes,
		"extensions": []any{map[string]any{
			"platform":      "canvas.instructure.com",
			"domain":        s.BaseURL.Host,
			"tool_id":       "roundtable",
			"privacy_level": "public",
			"settings": map[string]any{
				"text":     "Roundtable",
				"icon_url": s.URL(s.assets.url("img/roundtable.svg")),
				"placements": []any{
					placement("course_navigation", lti.MessageResourceLink),
					placement("link_selection", lti.MessageDeepLinking),
					placement("assignment_selection", lti.MessageDeepLinking),
				},
			},
		}},
		"custom_fields": registrationCustom(),
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, doc)
}
