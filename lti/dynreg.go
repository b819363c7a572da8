package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/internal/egress"
)

// LTI Dynamic Registration 1.0: the platform sends an administrator to the
// tool with openid_configuration and registration_token; the tool reads the
// platform's OpenID configuration and posts its client registration to the
// platform's registration endpoint.

// Claim names of LTI Dynamic Registration.
const (
	ClaimPlatformConfiguration = "https://purl.imsglobal.org/spec/lti-platform-configuration"
	ClaimToolConfiguration     = "https://purl.imsglobal.org/spec/lti-tool-configuration"
)

// Reasons of a failed dynamic registration.
const (
	ReasonRegistrationBadRequest  Reason = "registration_bad_request"
	ReasonRegistrationUnreachable Reason = "registration_unreachable"
	ReasonRegistrationMalformed   Reason = "registration_malformed"
	ReasonIssuerMismatch          Reason = "registration_issuer_mismatch"
	ReasonRegistrationIncomplete  Reason = "registration_incomplete"
	ReasonRegistrationRefused     Reason = "registration_refused"
	// ReasonRegistrationForbidden is an address Roundtable does not reach:
	// loopback, a private network... (see internal/egress).
	ReasonRegistrationForbidden Reason = "registration_address_forbidden"
	// ReasonRegistrationElsewhere is a registration endpoint on another
	// site than the configuration.
	ReasonRegistrationElsewhere Reason = "registration_endpoint_elsewhere"
)

// maxRegistrationBody bounds a configuration or registration document.
const maxRegistrationBody = 1 << 20

// PlatformConfiguration is a platform's OpenID configuration with the LTI
// platform configuration claim.
type PlatformConfiguration struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	AuthorizationServer                        string   `json:"authorization_server,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`
	SubjectTypesSupported                      []string `json:"subject_types_supported,omitempty"`

	LTI *PlatformConfigurationClaim `json:"https://purl.imsglobal.org/spec/lti-platform-configuration"`
}

// PlatformConfigurationClaim describes the LMS product and what it offers.
type PlatformConfigurationClaim struct {
	ProductFamilyCode string             `json:"product_family_code"`
	Version           string             `json:"version"`
	MessagesSupported []MessageSupported `json:"messages_supported"`
	Variables         []string           `json:"variables,omitempty"`
}

// MessageSupported is one message type a platform sends, with the
// placements it offers for it.
type MessageSupported struct {
	Type       string   `json:"type"`
	Placements []string `json:"placements,omitempty"`
}

// UnmarshalJSON also accepts a bare message type string, as some platforms
// list them.
func (m *MessageSupported) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &m.Type)
	}
	type plain MessageSupported
	return json.Unmarshal(b, (*plain)(m))
}

// Supports reports whether the platform sends messages of type t, and the
// placements it lists for them.
func (c *PlatformConfigurationClaim) Supports(t string) (bool, []string) {
	for _, m := range c.MessagesSupported {
		if m.Type == t {
			return true, m.Placements
		}
	}
	return false, nil
}

// ClientRegistration is the tool's OpenID Connect client registration, as
// sent and as the platform answers it (with ClientID set).
type ClientRegistration struct {
	ClientID                string             `json:"client_id,omitempty"`
	RegistrationClientURI   string             `json:"registration_client_uri,omitempty"`
	ApplicationType         string             `json:"application_type"`
	ResponseTypes           []string           `json:"response_types"`
	GrantTypes              []string           `json:"grant_types"`
	InitiateLoginURI        string             `json:"initiate_login_uri"`
	RedirectURIs            []string           `json:"redirect_uris"`
	ClientName              string             `json:"client_name"`
	JWKSURI                 string             `json:"jwks_uri"`
	LogoURI                 string             `json:"logo_uri,omitempty"`
	TokenEndpointAuthMethod string             `json:"token_endpoint_auth_method"`
	Scope                   string             `json:"scope,omitempty"`
	Contacts                []string           `json:"contacts,omitempty"`
	ToolConfiguration       *ToolConfiguration `json:"https://purl.imsglobal.org/spec/lti-tool-configuration"`
	// AnsweredDeploymentID is the deployment id newer Canvas answers at the
	// top level (its root account's deployment); a tool never sends it.
	AnsweredDeploymentID string `json:"deployment_id,omitempty"`
}

// ToolConfiguration is the LTI tool configuration claim of a registration.
type ToolConfiguration struct {
	Domain           string            `json:"domain"`
	SecondaryDomains []string          `json:"secondary_domains,omitempty"`
	DeploymentID     string            `json:"deployment_id,omitempty"`
	TargetLinkURI    string            `json:"target_link_uri"`
	CustomParameters map[string]string `json:"custom_parameters,omitempty"`
	Description      string            `json:"description,omitempty"`
	Claims           []string          `json:"claims"`
	Messages         []ToolMessage     `json:"messages"`
}

// ToolMessage is one message the tool accepts, and where the platform
// should offer it.
type ToolMessage struct {
	Type             string            `json:"type"`
	TargetLinkURI    string            `json:"target_link_uri,omitempty"`
	Label            string            `json:"label,omitempty"`
	IconURI          string            `json:"icon_uri,omitempty"`
	CustomParameters map[string]string `json:"custom_parameters,omitempty"`
	Placements       []string          `json:"placements,omitempty"`
	Roles            []string          `json:"roles,omitempty"`
}

// Registration failures are shown to the LMS administrator who started
// the registration, so messages name what went wrong with their LMS.
func regError(reason Reason, message, detailFormat string, args ...any) *Error {
	return &Error{Reason: reason, Message: message, Detail: fmt.Sprintf(detailFormat, args...)}
}

// FetchPlatformConfiguration downloads the platform's OpenID configuration
// from configURL, sending the registration token as a Bearer token when
// there is one (Canvas requires it), and validates it with Validate. client
// must be a guarded client (internal/egress): configURL comes from whoever
// opened the registration page.
func FetchPlatformConfiguration(ctx context.Context, client *http.Client, configURL, token string) (*PlatformConfiguration, error) {
	if err := checkAbsURL(configURL); err != nil {
		return nil, regError(ReasonRegistrationBadRequest, "The registration link is incomplete: its openid_configuration is not a web address.", "openid_configuration %q: %v", configURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, configURL, nil)
	if err != nil {
		return nil, regError(ReasonRegistrationBadRequest, "The registration link is incomplete: its openid_configuration is not a web address.", "openid_configuration %q: %v", configURL, err)
	}
	status, body, reached, err := exchange(client, req, token)
	if err != nil {
		return nil, exchangeError(err, reached, "to read its configuration", "GET "+configURL)
	}
	if status != http.StatusOK {
		e := regError(ReasonRegistrationRefused, fmt.Sprintf("Your LMS refused to show its configuration (HTTP %d).", status),
			"GET %s: HTTP %d", configURL, status)
		e.Answer = newAnswer(status, platformMessage(status, body), body)
		return nil, e
	}
	cfg, err := ParsePlatformConfiguration(body)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(configURL); err != nil {
		return nil, err
	}
	return cfg, nil
}

// exchangeError explains a request to the platform that got no usable
// answer, in Roundtable's words: what the platform's address or answer
// was, never what the platform said.
func exchangeError(err error, reached bool, purpose, request string) *Error {
	switch {
	case isRefusedAddress(err):
		return regError(ReasonRegistrationForbidden, "Roundtable does not connect to addresses on private or local networks, and the address your LMS gave "+purpose+" leads to one. If your LMS really is on your organisation's private network, the Roundtable administrator can allow that network.",
			"%s: %v", request, err)
	case errors.Is(err, egress.ErrRedirectRefused):
		return regError(ReasonRegistrationRefused, "Your LMS answered with a redirect that Roundtable does not follow (to another site, from https to http, or too many).",
			"%s: %v", request, err)
	case errors.Is(err, egress.ErrBodyTooLarge):
		return regError(ReasonRegistrationMalformed, "Your LMS answered with more than Roundtable reads (1 MiB).", "%s: %v", request, err)
	case !reached:
		return regError(ReasonRegistrationUnreachable, "Roundtable could not reach your LMS "+purpose+". Check that the LMS is reachable from the Roundtable server, then start the registration again from your LMS.",
			"%s: %v", request, err)
	}
	return regError(ReasonRegistrationUnreachable, "Roundtable could not read your LMS's answer "+purpose+".", "%s: %v", request, err)
}

func isRefusedAddress(err error) bool {
	_, ok := egress.Refused(err)
	return ok
}

// exchange sends a registration request with the registration token as
// Bearer (when there is one) and reads the platform's answer. reached tells
// a platform that never answered from an answer that could not be read.
func exchange(client *http.Client, req *http.Request, token string) (status int, body []byte, reached bool, err error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, false, err
	}
	defer resp.Body.Close()
	body, err = readLimited(resp.Body)
	return resp.StatusCode, body, true, err
}

// ParsePlatformConfiguration decodes an OpenID configuration document.
func ParsePlatformConfiguration(body []byte) (*PlatformConfiguration, error) {
	var cfg PlatformConfiguration
	if err := json.Unmarshal(body, &cfg); err != nil {
		e := regError(ReasonRegistrationMalformed, "Your LMS answered with a configuration that is not valid JSON, so Roundtable cannot register with it.",
			"configuration: %v (%.120q)", err, body)
		e.Answer = newAnswer(http.StatusOK, "", body)
		return nil, e
	}
	return &cfg, nil
}

// Validate checks a configuration read from configURL: the issuer matches
// the URL (same scheme and host, and the URL lies under the issuer), the
// endpoints a tool needs are there, and the platform signs id_tokens with
// RS256 and sends resource link launches.
func (cfg *PlatformConfiguration) Validate(configURL string) error {
	if cfg.Issuer == "" {
		return regError(ReasonRegistrationIncomplete, "Your LMS's configuration does not name its issuer, so Roundtable cannot register with it.", "configuration at %s has no issuer", configURL)
	}
	iss, errI := url.Parse(cfg.Issuer)
	cu, errC := url.Parse(configURL)
	if errI != nil || errC != nil || iss.Scheme != cu.Scheme || !strings.EqualFold(iss.Host, cu.Host) ||
		!underPath(cu.Path, iss.Path) || iss.RawQuery != "" || iss.Fragment != "" {
		return regError(ReasonIssuerMismatch, "Your LMS's configuration names an issuer that does not match the address it was read from. For safety, Roundtable only registers with an LMS whose configuration comes from its own address.",
			"issuer %q does not match configuration URL %q", cfg.Issuer, configURL)
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"authorization_endpoint", cfg.AuthorizationEndpoint}, {"registration_endpoint", cfg.RegistrationEndpoint},
		{"jwks_uri", cfg.JWKSURI}, {"token_endpoint", cfg.TokenEndpoint},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		} else if checkAbsURL(f.value) != nil {
			missing = append(missing, f.name+" (not a valid https URL)")
		}
	}
	if cfg.LTI == nil {
		missing = append(missing, ClaimPlatformConfiguration)
	} else {
		if cfg.LTI.ProductFamilyCode == "" {
			missing = append(missing, "product_family_code")
		}
		if ok, _ := cfg.LTI.Supports(MessageResourceLink); !ok {
			missing = append(missing, "messages_supported with "+MessageResourceLink)
		}
	}
	if len(cfg.ScopesSupported) == 0 {
		missing = append(missing, "scopes_supported")
	}
	if !slices.Contains(cfg.IDTokenSigningAlgValuesSupported, "RS256") {
		missing = append(missing, "RS256 in id_token_signing_alg_values_supported")
	}
	if len(missing) > 0 {
		return regError(ReasonRegistrationIncomplete, "Your LMS's configuration lacks what LTI 1.3 needs: "+strings.Join(missing, ", ")+".",
			"configuration at %s lacks %s", configURL, strings.Join(missing, ", "))
	}
	if !registrationEndpointAllowed(cu, cfg.RegistrationEndpoint) {
		return regError(ReasonRegistrationElsewhere, "Your LMS's configuration sends the registration to another site than the one the configuration was read from. For safety, Roundtable registers only at the site your LMS's configuration comes from.",
			"registration_endpoint %q is not on the origin of %q", cfg.RegistrationEndpoint, configURL)
	}
	return nil
}

// registrationEndpointAllowed reports whether the registration may be
// posted to endpoint: on the origin of the configuration URL the platform
// gave, so that whoever opens the registration page cannot make Roundtable
// post its registration (with the token) to a site of their choosing.
func registrationEndpointAllowed(configURL *url.URL, endpoint string) bool {
	eu, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	return egress.SameOrigin(configURL, eu) || canvasCloudConfiguration(configURL) && eu.Scheme == "https"
}

// canvasCloudConfiguration reports whether the configuration was read over
// https from Instructure's own Canvas Cloud issuer. Canvas Cloud serves the
// configuration from its issuer host (canvas.instructure.com) but names the
// school's own host, often a domain of the school's, as the registration
// endpoint. Having come from Instructure over https, that document is
// authentic, and so is the endpoint it names.
func canvasCloudConfiguration(u *url.URL) bool {
	if u.Scheme != "https" || u.Port() != "" {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "canvas.instructure.com", "canvas.beta.instructure.com", "canvas.test.instructure.com":
		return true
	}
	return false
}

// ToolDescription is what a tool asks of a platform when it registers.
type ToolDescription struct {
	Name, Description string
	LoginURL          string
	RedirectURIs      []string
	TargetLinkURI     string
	JWKSURL           string
	LogoURL           string
	Contacts          []string
	// Scopes the tool would like; only those the platform lists in
	// scopes_supported are requested.
	Scopes []string
	// Claims the tool wants in id_tokens.
	Claims []string
	// Custom parameters; a value that is a substitution variable ("$...")
	// is kept only when the platform lists that variable.
	Custom map[string]string
	// Messages the tool accepts. Placements the platform lists for a
	// message type are intersected with these; a message type the platform
	// does not send is left out.
	Messages []ToolMessage
}

// ClientRegistration builds the registration to post to this platform.
func (cfg *PlatformConfiguration) ClientRegistration(t ToolDescription) ClientRegistration {
	var scopes []string
	for _, s := range t.Scopes {
		if slices.Contains(cfg.ScopesSupported, s) {
			scopes = append(scopes, s)
		}
	}
	var vars []string
	if cfg.LTI != nil {
		vars = cfg.LTI.Variables
	}
	custom := map[string]string{}
	for k, v := range t.Custom {
		if !strings.HasPrefix(v, "$") || knowsVariable(vars, v) {
			custom[k] = v
		}
	}
	if len(custom) == 0 {
		custom = nil
	}
	var msgs []ToolMessage
	for _, m := range t.Messages {
		if cfg.LTI == nil {
			continue
		}
		ok, offered := cfg.LTI.Supports(m.Type)
		if !ok {
			continue
		}
		if len(offered) > 0 {
			var keep []string
			for _, p := range m.Placements {
				if o, ok := offeredPlacement(offered, p); ok && !slices.Contains(keep, o) {
					keep = append(keep, o)
				}
			}
			m.Placements = keep
		}
		msgs = append(msgs, m)
	}
	domain := ""
	if u, err := url.Parse(t.TargetLinkURI); err == nil {
		domain = u.Host
	}
	return ClientRegistration{
		ApplicationType:         "web",
		ResponseTypes:           []string{"id_token"},
		GrantTypes:              []string{"implicit", "client_credentials"},
		InitiateLoginURI:        t.LoginURL,
		RedirectURIs:            t.RedirectURIs,
		ClientName:              t.Name,
		JWKSURI:                 t.JWKSURL,
		LogoURI:                 t.LogoURL,
		TokenEndpointAuthMethod: "private_key_jwt",
		Scope:                   strings.Join(scopes, " "),
		Contacts:                t.Contacts,
		ToolConfiguration: &ToolConfiguration{
			Domain:           domain,
			TargetLinkURI:    t.TargetLinkURI,
			CustomParameters: custom,
			Description:      t.Description,
			Claims:           t.Claims,
			Messages:         msgs,
		},
	}
}

// knowsVariable reports whether the platform lists the substitution
// variable v ("$Canvas.course.sectionIds"): with its "$", or without it as
// Canvas lists them. The custom parameter's value keeps the "$" either way.
func knowsVariable(vars []string, v string) bool {
	return slices.Contains(vars, v) || slices.Contains(vars, strings.TrimPrefix(v, "$"))
}

// offeredPlacement finds the tool's placement p among those the platform
// offers, by name or as the last segment of a platform-specific placement
// URI (Canvas offers "https://canvas.instructure.com/lti/course_navigation"
// for "course_navigation"), and returns the platform's spelling.
func offeredPlacement(offered []string, p string) (string, bool) {
	for _, o := range offered {
		if o == p {
			return o, true
		}
	}
	for _, o := range offered {
		if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" && path.Base(u.Path) == p {
			return o, true
		}
	}
	return "", false
}

// RegisterClient posts the client registration to the platform's
// registration endpoint with the registration token as Bearer, and returns
// the platform's answer, which carries the client id. client must be a
// guarded client (internal/egress), which does not carry the post on to
// another site.
func RegisterClient(ctx context.Context, client *http.Client, endpoint, token string, reg ClientRegistration) (*ClientRegistration, error) {
	body, err := json.Marshal(reg)
	if err != nil {
		return nil, fmt.Errorf("lti: encode client registration: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, regError(ReasonRegistrationIncomplete, "Your LMS's registration address is not valid.", "registration_endpoint %q: %v", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	status, answer, reached, err := exchange(client, req, token)
	if err != nil {
		return nil, exchangeError(err, reached, "to complete the registration", "POST "+endpoint)
	}
	if status < 200 || status > 299 {
		e := regError(ReasonRegistrationRefused, fmt.Sprintf("Your LMS refused the registration (HTTP %d).", status),
			"POST %s: HTTP %d", endpoint, status)
		e.Answer = newAnswer(status, platformMessage(status, answer), answer)
		return nil, e
	}
	out, err := ParseRegistrationResponse(answer)
	if e, ok := err.(*Error); ok {
		e.Answer = newAnswer(status, "", answer)
	}
	return out, err
}

// ParseRegistrationResponse decodes the platform's answer to a client
// registration; it must carry a client id.
func ParseRegistrationResponse(body []byte) (*ClientRegistration, error) {
	var out ClientRegistration
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, regError(ReasonRegistrationMalformed, "Your LMS answered the registration with something that is not valid JSON. The registration may or may not exist in your LMS; check its list of tools.",
			"registration response: %v (%.120q)", err, body)
	}
	if strings.TrimSpace(out.ClientID) == "" {
		return nil, regError(ReasonRegistrationMalformed, "Your LMS answered the registration without a client id, so Roundtable cannot accept launches from it.",
			"registration response has no client_id")
	}
	return &out, nil
}

// DeploymentID is the deployment id the platform returned, if any: in the
// tool configuration (Moodle), or at the top of the answer (newer Canvas).
func (r *ClientRegistration) DeploymentID() string {
	if r.ToolConfiguration != nil && r.ToolConfiguration.DeploymentID != "" {
		return r.ToolConfiguration.DeploymentID
	}
	return r.AnsweredDeploymentID
}

// AnnouncedScopes are the service scopes the platform's answer names, or
// those requested when it names none. They are what the platform said at
// registration, not what its administrator grants: Canvas answers the
// requested scopes (plus openid) before any review, and an administrator
// may turn scopes off later. What is granted shows when a token is issued.
func (r *ClientRegistration) AnnouncedScopes(requested string) []string {
	s := strings.Fields(r.Scope)
	if len(s) == 0 {
		s = strings.Fields(requested)
	}
	return slices.DeleteFunc(s, func(sc string) bool { return sc == "openid" })
}

// platformMessage turns an error answer into one readable line: Canvas's
// {"errors": ...} or {"errorMessage": ...}, OAuth's {"error",
// "error_description"}, or short text. It is the platform's text, for the
// admin console only.
func platformMessage(status int, body []byte) string {
	msg := ""
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		if d, ok := doc["error_description"].(string); ok && d != "" {
			msg = d
			if code, ok := doc["error"].(string); ok && code != "" {
				msg = code + ": " + d
			}
		} else if code, ok := doc["error"].(string); ok && code != "" {
			msg = code
		} else if errs, ok := doc["errors"]; ok {
			msg = strings.Join(flatten("", errs), "; ")
		} else if m, ok := doc["errorMessage"].(string); ok {
			msg = m // Canvas's registration endpoint
		} else if m, ok := doc["message"].(string); ok {
			msg = m
		}
	} else if t := strings.TrimSpace(string(body)); t != "" && !strings.HasPrefix(t, "<") && utf8.ValidString(t) {
		msg = t
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	} else {
		msg = fmt.Sprintf("%s (HTTP %d)", msg, status)
	}
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}

// flatten lists the strings of a JSON error value, each prefixed with the
// field it is about: {"redirect_uris": ["is invalid"]} gives
// "redirect_uris: is invalid".
func flatten(prefix string, v any) []string {
	join := func(k string) string {
		switch {
		case prefix == "":
			return k
		case k == "":
			return prefix
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case string:
		if prefix == "" {
			return []string{x}
		}
		return []string{prefix + ": " + x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(prefix, e)...)
		}
		return out
	case map[string]any:
		// Canvas sends {"attribute": ..., "message": ...} and
		// {"field": [{"message": ...}]}.
		if m, ok := x["message"].(string); ok {
			for _, key := range []string{"attribute", "field"} {
				if a, ok := x[key].(string); ok && a != "" && a != prefix && !strings.HasSuffix(prefix, "."+a) {
					return flatten(join(a), m)
				}
			}
			return flatten(prefix, m)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			out = append(out, flatten(join(k), x[k])...)
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprintf("%s: %v", prefix, v)}
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRegistrationBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRegistrationBody {
		return nil, errors.New("answer larger than 1 MiB")
	}
	return b, nil
}

// underPath reports whether path p lies under base (or is base).
func underPath(p, base string) bool {
	base = strings.TrimSuffix(base, "/")
	return base == "" || p == base || strings.HasPrefix(p, base+"/")
}

// checkAbsURL checks a URL of the platform's configuration as every URL
// from an LMS is checked (CheckWebURL), before Roundtable registers.
func checkAbsURL(s string) error {
	_, err := CheckWebURL(s)
	return err
}
