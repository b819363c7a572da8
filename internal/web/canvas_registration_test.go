package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// canvasStandIn answers LTI Dynamic Registration as Canvas's own code
// does (security_controller.rb#openid_configuration,
// lti/ims/dynamic_registration_controller.rb#create and
// #render_registration, models/lti/ims/registration.rb#placements), as a
// self-hosted Canvas whose lti_iss is its own address.
type canvasStandIn struct {
	base, token string

	mu     sync.Mutex
	posted map[string]any
	// refuse, when set, is the errorMessage the registration endpoint
	// answers with 401.
	refuse string
}

const canvasDeploymentID = "9:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"

func newCanvas(t *testing.T) *canvasStandIn {
	c := &canvasStandIn{token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.canvas-registration-token"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/lti/security/openid-configuration", c.configuration)
	mux.HandleFunc("POST /api/lti/registrations", c.register)
	c.base = serveOn(t, "127.0.0.1:0", mux)
	return c
}

// registrationQuery is what Canvas appends to the tool's registration URL:
// the configuration URL carries the token as a query parameter.
func (c *canvasStandIn) registrationQuery() url.Values {
	return url.Values{"openid_configuration": {c.base + "/api/lti/security/openid-configuration?registration_token=" + c.token},
		"registration_token": {c.token}}
}

func canvasJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (c *canvasStandIn) configuration(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("registration_token") != c.token {
		canvasJSON(w, http.StatusUnauthorized, map[string]string{"error": "Access token missing (You must include the registration_token parameter)."})
		return
	}
	host := strings.TrimPrefix(c.base, "http://")
	canvasPlacement := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, "https://canvas.instructure.com/lti/"+n)
		}
		return out
	}
	canvasJSON(w, http.StatusOK, map[string]any{
		"issuer":                                c.base,
		"authorization_endpoint":                c.base + "/api/lti/authorize_redirect",
		"registration_endpoint":                 c.base + "/api/lti/registrations",
		"jwks_uri":                              c.base + "/api/lti/security/jwks",
		"token_endpoint":                        c.base + "/login/oauth2/token",
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported": []string{"openid", "https://purl.imsglobal.org/spec/lti-reg/scope/registration",
			lti.AGSScopeLineItem, lti.AGSScopeLineItemReadOnly, lti.AGSScopeResultReadOnly, lti.AGSScopeScore,
			lti.NRPSScopeMembershipReadOnly, "https://canvas.instructure.com/lti/public_jwk/scope/update"},
		"response_types_supported":              []string{"id_token"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "picture", "email", "name", "given_name", "family_name", "locale"},
		"subject_types_supported":               []string{"public"},
		"authorization_server":                  host,
		lti.ClaimPlatformConfiguration: map[string]any{
			"product_family_code": "canvas",
			"version":             "OpenSource",
			"messages_supported": []any{
				map[string]any{"type": lti.MessageResourceLink, "placements": append(canvasPlacement(
					"account_navigation", "assignment_selection", "course_navigation", "link_selection", "user_navigation"), "ContentArea")},
				map[string]any{"type": lti.MessageDeepLinking, "placements": append(canvasPlacement(
					"assignment_selection", "editor_button", "homework_submission", "link_selection", "migration_selection"), "ContentArea", "RichTextEditor")},
				map[string]any{"type": "LtiEulaRequest"},
			},
			"variables": []string{"ResourceLink.id", "Context.id", "Canvas.course.id", "Canvas.course.sectionIds",
				"Canvas.course.sectionRestricted", "Person.name.full", "Canvas.membership.permissions<>"},
			"https://canvas.instructure.com/lti/account_name":     "Stand-in University",
			"https://canvas.instructure.com/lti/account_lti_guid": "pNu5F9EoIATW6XqZ:canvas-lms",
		},
	})
}

func (c *canvasStandIn) register(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	refuse := c.refuse
	c.mu.Unlock()
	if refuse != "" || r.Header.Get("Authorization") != "Bearer "+c.token {
		if refuse == "" {
			refuse = "JWT did not include expected contents"
		}
		canvasJSON(w, http.StatusUnauthorized, map[string]string{"errorMessage": refuse})
		return
	}
	var reg map[string]any
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil {
		canvasJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": []string{"body is not JSON"}})
		return
	}
	tc, _ := reg[lti.ClaimToolConfiguration].(map[string]any)
	if reg["application_type"] != "web" || reg["token_endpoint_auth_method"] != "private_key_jwt" || tc == nil {
		canvasJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"application_type": []string{"Must be 'web'"}}})
		return
	}
	c.mu.Lock()
	c.posted = reg
	c.mu.Unlock()
	scope, _ := reg["scope"].(string)
	tc["https://canvas.instructure.com/lti/registration_config_url"] = c.base + "/api/lti/registrations/10000000000007/view"
	canvasJSON(w, http.StatusOK, map[string]any{
		"client_id": "10000000000042", "application_type": "web", "grant_types": []string{"client_credentials", "implicit"},
		"initiate_login_uri": reg["initiate_login_uri"], "redirect_uris": reg["redirect_uris"], "response_types": []string{"id_token"},
		"client_name": reg["client_name"], "jwks_uri": reg["jwks_uri"], "logo_uri": reg["logo_uri"],
		"token_endpoint_auth_method": "private_key_jwt",
		// Canvas answers the scopes asked for, plus openid, before any
		// administrator looked at them.
		"scope":                    strings.TrimSpace(scope + " openid"),
		lti.ClaimToolConfiguration: tc,
		"registration_client_uri":  c.base + "/api/lti/registrations/10000000000007",
		"deployment_id":            canvasDeploymentID,
	})
}

// placements is what Canvas makes of the posted messages: each placement
// named as Canvas names it, the first message of each placement kept.
func (c *canvasStandIn) placements() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	tc, _ := c.posted[lti.ClaimToolConfiguration].(map[string]any)
	msgs, _ := tc["messages"].([]any)
	for _, m := range msgs {
		msg := m.(map[string]any)
		ps, _ := msg["placements"].([]any)
		if len(ps) == 0 {
			ps = []any{"link_selection"}
		}
		for _, p := range ps {
			name := p.(string)
			switch name {
			case "ContentArea":
				name = "link_selection"
			case "RichTextEditor":
				name = "editor_button"
			}
			name = strings.TrimPrefix(name, "https://canvas.instructure.com/lti/")
			if _, seen := out[name]; !seen {
				out[name] = msg["type"].(string)
			}
		}
	}
	return out
}

func (c *canvasStandIn) custom() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	tc, _ := c.posted[lti.ClaimToolConfiguration].(map[string]any)
	custom, _ := tc["custom_parameters"].(map[string]any)
	return custom
}

func TestCanvasDynamicRegistration(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		canvas := newCanvas(t)
		reg := openRegistration(t, env, canvas.registrationQuery())
		if reg.Status != http.StatusOK || reg.Outcome != "registered" {
			t.Fatalf("registration: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		// Canvas lists Canvas.course.sectionIds without the $: the
		// section ids still reach launches, so section cohorts work.
		if got := canvas.custom()["section_ids"]; got != "$Canvas.course.sectionIds" {
			t.Errorf("section_ids custom parameter %v", got)
		}
		want := map[string]string{
			"course_navigation":    lti.MessageResourceLink,
			"link_selection":       lti.MessageDeepLinking,
			"assignment_selection": lti.MessageDeepLinking,
			"editor_button":        lti.MessageDeepLinking,
		}
		if got := canvas.placements(); !mapsEqual(got, want) {
			t.Errorf("Canvas placements %v, want %v", got, want)
		}

		p := dynamicPlatform(t, env)
		if !slices.Equal(p.Deployments, []string{canvasDeploymentID}) || p.LMSFamily != "canvas" || p.Status != tenant.StatusActive {
			t.Errorf("saved %+v", p)
		}
		if got := text(reg.Doc, "[data-testid=register-deployment]"); got != canvasDeploymentID {
			t.Errorf("page deployment %q", got)
		}
		announced := strings.Fields(p.AnnouncedScopes)
		if slices.Contains(announced, "openid") || !slices.Contains(announced, lti.AGSScopeScore) || !slices.Contains(announced, lti.NRPSScopeMembershipReadOnly) {
			t.Errorf("announced scopes %q", p.AnnouncedScopes)
		}
		if p.GrantedScopes != "" {
			t.Errorf("granted %q before any token was issued", p.GrantedScopes)
		}
		if got := reg.Doc.Find("[data-testid=register-scopes] li").Length(); got != len(announced) {
			t.Errorf("page lists %d requested services, want %d", got, len(announced))
		}

		c := newAdmin(t, env)
		c.get("/admin/platforms/" + p.ID)
		if got := text(c.page, "[data-testid=granted-scopes]"); !strings.HasPrefix(got, "Not known yet") {
			t.Errorf("console granted scopes %q", got)
		}
	})
}

func TestCanvasRegistrationErrorsReachTheConsole(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		canvas := newCanvas(t)
		canvas.refuse = "Registration token expired; start again from Canvas"
		reg := openRegistration(t, env, canvas.registrationQuery())
		mustFail(t, env, reg, http.StatusBadGateway, "Your LMS refused the registration (HTTP 401).")
		if strings.Contains(reg.Message, "expired") {
			t.Errorf("the page repeats Canvas's words: %q", reg.Message)
		}
		c := newAdmin(t, env)
		c.get("/admin/registrations")
		if got := text(c.page, "[data-testid=failure-said]"); got != "Registration token expired; start again from Canvas (HTTP 401)" {
			t.Errorf("console shows %q", got)
		}
		if got := text(c.page, "[data-testid=failure-reference]"); got != text(reg.Doc, "[data-testid=error-ref]") {
			t.Errorf("console reference %q, page %q", got, text(reg.Doc, "[data-testid=error-ref]"))
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
