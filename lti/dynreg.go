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
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
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
// there is one (Canvas requires it), and validates it with Validate.
func FetchPlatformConfiguration(ctx context.Context, client *http.Client, configURL, token string) (*PlatformConfiguration, error) {
	if err := checkAbsURL(configURL); err != nil {
		return nil, regError(ReasonRegistrationBadRequest, "The registration link is incomplete: its openid_configuration is not a web address.", "openid_configuration %q: %v", configURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, configURL, nil)
	if err != nil {
		return nil, regError(ReasonRegistrationBadRequest, "The registration link is incomplete: its openid_configuration is not a web address.", "openid_configuration %q: %v", configURL, err)
	}
	status, body, reached, err := exchange(client, req, token)
	if err != nil && !reached {
		return nil, regError(ReasonRegistrationUnreachable, "Roundtable could not reach your LMS to read its configuration. Check that the LMS is reachable from the Roundtable server, then start the registration again.", "GET %s: %v", configURL, err)
	}
	if err != nil {
		return nil, regError(ReasonRegistrationUnreachable, "Roundtable could not read your LMS's configuration.", "GET %s: %v", configURL, err)
	}
	if status != http.StatusOK {
		return nil, regError(ReasonRegistrationRefused, "Your LMS refused to show its configuration: "+platformMessage(status, body),
			"GET %s: HTTP %d: %.300s", configURL, status, body)
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
		return nil, regError(ReasonRegistrationMalformed, "Your LMS answered with a configuration that is not valid JSON, so Roundtable cannot register with it.",
			"configuration: %v (%.120q)", err, body)
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
	return nil
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
		if !strings.HasPrefix(v, "$") || slices.Contains(vars, v) {
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
				if slices.Contains(offered, p) {
					keep = append(keep, p)
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

// RegisterClient posts the client registration to the platform's
// registration endpoint with the registration token as Bearer, and returns
// the platform's answer, which carries the client id.
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
	if err != nil && !reached {
		return nil, regError(ReasonRegistrationUnreachable, "Roundtable could not reach your LMS to complete the registration. Start the registration again from your LMS.", "POST %s: %v", endpoint, err)
	}
	if err != nil {
		return nil, regError(ReasonRegistrationUnreachable, "Roundtable could not read your LMS's answer to the registration.", "POST %s: %v", endpoint, err)
	}
	if status < 200 || status > 299 {
		return nil, regError(ReasonRegistrationRefused, "Your LMS refused the registration: "+platformMessage(status, answer),
			"POST %s: HTTP %d: %.500s", endpoint, status, answer)
	}
	return ParseRegistrationResponse(answer)
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

// DeploymentID is the deployment id the platform returned, if any.
func (r *ClientRegistration) DeploymentID() string {
	if r.ToolConfiguration == nil {
		return ""
	}
	return r.ToolConfiguration.DeploymentID
}

// GrantedScopes are the scopes the platform granted: those it answered,
// or those requested when it answered none.
func (r *ClientRegistration) GrantedScopes(requested string) []string {
	if s := strings.Fields(r.Scope); len(s) > 0 {
		return s
	}
	return strings.Fields(requested)
}

// platformMessage turns an error answer into one readable line: Canvas's
// {"errors": ...}, OAuth's {"error", "error_description"}, or short text.
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
