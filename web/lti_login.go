package web

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/session"
	"github.com/roundtable-lms/roundtable/tenant"
)

// browserCookie binds a login's state to the browser that started it. It is
// partitioned (CHIPS) so it still works inside an LMS iframe where
// third-party cookies are blocked.
const browserCookie = "rt_browser"

type loginStoragePage struct {
	L              Layout
	Target         string
	PlatformOrigin string
	State          string
	Nonce          string
	Next           string
}

// ltiLogin answers an OIDC third-party initiated login (GET or POST).
func (s *Server) ltiLogin(c echo.Context) error {
	ctx := c.Request().Context()
	if err := c.Request().ParseForm(); err != nil {
		return s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonMalformedRequest, Message: "The sign-in request from your course was malformed.", Detail: err.Error()})
	}
	req, err := lti.ParseLoginRequest(c.Request().Form)
	if err != nil {
		return s.rejectLTI(c, "", err)
	}
	if !s.ours(req.TargetLinkURI) {
		reg, _, err := s.Registry.FindForLogin(ctx, req.Issuer, req.ClientID, req.DeploymentID)
		if err != nil {
			return s.rejectLTI(c, "", err)
		}
		return s.rejectLTI(c, reg.ID, &lti.Error{Reason: lti.ReasonBadTargetLinkURI,
			Message: "Your course asked to open an address that is not part of this Roundtable. Please tell your LMS administrator.",
			Detail:  "target_link_uri " + req.TargetLinkURI + " is not under " + s.BaseURL.String()})
	}
	ls := session.LoginState{
		State:         lti.RandomToken(24),
		Nonce:         lti.RandomToken(24),
		BrowserHash:   hashBrowser(s.browserID(c)),
		TargetLinkURI: req.TargetLinkURI,
		StorageTarget: req.StorageTarget,
	}
	reg, _, saved, err := s.Sessions.BeginLogin(ctx, s.Registry, req.Issuer, req.ClientID, req.DeploymentID, ls)
	if err != nil {
		return s.rejectLTI(c, "", err)
	}
	ls.PlatformID = reg.ID
	if !saved {
		// An unknown deployment: a dynamic registration that returned no
		// deployment id learns it from its first launch, recorded once the
		// id_token is verified.
		awaits, err := s.Registry.AwaitsFirstDeployment(ctx, reg.ID)
		if err != nil {
			return err
		}
		if !awaits {
			return s.rejectLTI(c, reg.ID, unknownDeployment(req.DeploymentID))
		}
		if err := s.Sessions.SaveLoginState(ctx, ls); err != nil {
			return err
		}
	}
	authURL, err := lti.AuthRequestURL(reg, req, s.URL("/lti/launch"), ls.State, ls.Nonce)
	if err != nil {
		return s.rejectLTI(c, reg.ID, err)
	}
	if req.StorageTarget == "" {
		return c.Redirect(http.StatusFound, authURL)
	}
	// The platform offers storage: keep state and nonce there too, then go on.
	s.frameBy(c, tenant.FrameOrigins(reg.Issuer, reg.AuthURL))
	return s.render(c, http.StatusOK, "login_storage", loginStoragePage{
		L: s.layout("Signing in"), Target: req.StorageTarget, PlatformOrigin: origin(reg.AuthURL),
		State: ls.State, Nonce: ls.Nonce, Next: authURL,
	})
}

func unknownDeployment(id string) *lti.Error {
	return &lti.Error{Reason: lti.ReasonUnknownDeployment,
		Message: "This deployment of Roundtable in your LMS is not registered. Please ask your LMS administrator to register it.",
		Detail:  "deployment " + id + " is not registered"}
}

// browserID returns the browser's binding cookie, setting a new one when the
// browser has none.
func (s *Server) browserID(c echo.Context) string {
	if v, ok := s.cookie(c, browserCookie); ok && len(v) >= 32 && len(v) <= 64 {
		return v
	}
	id := lti.RandomToken(32)
	c.SetCookie(s.crossSiteCookie(browserCookie, id, time.Hour))
	return id
}

func hashBrowser(id string) string {
	sum := sha256.Sum256([]byte("browser\x00" + id))
	return hex.EncodeToString(sum[:])
}

// ours reports whether a URL is under the tool's base URL.
func (s *Server) ours(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == s.BaseURL.Scheme && u.Host == s.BaseURL.Host
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// rejectLTI logs a refused login or launch with its precise reason, notes
// it on the platform's health, and answers the person with a clear page.
func (s *Server) rejectLTI(c echo.Context, platformID string, err error) error {
	le, ok := err.(*lti.Error)
	if !ok {
		return err
	}
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	s.Logger.WarnContext(c.Request().Context(), "lti launch refused",
		slog.String("request_id", ref), slog.String("path", c.Request().URL.Path),
		slog.String("reason", string(le.Reason)), slog.String("detail", le.Detail), slog.String("platform", platformID))
	// The page is shown in the frame of the platform it names, whatever
	// its status, so the person reads it where they are.
	if !framed(c) {
		framing := platformID
		if framing == "" {
			framing = le.RegistrationID
		}
		s.frameByPlatform(c, framing)
	}
	if platformID != "" {
		if rerr := s.Registry.RecordError(c.Request().Context(), platformID, string(le.Reason)+": "+le.Detail); rerr != nil {
			s.Logger.Warn("cannot record platform error", slog.Any("error", rerr))
		}
	}
	return le
}
