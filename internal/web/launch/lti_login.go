package launch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// browserCookie binds a login's state to the browser that started it. It is
// partitioned (CHIPS) so it still works inside an LMS iframe where
// third-party cookies are blocked.
const browserCookie = "rt_browser"

type loginStoragePage struct {
	L              kit.Layout
	Target         string
	PlatformOrigin string
	State          string
	Nonce          string
	Next           string
}

// storageLayout is the layout of the sign-in pages that go through the
// LMS's storage (platform-storage.js).
func (s *Handlers) storageLayout() kit.Layout {
	l := s.Layout("Signing in")
	l.Scripts = []string{"js/platform-storage.js"}
	return l
}

// Login answers an OIDC third-party initiated login (GET or POST).
// Anyone can start one: loginLimit bounds how many one client address
// starts. A login writes nothing, so unfinished ones cost no storage.
func (s *Handlers) Login(c echo.Context) error {
	ctx := c.Request().Context()
	if err := c.Request().ParseForm(); err != nil {
		return s.rejectLTI(c, "", &lti.Error{Reason: lti.ReasonMalformedRequest, Message: "The sign-in request from your course was malformed.", Detail: err.Error()})
	}
	req, err := lti.ParseLoginRequest(c.Request().Form)
	if err != nil {
		return s.rejectLTI(c, s.loginPlatform(c, req), err)
	}
	if !s.ours(req.TargetLinkURI) {
		return s.rejectLTI(c, s.loginPlatform(c, req), (&lti.Error{Reason: lti.ReasonBadTargetLinkURI,
			Message: "Your course asked to open an address that is not part of this Roundtable. Please tell your LMS administrator.",
			Detail:  "target_link_uri " + req.TargetLinkURI + " is not under " + s.BaseURL.String()}).WithGiven("target_link_uri", req.TargetLinkURI))
	}
	// The login stores nothing: its state goes to the platform sealed, and
	// comes back with the launch.
	reg, deploymentKnown, err := s.Registry.FindForLogin(ctx, req.Issuer, req.ClientID, req.DeploymentID)
	if err != nil {
		// A disabled or pending platform is named; an unknown or
		// ambiguous one is not.
		return s.rejectLTI(c, reg.ID, err)
	}
	if req.DeploymentID != "" && !deploymentKnown {
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
	}
	ls, err := s.Sessions.NewLoginState(reg.ID, hashBrowser(s.browserID(c)), req.StorageTarget)
	if err != nil {
		return s.rejectLTI(c, reg.ID, &lti.Error{Reason: lti.ReasonMalformedRequest, Message: "The sign-in request from your course was malformed.", Detail: err.Error()})
	}
	authURL, err := lti.AuthRequestURL(reg, req, s.URL("/lti/launch"), ls.State, ls.Nonce)
	if err != nil {
		return s.rejectLTI(c, reg.ID, err)
	}
	if req.StorageTarget == "" {
		return c.Redirect(http.StatusFound, authURL)
	}
	// The platform offers storage: keep state and nonce there too, then go on.
	s.FrameBy(c, tenant.FrameOrigins(reg.Issuer, reg.AuthURL))
	return s.RenderPage(c, http.StatusOK, loginStorageView(loginStoragePage{
		L: s.storageLayout(), Target: req.StorageTarget, PlatformOrigin: origin(reg.AuthURL),
		State: ls.State, Nonce: ls.Nonce, Next: authURL,
	}))
}

// loginPlatform is the id of the platform a refused login names, when the
// registry knows it (issuer and client id, or an issuer with one
// registration), so the refusal shows on that platform's health; empty
// otherwise.
func (s *Handlers) loginPlatform(c echo.Context, req lti.LoginRequest) string {
	if req.Issuer == "" || len(req.Issuer) > 1024 || len(req.ClientID) > 1024 {
		return ""
	}
	reg, _, err := s.Registry.FindForLogin(c.Request().Context(), req.Issuer, req.ClientID, "")
	var le *lti.Error
	if err != nil && !errors.As(err, &le) {
		s.Logger.WarnContext(c.Request().Context(), "cannot find the platform of a refused login", slog.Any("error", err))
	}
	return reg.ID
}

func unknownDeployment(id string) *lti.Error {
	return (&lti.Error{Reason: lti.ReasonUnknownDeployment,
		Message: "This deployment of Roundtable in your LMS is not registered. Please ask your LMS administrator to register it.",
		Detail:  "deployment " + id + " is not registered"}).WithGiven("deployment_id", id)
}

// browserID returns the browser's binding cookie, setting a new one when the
// browser has none.
func (s *Handlers) browserID(c echo.Context) string {
	if v, ok := s.Cookie(c, browserCookie); ok && len(v) >= 32 && len(v) <= 64 {
		return v
	}
	id := lti.RandomToken(32)
	c.SetCookie(s.CrossSiteCookie(browserCookie, id, time.Hour))
	return id
}

func hashBrowser(id string) string {
	sum := sha256.Sum256([]byte("browser\x00" + id))
	return hex.EncodeToString(sum[:])
}

// ours reports whether a URL is under the tool's base URL.
func (s *Handlers) ours(raw string) bool {
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
// it on the platform's health (its typed reason and, labelled as the
// request's, the values it names; at most once a minute per platform), and
// answers the person with a clear page.
func (s *Handlers) rejectLTI(c echo.Context, platformID string, err error) error {
	le, ok := err.(*lti.Error)
	if !ok {
		return err
	}
	ctx := c.Request().Context()
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	s.Logger.WarnContext(ctx, "lti launch refused",
		slog.String("request_id", ref), slog.String("path", c.Request().URL.Path),
		slog.String("reason", string(le.Reason)), slog.String("detail", le.Detail), slog.String("platform", platformID))
	// The page is shown in the frame of the platform it names, whatever
	// its status, so the person reads it where they are.
	if !kit.Framed(c) {
		framing := platformID
		if framing == "" {
			framing = le.RegistrationID
		}
		s.FrameByPlatform(c, framing)
	}
	if platformID != "" {
		if _, rerr := s.Registry.RecordRefusal(ctx, platformID, le); rerr != nil {
			s.Logger.WarnContext(ctx, "cannot record platform error", slog.String("platform", platformID), slog.Any("error", rerr))
		}
	}
	return le
}
