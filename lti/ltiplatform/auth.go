package ltiplatform

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// OIDC error codes sent back to the tool.
const (
	errInvalidRequest          = "invalid_request"
	errInvalidScope            = "invalid_scope"
	errUnsupportedResponseType = "unsupported_response_type"
	errLoginRequired           = "login_required"
	errServerError             = "server_error"
)

// maxAuthBody bounds a POSTed authorization request.
const maxAuthBody = 64 << 10

// authParams are the parameters of the OIDC authorization request that the
// tool sends after login initiation.
var authParams = []string{
	"scope", "response_type", "response_mode", "prompt", "client_id",
	"redirect_uri", "login_hint", "lti_message_hint", "nonce", "state",
}

// handleAuth is the OIDC authorization endpoint. Errors before the client
// and redirect URI are trusted get a 400 page; later ones are posted back to
// the tool, as OIDC wants.
func (p *Platform) handleAuth(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthBody)
	if err := r.ParseForm(); err != nil {
		p.authPage(w, r, http.StatusBadRequest, "The login request could not be read.")
		return
	}
	for _, name := range authParams {
		if len(r.Form[name]) > 1 {
			p.authPage(w, r, http.StatusBadRequest, fmt.Sprintf("Parameter %s was sent more than once.", name))
			return
		}
	}
	get := r.Form.Get
	clientID, redirectURI, state := get("client_id"), get("redirect_uri"), get("state")

	tool, err := p.Tool(clientID)
	if err != nil {
		p.authPage(w, r, http.StatusBadRequest, "Unknown client_id: no tool is registered with it.")
		return
	}
	if !slices.Contains(tool.RedirectURIs, redirectURI) {
		p.authPage(w, r, http.StatusBadRequest, "redirect_uri is not one registered for this tool.")
		return
	}
	fail := func(code, desc string) {
		p.log.InfoContext(r.Context(), "authorization refused",
			slog.String("client_id", clientID), slog.String("error", code), slog.String("detail", desc))
		p.formPost(w, r, redirectURI, "", [][2]string{
			{"error", code}, {"error_description", desc}, {"state", state},
		})
	}

	// The hint is consumed first so that a refused request still spends it.
	hint := get("lti_message_hint")
	pl, okHint := p.takeLaunch(hint)

	switch {
	case !slices.Contains(strings.Fields(get("scope")), "openid"):
		fail(errInvalidScope, "scope must contain openid")
	case get("response_type") != "id_token":
		fail(errUnsupportedResponseType, "response_type must be id_token")
	case get("response_mode") != "form_post":
		fail(errInvalidRequest, "response_mode must be form_post")
	case get("prompt") != "none":
		fail(errInvalidRequest, "prompt must be none")
	case get("nonce") == "":
		fail(errInvalidRequest, "nonce is required")
	case state == "":
		fail(errInvalidRequest, "state is required")
	case get("login_hint") == "":
		fail(errLoginRequired, "login_hint is required")
	case hint == "":
		fail(errInvalidRequest, "lti_message_hint is required")
	case !okHint:
		fail(errInvalidRequest, "lti_message_hint is unknown, expired or already used; reopen the activity from the course")
	case pl.ClientID != clientID:
		fail(errInvalidRequest, "lti_message_hint was issued for another client")
	case pl.UserID != get("login_hint"):
		fail(errLoginRequired, "login_hint does not match the signed-in user")
	default:
		p.issue(w, r, tool, pl, redirectURI, state, get("nonce"))
	}
}

func (p *Platform) issue(w http.ResponseWriter, r *http.Request, tool Tool, pl *pendingLaunch, redirectURI, state, nonce string) {
	claims, err := p.idTokenClaims(pl, nonce)
	if err == nil {
		var token string
		if token, err = p.SignIDToken(claims, pl.Tamper); err == nil {
			p.log.InfoContext(r.Context(), "launch issued",
				slog.String("client_id", tool.ClientID), slog.String("user", pl.UserID),
				slog.String("course", pl.CourseID), slog.String("resource_link", pl.ResourceLinkID),
				slog.String("message_type", pl.MessageType))
			p.formPost(w, r, redirectURI, pl.StorageTarget, [][2]string{
				{"id_token", token}, {"state", state},
			})
			return
		}
	}
	p.log.ErrorContext(r.Context(), "cannot issue id_token", slog.Any("err", err))
	p.formPost(w, r, redirectURI, "", [][2]string{
		{"error", errServerError}, {"error_description", "the platform could not issue the launch"}, {"state", state},
	})
}

// formPost answers with a page that posts fields to the tool. The form also
// works without JavaScript through a visible button.
func (p *Platform) formPost(w http.ResponseWriter, r *http.Request, action, storageTarget string, fields [][2]string) {
	page := autoPostPage{Action: action}
	for _, f := range fields {
		if f[1] != "" {
			page.Fields = append(page.Fields, field{Name: f[0], Value: f[1]})
		}
	}
	if storageTarget != "" {
		page.Fields = append(page.Fields, field{Name: "lti_storage_target", Value: storageTarget})
	}
	// Tokens must not be cached or leak through Referer.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	p.render(w, r, http.StatusOK, &page.layout, autoPostView(&page))
}

// authPage is the error page for requests that cannot be answered to a tool.
func (p *Platform) authPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p.log.InfoContext(r.Context(), "authorization request rejected", slog.String("detail", msg))
	w.Header().Set("Cache-Control", "no-store")
	pg := &errorPage{layout: p.layout("Launch failed"), Message: msg}
	p.render(w, r, status, &pg.layout, errorView(pg))
}
