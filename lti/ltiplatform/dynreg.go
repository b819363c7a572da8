package ltiplatform

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// LTI Dynamic Registration, platform side: the OpenID configuration, the
// registration endpoint and single-use registration tokens, plus a demo
// page from which an administrator registers a tool.

// registrationTokenTTL is how long a registration token stays usable.
const registrationTokenTTL = time.Hour

// RegistrationMode makes the registration endpoint misbehave, for tests.
type RegistrationMode int

const (
	// RegistrationNormal registers tools.
	RegistrationNormal RegistrationMode = iota
	// RegistrationRefuse answers 422 with Canvas-style {"errors": [...]}.
	RegistrationRefuse
	// RegistrationMalformed answers 200 with a body that is not JSON.
	RegistrationMalformed
	// RegistrationNoDeployment registers the tool but, like Canvas, does
	// not return its deployment id: the tool learns it from a launch.
	RegistrationNoDeployment
)

// SetRegistrationMode switches how the registration endpoint answers.
func (p *Platform) SetRegistrationMode(m RegistrationMode) {
	p.mu.Lock()
	p.regMode = m
	p.mu.Unlock()
}

// scopesSupported are the service scopes this platform grants.
var scopesSupported = []string{
	"openid",
	lti.AGSScopeLineItem, lti.AGSScopeLineItemReadOnly, lti.AGSScopeResultReadOnly, lti.AGSScopeScore,
	lti.NRPSScopeMembershipReadOnly,
}

// OpenIDConfigurationURL is where the platform publishes its configuration.
func (p *Platform) OpenIDConfigurationURL() string { return p.URL("/.well-known/openid-configuration") }

// RegistrationEndpoint is where tools post their client registration.
func (p *Platform) RegistrationEndpoint() string { return p.URL("/register") }

// NewRegistrationToken mints a registration token, usable once within an
// hour.
func (p *Platform) NewRegistrationToken() string {
	tok := rand.Text()
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, exp := range p.regTokens {
		if now.After(exp) {
			delete(p.regTokens, t)
		}
	}
	p.regTokens[tok] = now.Add(registrationTokenTTL)
	return tok
}

// takeRegistrationToken spends a token; false when unknown, used or
// expired.
func (p *Platform) takeRegistrationToken(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.regTokens[tok]
	if !ok {
		return false
	}
	delete(p.regTokens, tok)
	return !p.now().After(exp)
}

// RegistrationURL is the tool's registration initiation URL with this
// platform's openid_configuration and a fresh registration token, as a
// platform opens it.
func (p *Platform) RegistrationURL(toolRegisterURL string) string {
	u, err := url.Parse(toolRegisterURL)
	if err != nil {
		return toolRegisterURL
	}
	q := u.Query()
	q.Set("openid_configuration", p.OpenIDConfigurationURL())
	q.Set("registration_token", p.NewRegistrationToken())
	u.RawQuery = q.Encode()
	return u.String()
}

// Configuration is the platform's OpenID configuration.
func (p *Platform) Configuration() lti.PlatformConfiguration {
	return lti.PlatformConfiguration{
		Issuer:                            p.cfg.Issuer,
		AuthorizationEndpoint:             p.AuthURL(),
		RegistrationEndpoint:              p.RegistrationEndpoint(),
		JWKSURI:                           p.JWKSURL(),
		TokenEndpoint:                     p.TokenURL(),
		AuthorizationServer:               p.cfg.TokenAudience,
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
		TokenEndpointAuthSigningAlgValuesSupported: []string{"RS256"},
		ScopesSupported:                  slices.Clone(scopesSupported),
		ResponseTypesSupported:           []string{"id_token"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
		ClaimsSupported:                  []string{"iss", "sub", "aud", "name", "given_name", "family_name", "email", "picture", "locale"},
		SubjectTypesSupported:            []string{"public"},
		LTI: &lti.PlatformConfigurationClaim{
			ProductFamilyCode: p.cfg.ProductFamilyCode,
			Version:           platformVersion,
			MessagesSupported: []lti.MessageSupported{
				{Type: lti.MessageResourceLink, Placements: []string{"course_navigation"}},
				{Type: lti.MessageDeepLinking, Placements: []string{"link_selection", "assignment_selection"}},
			},
			Variables: []string{"$User.id", "$Context.id", "$ResourceLink.id"},
		},
	}
}

func (p *Platform) handleOpenIDConfiguration(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, p.Configuration())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// registrationError answers as OpenID Connect Dynamic Client Registration
// says.
func registrationError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// maxRegistrationBody bounds a posted client registration.
const maxRegistrationBody = 64 << 10

// handleRegister is the registration endpoint: a valid registration token
// as Bearer, a client registration as JSON; it adds the tool with a new
// client id and deployment id and places it in every course.
func (p *Platform) handleRegister(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || !p.takeRegistrationToken(tok) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		registrationError(w, http.StatusUnauthorized, "invalid_token", "the registration token is missing, unknown, expired or already used")
		return
	}
	p.mu.RLock()
	mode := p.regMode
	p.mu.RUnlock()
	switch mode {
	case RegistrationRefuse:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"errors": []any{"Registration refused by the administrator of this LMS", map[string]string{"field": "scope", "message": "is not allowed"}},
		})
		return
	case RegistrationMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"client_id": "half-`)
		return
	}
	var reg lti.ClientRegistration
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	if err := dec.Decode(&reg); err != nil {
		registrationError(w, http.StatusBadRequest, "invalid_client_metadata", "the body is not a JSON client registration: "+err.Error())
		return
	}
	if code, desc := checkClientRegistration(&reg); code != "" {
		p.log.InfoContext(r.Context(), "registration refused", slog.String("error", code), slog.String("detail", desc))
		registrationError(w, http.StatusBadRequest, code, desc)
		return
	}
	tc := reg.ToolConfiguration
	tool := Tool{
		ClientID: "client-" + rand.Text()[:12], DeploymentID: "deployment-" + rand.Text()[:8],
		LoginURL: reg.InitiateLoginURI, RedirectURIs: reg.RedirectURIs, TargetLinkURI: tc.TargetLinkURI,
		JWKSURL: reg.JWKSURI, Name: reg.ClientName,
	}
	// The tool may use the services it asked for that this platform
	// offers, and no others.
	tool.Scopes = []string{}
	for _, s := range strings.Fields(reg.Scope) {
		if slices.Contains(scopesSupported, s) {
			tool.Scopes = append(tool.Scopes, s)
		}
	}
	if err := p.AddTool(tool); err != nil {
		registrationError(w, http.StatusBadRequest, "invalid_client_metadata", err.Error())
		return
	}
	if err := p.placeInCourses(tool, tc); err != nil {
		p.log.ErrorContext(r.Context(), "cannot place registered tool", slog.Any("err", err))
	}
	reg.ClientID, reg.Scope = tool.ClientID, strings.Join(tool.Scopes, " ")
	if mode != RegistrationNoDeployment {
		tc.DeploymentID = tool.DeploymentID
	}
	p.log.InfoContext(r.Context(), "tool registered", slog.String("client_id", tool.ClientID), slog.String("name", tool.Name))
	writeJSON(w, http.StatusOK, reg)
}

// checkClientRegistration returns an OAuth error code and description for
// a registration this platform cannot accept.
func checkClientRegistration(reg *lti.ClientRegistration) (string, string) {
	const meta, redirect = "invalid_client_metadata", "invalid_redirect_uri"
	switch {
	case reg.ApplicationType != "web":
		return meta, "application_type must be web"
	case !slices.Contains(reg.ResponseTypes, "id_token"):
		return meta, "response_types must contain id_token"
	case !slices.Contains(reg.GrantTypes, "implicit") || !slices.Contains(reg.GrantTypes, "client_credentials"):
		return meta, "grant_types must contain implicit and client_credentials"
	case !isAbsURL(reg.InitiateLoginURI):
		return meta, "initiate_login_uri must be an absolute URL"
	case len(reg.RedirectURIs) == 0:
		return redirect, "redirect_uris is required"
	case !isAbsURL(reg.JWKSURI):
		return meta, "jwks_uri must be an absolute URL"
	case reg.TokenEndpointAuthMethod != "private_key_jwt":
		return meta, "token_endpoint_auth_method must be private_key_jwt"
	case strings.TrimSpace(reg.ClientName) == "":
		return meta, "client_name is required"
	case reg.ToolConfiguration == nil:
		return meta, "the " + lti.ClaimToolConfiguration + " claim is required"
	}
	for _, u := range reg.RedirectURIs {
		if !isAbsURL(u) {
			return redirect, "redirect URI " + u + " is not an absolute URL"
		}
	}
	tc := reg.ToolConfiguration
	if tc.Domain == "" {
		return meta, "the tool configuration needs a domain"
	}
	if !isAbsURL(tc.TargetLinkURI) {
		return meta, "the tool configuration's target_link_uri must be an absolute URL"
	}
	for _, m := range tc.Messages {
		if m.Type != lti.MessageResourceLink && m.Type != lti.MessageDeepLinking {
			return meta, "message type " + m.Type + " is not supported"
		}
		if m.TargetLinkURI != "" && !isAbsURL(m.TargetLinkURI) {
			return meta, "message target_link_uri " + m.TargetLinkURI + " is not an absolute URL"
		}
	}
	return "", ""
}

// placeInCourses puts a newly registered tool in every course, as an LMS
// shows a course_navigation placement, titled with the label of its
// resource link message, or its name.
func (p *Platform) placeInCourses(t Tool, tc *lti.ToolConfiguration) error {
	title := t.Name
	for _, m := range tc.Messages {
		if m.Type == lti.MessageResourceLink && m.Label != "" {
			title = m.Label
		}
	}
	return p.PlaceTool(t.ClientID, title, tc.CustomParameters)
}

// PlaceTool adds a link to the tool in every course, with id
// PlacementID(clientID, courseID), replacing an earlier one.
func (p *Platform) PlaceTool(clientID, title string, custom map[string]string) error {
	t, err := p.Tool(clientID)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range p.Courses() {
		errs = append(errs, p.AddResourceLink(ResourceLink{
			ID: PlacementID(clientID, c.ID), CourseID: c.ID, ClientID: clientID, Title: title,
			Description: "Added by registering " + t.Name + " (client " + clientID + ").",
			Custom:      custom,
		}))
	}
	return errors.Join(errs...)
}

// PlacementID is the id of the link PlaceTool adds to a course.
func PlacementID(clientID, courseID string) string { return clientID + "-" + courseID }

type registerToolPage struct {
	layout
	ToolURL string
	// Src is the tool's registration URL with a fresh token; empty until
	// the admin starts a registration.
	Src        string
	ToolOrigin string
	Error      string
	Tools      []Tool
}

// handleRegisterToolPage is the demo LMS's "Register a tool" screen: the
// admin enters the tool's registration URL, the tool's page opens in a
// frame, and its org.imsglobal.lti.close message ends the registration.
func (p *Platform) handleRegisterToolPage(w http.ResponseWriter, r *http.Request) {
	pg := &registerToolPage{layout: p.layout("Register a tool"), ToolURL: r.FormValue("url"), Tools: p.Tools()}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		u, err := url.Parse(pg.ToolURL)
		if err != nil || !isAbsURL(pg.ToolURL) || u.RawQuery != "" && (u.Query().Has("registration_token") || u.Query().Has("openid_configuration")) {
			pg.Error = "Enter the tool's registration URL, an absolute http(s) address."
			status = http.StatusBadRequest
		} else {
			pg.Src = p.RegistrationURL(pg.ToolURL)
			pg.ToolOrigin = u.Scheme + "://" + u.Host
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, status, &pg.layout, registerView(pg))
}
