package lti

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"strings"
)

// LoginRequest is an OIDC third-party initiated login from a platform.
type LoginRequest struct {
	Issuer        string
	LoginHint     string
	TargetLinkURI string
	MessageHint   string
	DeploymentID  string
	ClientID      string
	// StorageTarget names the window that offers LTI platform storage
	// through postMessage ("_parent", or a frame name); empty when the
	// platform offers none.
	StorageTarget string
}

// maxParam bounds each login parameter; real values are far shorter.
const maxParam = 4096

// ParseLoginRequest reads the login initiation parameters (query or form).
func ParseLoginRequest(v url.Values) (LoginRequest, error) {
	req := LoginRequest{
		Issuer:        v.Get("iss"),
		LoginHint:     v.Get("login_hint"),
		TargetLinkURI: v.Get("target_link_uri"),
		MessageHint:   v.Get("lti_message_hint"),
		DeploymentID:  v.Get("lti_deployment_id"),
		ClientID:      v.Get("client_id"),
		StorageTarget: v.Get("lti_storage_target"),
	}
	if req.DeploymentID == "" {
		// Canvas sends deployment_id instead of lti_deployment_id.
		req.DeploymentID = v.Get("deployment_id")
	}
	var missing []string
	for _, p := range []struct{ name, value string }{
		{"iss", req.Issuer}, {"login_hint", req.LoginHint}, {"target_link_uri", req.TargetLinkURI},
	} {
		if p.value == "" {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return req, reject(ReasonMalformedRequest, msgRelaunch, "login initiation lacks %s", strings.Join(missing, ", "))
	}
	for _, s := range []string{req.Issuer, req.LoginHint, req.TargetLinkURI, req.MessageHint, req.DeploymentID, req.ClientID, req.StorageTarget} {
		if len(s) > maxParam {
			return req, reject(ReasonMalformedRequest, msgRelaunch, "login parameter longer than %d bytes", maxParam)
		}
	}
	if u, err := url.Parse(req.TargetLinkURI); err != nil || !u.IsAbs() {
		return req, reject(ReasonBadTargetLinkURI, msgRelaunch, "target_link_uri %q is not an absolute URL", req.TargetLinkURI).WithGiven("target_link_uri", req.TargetLinkURI)
	}
	return req, nil
}

// AuthRequestURL is the platform's OIDC authorization URL that answers a
// login initiation: an implicit-flow request for an id_token posted back to
// redirectURI.
func AuthRequestURL(reg Registration, req LoginRequest, redirectURI, state, nonce string) (string, error) {
	// The stored URL goes into the Location header: check it again, in
	// case it was stored before the check existed.
	u, err := CheckWebURL(reg.AuthURL)
	if err != nil {
		return "", reject(ReasonMalformedRequest, msgMisconfigured, "registration %s has a bad auth URL: %v", reg.ID, err)
	}
	q := u.Query()
	q.Set("scope", "openid")
	q.Set("response_type", "id_token")
	q.Set("response_mode", "form_post")
	q.Set("prompt", "none")
	q.Set("client_id", reg.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("login_hint", req.LoginHint)
	if req.MessageHint != "" {
		q.Set("lti_message_hint", req.MessageHint)
	}
	q.Set("state", state)
	q.Set("nonce", nonce)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// RandomToken returns a URL-safe random string of n random bytes.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("lti: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
