package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// RegistrationConfig says how LMSs register by LTI Dynamic Registration.
type RegistrationConfig struct {
	// Open makes a registered LMS active at once; otherwise it waits for
	// an administrator's approval.
	Open bool
	// Client fetches the LMS's configuration and posts the registration.
	// It must be a guarded client (internal/egress): the addresses come
	// from whoever opens /lti/register. Defaults to one that reaches only
	// public addresses.
	Client *http.Client
	// PerHour is how many registrations are accepted in an hour, all LMSs
	// together (0: 20).
	PerHour int
}

// Anyone may open /lti/register, and each visit makes Roundtable fetch and
// post to addresses the visitor chose: a client address gets a few tries,
// then one every few seconds.
const (
	registerEvery = 6 * time.Second
	registerBurst = 5
)

// RegisterLimit bounds how often one client address opens LTI Dynamic
// Registration (see registerEvery).
func (s *Handlers) RegisterLimit() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(registerEvery), Burst: registerBurst, ExpiresIn: 10 * time.Minute}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler:         s.registerTooOften,
	})
}

// Outcomes of a registration, shown on the register page.
const (
	outcomeRegistered = "registered"
	outcomePending    = "pending"
	outcomeFailed     = "failed"
	outcomeLimited    = "limited"
)

type registerPage struct {
	L       kit.Layout
	Outcome string
	// Done is true when the LMS is registered (active or pending).
	Done     bool
	Heading  string
	Message  string
	Platform string
	ClientID string
	Deploy   string
	// Scopes are those the LMS announced in its answer; what it grants
	// shows later, in its token answers.
	Scopes    []string
	Reference string
	// Answered says the LMS answered something the administrator can read
	// in the console under Reference.
	Answered bool
	// CloseAfter is the delay in milliseconds before the page tells the
	// LMS to close it; 0 leaves it open until the admin presses Close.
	CloseAfter int
}

// registerLayout is the registration page's layout: its script asks the
// LMS to close it.
func (s *Handlers) registerLayout() kit.Layout {
	l := s.Layout("Register Roundtable")
	l.Scripts = []string{"js/register-close.js"}
	return l
}

// toolDescription is what Roundtable asks of every LMS it registers with;
// jwksURL is the new registration's own JWKS URL.
func (s *Handlers) toolDescription(jwksURL string) lti.ToolDescription {
	launch := s.URL("/lti/launch")
	resourceLink, deepLinking := lms.Placements()
	return lti.ToolDescription{
		Name:          "Roundtable",
		Description:   "Cohort discussion, questions answered by peers and experts, peer review and learning playlists, inside your courses.",
		LoginURL:      s.URL("/lti/login"),
		RedirectURIs:  []string{launch},
		TargetLinkURI: launch,
		JWKSURL:       jwksURL,
		LogoURL:       s.URL(s.Asset("img/roundtable.svg")),
		Scopes:        wantedScopes,
		Claims:        []string{"iss", "sub", "name", "given_name", "family_name", "email", "picture", "locale"},
		Custom:        registrationCustom(),
		// Every family's placement names: each LMS takes those it knows.
		Messages: []lti.ToolMessage{
			{Type: lti.MessageResourceLink, TargetLinkURI: launch, Label: "Roundtable", Placements: resourceLink},
			{Type: lti.MessageDeepLinking, TargetLinkURI: launch, Label: "Add a Roundtable activity", Placements: deepLinking},
			// A gradebook's "review" of a learner's peer-review grade opens
			// their work (kept only where the LMS sends it).
			{Type: lti.MessageSubmissionReview, TargetLinkURI: launch, Label: "Roundtable: the learner's work and reviews"},
		},
	}
}

// wantedScopes are the LTI Advantage services Roundtable uses: grades
// (AGS) and class lists (NRPS).
var wantedScopes = []string{
	lti.AGSScopeLineItem, lti.AGSScopeLineItemReadOnly, lti.AGSScopeResultReadOnly, lti.AGSScopeScore,
	lti.NRPSScopeMembershipReadOnly,
}

// errRegistrationsCapped is a registration refused because the hour's
// allowance is spent.
type errRegistrationsCapped struct {
	limit      int
	retryAfter time.Duration
}

func (e *errRegistrationsCapped) Error() string {
	return fmt.Sprintf("%d dynamic registrations in the last hour, the most accepted (ROUNDTABLE_REGISTRATIONS_PER_HOUR)", e.limit)
}

// RegisterPlatform runs LTI Dynamic Registration with the LMS whose OpenID
// configuration is at configURL, and saves the LMS as active (open) or
// pending approval. Nothing is saved unless the LMS accepted the
// registration, and nothing is asked of the LMS once the hour's
// registrations are spent.
func (s *Handlers) RegisterPlatform(ctx context.Context, configURL, token string, open bool) (_ tenant.Platform, err error) {
	if err := s.registrationAllowance(ctx); err != nil {
		return tenant.Platform{}, err
	}
	client := s.Registration.Client
	if client == nil {
		client = egress.NewClient(egress.Config{Timeout: 15 * time.Second})
	}
	cfg, err := lti.FetchPlatformConfiguration(ctx, client, configURL, token)
	if err != nil {
		return tenant.Platform{}, err
	}
	// The registration signs with a key of its own, whose URL the LMS is
	// given in the request: make it for the registration's id first, and
	// keep nothing of it when the registration fails.
	id := store.NewID()
	if _, err := s.Keys.Rotate(ctx, id); err != nil {
		return tenant.Platform{}, err
	}
	defer func() {
		if err == nil {
			return
		}
		if ferr := s.Keys.Forget(context.WithoutCancel(ctx), id); ferr != nil {
			s.Logger.WarnContext(ctx, "cannot delete the key of a failed registration; it is deleted within the hour",
				slog.String("platform", id), slog.Any("error", ferr))
		}
	}()
	reg := cfg.ClientRegistration(s.toolDescription(s.JWKSURL(id)))
	answer, err := lti.RegisterClient(ctx, client, cfg.RegistrationEndpoint, token, reg)
	if err != nil {
		return tenant.Platform{}, err
	}
	status := tenant.StatusPending
	if open {
		status = tenant.StatusActive
	}
	p := tenant.FromDynamicRegistration(cfg, answer, reg.Scope, status)
	p.ID = id
	return s.Registry.AddDynamic(ctx, p)
}

// registrationAllowance refuses a registration when the last hour already
// saw Registration.PerHour of them. Two registrations racing for the last
// place may both pass: the bound is for floods, not for exact counts.
func (s *Handlers) registrationAllowance(ctx context.Context) error {
	limit := s.Registration.PerHour
	if limit <= 0 {
		limit = 20
	}
	now := s.Now()
	n, oldest, err := s.Registry.DynamicSince(ctx, now.Add(-time.Hour))
	if err != nil {
		return err
	}
	if n < limit {
		return nil
	}
	return &errRegistrationsCapped{limit: limit, retryAfter: max(oldest.Add(time.Hour).Sub(now), time.Minute)}
}

// registerTooOften answers a client address that opened /lti/register
// too often.
func (s *Handlers) registerTooOften(c echo.Context, ip string, _ error) error {
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	s.Logger.InfoContext(c.Request().Context(), "dynamic registration refused: too many attempts from one address",
		slog.String("request_id", ref), slog.String("client_ip", ip))
	s.FrameBy(c, tenant.RegistrationFrameOrigins(strings.TrimSpace(c.QueryParam("openid_configuration"))))
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(registerEvery/time.Second)))
	return s.RenderPage(c, http.StatusTooManyRequests, registerView(registerPage{L: s.registerLayout(), Reference: ref,
		Outcome: outcomeLimited, Heading: "Too many registration attempts",
		Message: "Roundtable received several registration attempts from your address in a short time. Wait a few seconds, then start the registration again from your LMS."}))
}

// Register is the tool's LTI Dynamic Registration initiation URL. The
// LMS opens it, usually in a frame, with openid_configuration and
// registration_token; the page tells the admin what happened and then asks
// the LMS to close it. Whoever opens it is not authenticated: the page
// says what went wrong in Roundtable's words, and what the LMS answered
// goes to the log and the admin console, under the page's reference.
func (s *Handlers) Register(c echo.Context) error {
	ctx := c.Request().Context()
	ref := c.Response().Header().Get(echo.HeaderXRequestID)
	configURL := strings.TrimSpace(c.QueryParam("openid_configuration"))
	token := c.QueryParam("registration_token")
	pg := registerPage{L: s.registerLayout(), Reference: ref}

	// The LMS that registers frames this page from the origin of its
	// configuration URL (for a Canvas school on its own domain, that
	// domain), checked as every LMS URL is.
	s.FrameBy(c, tenant.RegistrationFrameOrigins(configURL))

	if configURL == "" || len(configURL) > 2048 || len(token) > 8192 || !isWebURL(configURL) {
		pg.Outcome, pg.Heading = outcomeFailed, "This registration link is incomplete"
		pg.Message = "Roundtable registers with an LMS when the LMS opens this address with openid_configuration (the address of the LMS's configuration) and registration_token. Start the registration from your LMS's tool registration screen."
		return s.RenderPage(c, http.StatusBadRequest, registerView(pg))
	}

	p, err := s.RegisterPlatform(ctx, configURL, token, s.Registration.Open)
	if err != nil {
		return s.registrationFailed(c, pg, configURL, err)
	}
	s.Logger.InfoContext(ctx, "platform registered", slog.String("request_id", ref), slog.String("platform", p.ID),
		slog.String("issuer", p.Issuer), slog.String("client_id", p.ClientID), slog.String("status", p.Status), slog.String("lms_family", p.LMSFamily))
	pg.Done = true
	pg.Platform, pg.ClientID, pg.Scopes = p.Name, p.ClientID, strings.Fields(p.AnnouncedScopes)
	if len(p.Deployments) > 0 {
		pg.Deploy = p.Deployments[0]
	}
	if p.Status == tenant.StatusActive {
		pg.Outcome, pg.Heading = outcomeRegistered, "Roundtable is registered"
		pg.Message = "Your LMS and Roundtable are connected. Instructors can now add Roundtable activities to their courses."
	} else {
		pg.Outcome, pg.Heading = outcomePending, "Registered: waiting for approval"
		pg.Message = fmt.Sprintf("Your LMS and Roundtable are connected, but launches wait until the Roundtable administrator approves this LMS (within %d days, or the registration lapses). Until then, people who open Roundtable from a course see a page saying so.",
			int(tenant.PendingLifetime/(24*time.Hour)))
	}
	pg.CloseAfter = 4000
	return s.RenderPage(c, http.StatusOK, registerView(pg))
}

// registrationFailed answers a registration that did not happen: the
// page in Roundtable's words, a log line and a console entry with what
// the LMS said.
func (s *Handlers) registrationFailed(c echo.Context, pg registerPage, configURL string, err error) error {
	ctx := c.Request().Context()
	ref := pg.Reference
	var capped *errRegistrationsCapped
	if errors.As(err, &capped) {
		s.Logger.WarnContext(ctx, "dynamic registration refused: the hour's registrations are spent; raise ROUNDTABLE_REGISTRATIONS_PER_HOUR if they are genuine",
			slog.String("request_id", ref), slog.Int("per_hour", capped.limit), slog.String("client_ip", c.RealIP()), slog.String("openid_configuration", configURL))
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(capped.retryAfter.Seconds()))))
		pg.Outcome, pg.Heading = outcomeLimited, "Roundtable is not accepting registrations right now"
		pg.Message = fmt.Sprintf("Roundtable has accepted as many LMS registrations in the last hour as it takes. Try again in about %d minutes, starting from your LMS.",
			int(math.Ceil(capped.retryAfter.Minutes())))
		return s.RenderPage(c, http.StatusTooManyRequests, registerView(pg))
	}
	failure := tenant.RegistrationFailure{Reference: ref, ClientIP: c.RealIP(), OpenIDConfiguration: configURL}
	var le *lti.Error
	switch {
	case errors.As(err, &le):
		pg.Message = le.Message
		failure.Reason, failure.Message, failure.Detail = string(le.Reason), le.Message, le.Detail
		attrs := []slog.Attr{slog.String("request_id", ref), slog.String("reason", string(le.Reason)), slog.String("detail", le.Detail),
			slog.String("openid_configuration", configURL)}
		if a := le.Answer; a != nil {
			pg.Answered = true
			failure.AnswerStatus, failure.AnswerSaid, failure.AnswerBody = a.Status, a.Said, a.Body
			attrs = append(attrs, slog.Int("lms_status", a.Status), slog.String("lms_said", a.Said), slog.String("lms_body", a.Body))
		}
		s.Logger.LogAttrs(ctx, slog.LevelWarn, "dynamic registration failed", attrs...)
	case roundtable.ErrorCode(err) == roundtable.EINVALID || roundtable.ErrorCode(err) == roundtable.ECONFLICT:
		pg.Message = "Your LMS accepted the registration, but Roundtable cannot use what it returned, or already holds this registration. Remove the new tool from your LMS and tell your Roundtable administrator, quoting the reference below."
		failure.Reason, failure.Message, failure.Detail = "registration_not_saved", pg.Message, roundtable.ErrorMessage(err)
		s.Logger.WarnContext(ctx, "dynamic registration not saved", slog.String("request_id", ref), slog.Any("error", err))
	default:
		return err
	}
	if rerr := s.Registry.RecordRegistrationFailure(ctx, failure); rerr != nil {
		s.Logger.ErrorContext(ctx, "cannot keep the failed registration for the console", slog.String("request_id", ref), slog.Any("error", rerr))
	}
	pg.Outcome, pg.Heading = outcomeFailed, "Roundtable could not register with your LMS"
	return s.RenderPage(c, http.StatusBadGateway, registerView(pg))
}

func isWebURL(raw string) bool {
	return strings.HasPrefix(raw, "https://") || strings.HasPrefix(raw, "http://")
}

// CanvasConfig serves the JSON configuration a Canvas admin pastes (or
// points to) when adding Roundtable as an LTI 1.3 developer key. Each
// registration signs with keys of its own, so the configuration names the
// registration it is for (?platform=ID, the id the admin console chose
// for it) and gives that registration's JWKS URL; there is no key every
// Canvas would share.
func (s *Handlers) CanvasConfig(c echo.Context) error {
	id := c.QueryParam("platform")
	if !tenant.ValidID(id) {
		return c.JSON(http.StatusBadRequest, kit.Problem{Type: "about:blank", Title: "Name the registration", Status: http.StatusBadRequest,
			Detail: "Roundtable signs for each LMS registration with keys of its own, so its Canvas configuration is per registration. " +
				"Use the Canvas configuration URL shown in Roundtable's admin console (Register Roundtable in your LMS), which ends in ?platform= and the registration's id.",
			Reference: c.Response().Header().Get(echo.HeaderXRequestID)})
	}
	doc := lms.Canvas.DeveloperKey(lms.Tool{
		ID: "roundtable", Title: "Roundtable", Description: s.toolDescription("").Description,
		LoginURL: s.URL("/lti/login"), LaunchURL: s.URL("/lti/launch"),
		JWKSURL: s.JWKSURL(id), IconURL: s.URL(s.Asset("img/roundtable.svg")),
		Domain: s.BaseURL.Host, Scopes: wantedScopes, Custom: registrationCustom(),
	})
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, doc)
}
