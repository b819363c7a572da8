package launch

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// placementParam names the placement in the custom parameters of the links
// a placement creates, and in their launch URL: Canvas does not send back
// custom parameters set by deep linking.
const placementParam = "rt_placement"

// registrationCustom are the custom parameters Roundtable asks an LMS to
// send with every launch: the person's sections (Canvas), and the courses
// a course was copied from, which tell a copy from another course when a
// placed link is first opened (see course.Placement.AdoptableBy).
func registrationCustom() map[string]string {
	sections, variable := lms.SectionIDsRequest()
	return map[string]string{
		sections:                   variable,
		course.ContextHistoryParam: "$Context.id.history",
	}
}

// deepLinkLaunch answers a verified LtiDeepLinkingRequest: staff get the
// page that chooses what to place; the request's settings stay on the
// server, named by a secret the page carries.
func (s *Handlers) deepLinkLaunch(c echo.Context, state session.LoginState, launch *lti.Launch) error {
	ctx := c.Request().Context()
	roles := course.RolesFromLTI(launch.Roles)
	settings := launch.DeepLinking
	if !roles.IsStaff() && !roles.Has(course.ContentDeveloper) {
		if err := s.useLoginState(c, launch.Registration.ID, state); err != nil {
			return err
		}
		s.Logger.InfoContext(ctx, "deep linking refused: not staff", slog.String("platform", launch.Registration.ID),
			slog.String("roles", strings.Join(launch.RoleURIs, " ")))
		return s.RenderPage(c, http.StatusForbidden, kit.ErrorView(kit.ErrorPage{L: s.Layout("Only instructors can add activities"),
			Heading:   "Only instructors can add activities",
			Message:   "Adding Roundtable activities to a course is for its instructors and teaching assistants. Go back to your course to open the activities already there.",
			Reference: c.Response().Header().Get(echo.HeaderXRequestID)}))
	}
	if !settings.Accepts(lti.ContentTypeLTIResourceLink) {
		if err := s.useLoginState(c, launch.Registration.ID, state); err != nil {
			return err
		}
		s.Logger.InfoContext(ctx, "deep linking refused: resource links not accepted", slog.String("platform", launch.Registration.ID),
			slog.String("accept_types", strings.Join(settings.AcceptTypes, " ")))
		req := course.PlacementRequest{PlatformID: launch.Registration.ID, DeploymentID: launch.DeploymentID,
			ReturnURL: settings.DeepLinkReturnURL, Data: settings.Data}
		return s.answerDeepLink(c, http.StatusOK, req, nil, lti.DeepLinkingResponse{
			ErrorMsg: "Roundtable activities cannot be added from here: this LMS screen does not take external tool links.",
			ErrorLog: "accept_types " + strings.Join(settings.AcceptTypes, " ") + " has no ltiResourceLink"},
			"Roundtable cannot be added here",
			"This screen of your LMS only takes other kinds of content. Add Roundtable where your LMS offers external tools or LTI activities.")
	}
	req := course.PlacementRequest{PlatformID: launch.Registration.ID, DeploymentID: launch.DeploymentID,
		Subject: launch.Subject, UserName: launch.Name, ReturnURL: settings.DeepLinkReturnURL, Data: settings.Data,
		AcceptTypes: settings.AcceptTypes, AcceptTargets: settings.AcceptPresentationDocumentTargets,
		AcceptMultiple: settings.AcceptMultiple, AcceptLineItem: settings.AcceptLineItem, AutoCreate: settings.AutoCreate,
		Title: settings.Title, Text: settings.Text}
	if launch.Context != nil {
		req.ContextKey, req.ContextTitle = launch.Context.ID, launch.Context.Title
	}
	var secret string
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		used, err := s.Sessions.ConsumeLoginState(ctx, tx, state)
		if err != nil {
			return err
		}
		if !used {
			return errReplay
		}
		secret, err = s.Courses.OpenPlacementRequest(ctx, tx, req)
		return err
	})
	if le, ok := err.(*lti.Error); ok {
		return s.rejectLTI(c, launch.Registration.ID, le)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/lti/deep-link?"+url.Values{"dl": {secret}}.Encode())
}

// useLoginState spends a launch's login state that opens no session; a
// state already spent is a replay, refused as a launch is.
func (s *Handlers) useLoginState(c echo.Context, platformID string, state session.LoginState) error {
	ctx := c.Request().Context()
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		used, err := s.Sessions.ConsumeLoginState(ctx, tx, state)
		if err == nil && !used {
			return errReplay
		}
		return err
	})
	if le, ok := err.(*lti.Error); ok {
		return s.rejectLTI(c, platformID, le)
	}
	return err
}

type chooserPage struct {
	L       kit.Layout
	Secret  string
	Request course.PlacementRequest
	// Title is the activity's title as typed; empty takes its kind's
	// default title.
	Title      string
	TitleError string
	Settings   kit.SettingsForm
	Placed     []course.Placement
	Error      string
	Notice     string
	// Field is the field in error, for the summary's link to it.
	Field string
}

// DeepLinkChooser shows what an instructor can place.
func (s *Handlers) DeepLinkChooser(c echo.Context) error {
	secret := c.QueryParam("dl")
	req, err := s.Courses.PlacementRequest(c.Request().Context(), secret)
	if err != nil {
		return err
	}
	s.FrameByPlatform(c, req.PlatformID, req.ReturnURL)
	pg, err := s.chooser(c.Request().Context(), secret, req, "", kit.SettingsForm{S: course.DefaultSettings("", "")})
	if err != nil {
		return err
	}
	if c.QueryParam("added") != "" && len(pg.Placed) > 0 {
		pg.Notice = "Added “" + pg.Placed[len(pg.Placed)-1].Title + "”. Choose another, or place them all."
	}
	return s.RenderPage(c, http.StatusOK, chooserView(pg))
}

func (s *Handlers) chooser(ctx context.Context, secret string, req course.PlacementRequest, title string, form kit.SettingsForm) (chooserPage, error) {
	pg := chooserPage{L: s.Layout("Add a Roundtable activity"), Secret: secret, Request: req, Title: title, Settings: form}
	pg.L.Scripts = []string{kit.SettingsScript}
	for _, id := range req.Placed {
		p, err := s.Courses.Placement(ctx, req.PlatformID, id)
		if err != nil {
			return chooserPage{}, err
		}
		pg.Placed = append(pg.Placed, p)
	}
	return pg, nil
}

// DeepLinkChoose takes the chooser's form: place the activity (and any
// added before), add it and choose another, or cancel.
func (s *Handlers) DeepLinkChoose(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	// A peer review's rubric makes the form larger than most.
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		return roundtable.Errorf(roundtable.EINVALID, "The form could not be read.")
	}
	secret := r.PostForm.Get("dl")
	req, err := s.Courses.PlacementRequest(ctx, secret)
	if err != nil {
		return err
	}
	s.FrameByPlatform(c, req.PlatformID, req.ReturnURL)
	action := r.PostForm.Get("action")
	if action == "" {
		action = "place" // a form sent with Enter, or by a script, names no button
	}
	if action == "cancel" {
		done, placed, err := s.Courses.FinishPlacementRequest(ctx, secret)
		if err != nil {
			return err
		}
		ids := make([]string, len(placed))
		for i, p := range placed {
			ids[i] = p.ID
		}
		if err := s.Courses.DeletePlacements(ctx, done.PlatformID, ids); err != nil {
			s.Logger.WarnContext(ctx, "cannot remove cancelled placements", slog.Any("error", err))
		}
		return s.answerDeepLink(c, http.StatusOK, done, nil, lti.DeepLinkingResponse{
			Msg: "No Roundtable activity was added.", Log: "cancelled by the instructor"}, "", "")
	}
	if action != "place" && action != "add" {
		return roundtable.Errorf(roundtable.EINVALID, "Choose Place activity, Add another, or Cancel.")
	}
	if action == "add" && !req.AcceptMultiple {
		return roundtable.Errorf(roundtable.EINVALID, "Your LMS takes one activity at a time here: choose Place activity.")
	}
	title := r.PostForm.Get("title")
	st := course.DefaultSettings("", "")
	perr := kit.ParseSettingsForm(c, &st)
	if perr == nil {
		placed := title
		if strings.TrimSpace(placed) == "" {
			kind, _ := activity.Lookup(st.Kind)
			placed = kind.DefaultTitle()
		}
		_, perr = s.Courses.AddPlacement(ctx, secret, course.Placement{Title: placed, Settings: st})
	}
	if perr != nil {
		if roundtable.ErrorCode(perr) != roundtable.EINVALID {
			return perr
		}
		form := kit.SettingsForm{S: st, Typed: kit.TypedValues(r.PostForm)}
		pg, err := s.chooser(ctx, secret, req, title, form)
		if err != nil {
			return err
		}
		pg.Error = roundtable.ErrorMessage(perr)
		var bad *activity.InvalidSetting
		if errors.As(perr, &bad) {
			pg.Settings.Field, pg.Settings.Error, pg.Field = bad.Field, bad.Err.Message, bad.Field
		} else {
			pg.TitleError, pg.Field = pg.Error, "title"
		}
		return s.RenderPage(c, http.StatusBadRequest, chooserView(pg))
	}
	if action == "add" {
		return c.Redirect(http.StatusSeeOther, "/lti/deep-link?"+url.Values{"dl": {secret}, "added": {"1"}}.Encode())
	}
	done, placed, err := s.Courses.FinishPlacementRequest(ctx, secret)
	if err != nil {
		return err
	}
	items := make([]lti.ContentItem, 0, len(placed))
	titles := make([]string, 0, len(placed))
	for _, p := range placed {
		items = append(items, s.contentItem(p))
		titles = append(titles, p.Title)
	}
	// No msg: the LMS confirms what it added in its own words, and a
	// message of ours would say the same thing a second time.
	return s.answerDeepLink(c, http.StatusOK, done, items, lti.DeepLinkingResponse{
		Log: "placed " + strconv.Itoa(len(items)) + " Roundtable activities: " + strings.Join(titles, ", ")}, "", "")
}

// contentItem is the LMS link of a placement: it launches Roundtable and
// names the placement, and asks for a gradebook column when graded.
func (s *Handlers) contentItem(p course.Placement) lti.ContentItem {
	it := lti.ContentItem{Type: lti.ContentTypeLTIResourceLink, Title: p.Title, Text: markdown.PlainText(p.Settings.Instructions, 300),
		URL: s.URL("/lti/launch?" + url.Values{placementParam: {p.ID}}.Encode()), Custom: map[string]string{placementParam: p.ID}}
	if p.Settings.Graded {
		it.LineItem = &lti.LineItemSpec{ScoreMaximum: float64(p.Settings.Points), Label: p.Title, ResourceID: p.ID, Tag: "roundtable"}
	}
	return it
}

type deepLinkReturnPage struct {
	L       kit.Layout
	Action  string
	JWT     string
	Heading string
	Message string
	// Auto posts the answer at once; a page with something to read waits
	// for its button.
	Auto bool
}

// answerDeepLink signs the response to req and posts it back to the LMS
// from the browser: at once, or after the person read heading and message.
func (s *Handlers) answerDeepLink(c echo.Context, status int, req course.PlacementRequest, items []lti.ContentItem, resp lti.DeepLinkingResponse, heading, message string) error {
	ctx := c.Request().Context()
	reg, err := s.Registry.Get(ctx, req.PlatformID)
	if err != nil {
		return err
	}
	// Signed with the registration's own key: only its LMS trusts it.
	key, err := s.Keys.Signing(ctx, req.PlatformID)
	if err != nil {
		return err
	}
	resp.ClientID, resp.PlatformIssuer, resp.DeploymentID, resp.Data, resp.Items = reg.ClientID, reg.Issuer, req.DeploymentID, req.Data, items
	jwt, err := lti.SignDeepLinkingResponse(resp, key, s.Now())
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "deep linking response", slog.String("platform", req.PlatformID), slog.Int("items", len(items)),
		slog.String("log", resp.Log+resp.ErrorLog))
	pg := deepLinkReturnPage{L: s.Layout("Returning to your course"), Action: req.ReturnURL, JWT: jwt,
		Heading: heading, Message: message, Auto: heading == ""}
	if pg.Auto {
		pg.L.Scripts = []string{"js/autopost.js"}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.RenderPage(c, status, deepLinkReturnView(pg))
}

// placementOf is the placement a launch names: its custom parameter, or
// the query of its target link URI when the LMS dropped custom values.
func placementOf(l *lti.Launch) string {
	if id := strings.TrimSpace(l.Custom[placementParam]); id != "" {
		return id
	}
	if u, err := url.Parse(l.TargetLinkURI); err == nil {
		return strings.TrimSpace(u.Query().Get(placementParam))
	}
	return ""
}

// adoptPlacement gives a link without settings its placement's settings,
// and reports whether it did. An unknown id, another platform's, or one
// placed in another deployment or course (see course.Placement.AdoptableBy)
// is ignored with a log line: the link then behaves as one added by hand.
func (s *Handlers) adoptPlacement(ctx context.Context, plan *course.LaunchPlan, in course.LaunchInput, placementID string) (bool, error) {
	if placementID == "" || plan.HasSettings() {
		return false, nil
	}
	if len(placementID) > 100 {
		s.Logger.InfoContext(ctx, "launch names an invalid placement; ignored", slog.String("platform", in.PlatformID))
		return false, nil
	}
	p, err := s.Courses.Placement(ctx, in.PlatformID, placementID)
	if roundtable.ErrorCode(err) == roundtable.ENOTFOUND {
		s.Logger.InfoContext(ctx, "launch names an unknown placement; ignored", slog.String("platform", in.PlatformID), slog.String("placement", placementID))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !p.AdoptableBy(in) {
		s.Logger.WarnContext(ctx, "launch names a placement made in another deployment or course; ignored",
			slog.String("platform", in.PlatformID), slog.String("placement", placementID),
			slog.String("deployment", in.DeploymentID), slog.String("context", in.ContextID),
			slog.String("placed_in_deployment", p.DeploymentID), slog.String("placed_in_context", p.ContextKey))
		return false, nil
	}
	plan.AdoptSettings(p.Settings)
	return true, nil
}
