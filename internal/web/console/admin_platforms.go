package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/lti"
)

// platformView is a registration as the console shows it.
type platformView struct {
	tenant.Platform
	StatusLabel string
	StatusClass string
	Family      string
	LastLaunch  kit.TimeView
	// ErrorReason names the latest recorded refusal's reason; the
	// request's words are in LastError.
	ErrorReason string
	LastErrorAt kit.TimeView
	Created     kit.TimeView
	Updated     kit.TimeView
	// ScopesGranted is when the granted scopes last changed.
	ScopesGranted kit.TimeView
}

// familyName is what people call a registration's LMS family; "" when
// it is not known.
func familyName(code string) string {
	if code == "" {
		return ""
	}
	return lms.ByCode(code).Name()
}

func (s *Handlers) platformView(p tenant.Platform) platformView {
	v := platformView{Platform: p, Family: familyName(p.LMSFamily),
		LastLaunch: s.TimeView(p.LastLaunchAt), LastErrorAt: s.TimeView(p.LastErrorAt),
		Created: s.TimeView(&p.CreatedAt), Updated: s.TimeView(&p.UpdatedAt), ScopesGranted: s.TimeView(p.ScopesGrantedAt)}
	if p.LastErrorReason != "" {
		v.ErrorReason = refusalReason(p.LastErrorReason)
	}
	switch p.Status {
	case tenant.StatusActive:
		v.StatusLabel, v.StatusClass = "Active", "ok"
	case tenant.StatusPending:
		v.StatusLabel, v.StatusClass = "Pending approval", "warn"
	case tenant.StatusDisabled:
		v.StatusLabel, v.StatusClass = "Disabled", "off"
	default:
		v.StatusLabel, v.StatusClass = p.Status, "off"
	}
	return v
}

type adminPlatformsPage struct {
	L         kit.Layout
	A         adminBar
	Platforms []platformView
	Pending   int
}

func (s *Handlers) Platforms(c echo.Context) error {
	ps, err := s.Registry.List(c.Request().Context())
	if err != nil {
		return err
	}
	page := adminPlatformsPage{L: s.Layout("Platforms"), A: s.adminBar(c, "platforms")}
	for _, p := range ps {
		page.Platforms = append(page.Platforms, s.platformView(p))
		if p.Status == tenant.StatusPending {
			page.Pending++
		}
	}
	return s.RenderPage(c, http.StatusOK, adminPlatformsView(page))
}

type adminPlatformPage struct {
	L          kit.Layout
	A          adminBar
	P          platformView
	Deployment formField
	Errors     []formField
	Keys       platformKeys
	Org        platformOrg
}

// platformOrg is the registration's organisation, and the others it may
// be attached to.
type platformOrg struct {
	ID, Name string
	// Others counts the organisation's other registrations.
	Others  int
	Choices []tenant.Organisation
	Error   string
}

// platformPageErrors are the problems a form of the platform page met.
type platformPageErrors struct {
	deployment string
	keys       string
	org        string
}

// platform loads the :id platform, or answers 404.
func (s *Handlers) platform(c echo.Context) (tenant.Platform, error) {
	p, err := s.Registry.Get(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return p, echo.NewHTTPError(http.StatusNotFound, "There is no such platform. It may have been deleted.")
	}
	return p, err
}

func (s *Handlers) Platform(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	return s.renderPlatformPage(c, http.StatusOK, p, platformPageErrors{})
}

func (s *Handlers) renderPlatform(c echo.Context, status int, p tenant.Platform, deploymentErr string) error {
	return s.renderPlatformPage(c, status, p, platformPageErrors{deployment: deploymentErr})
}

func (s *Handlers) renderPlatformPage(c echo.Context, status int, p tenant.Platform, errs platformPageErrors) error {
	keys, err := s.registrationKeys(c, p)
	if err != nil {
		return err
	}
	keys.Error = errs.keys
	deploymentErr := errs.deployment
	org, err := s.platformOrg(c, p)
	if err != nil {
		return err
	}
	org.Error = errs.org
	page := adminPlatformPage{L: s.Layout(p.Name), A: s.adminBar(c, "platforms"), P: s.platformView(p), Keys: keys, Org: org,
		Deployment: formField{Name: "deployment_id", Label: "Deployment ID", Hint: "As the LMS shows it for the new place where Roundtable is installed.",
			Required: true, Error: deploymentErr, Value: c.FormValue("deployment_id")}}
	if deploymentErr == "" {
		page.Deployment.Value = ""
	}
	page.Deployment.prepare()
	if deploymentErr != "" {
		page.Deployment.Autofocus = true
		page.Errors = []formField{page.Deployment}
	}
	return s.RenderPage(c, status, adminPlatformView(page))
}

func (s *Handlers) DeploymentAdd(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	d := strings.TrimSpace(c.FormValue("deployment_id"))
	switch {
	case d == "":
		return s.renderPlatform(c, http.StatusUnprocessableEntity, p, "Enter the deployment ID.")
	case len(d) > 255:
		return s.renderPlatform(c, http.StatusUnprocessableEntity, p, "A deployment ID is at most 255 characters long.")
	}
	for _, have := range p.Deployments {
		if have == d {
			return s.renderPlatform(c, http.StatusUnprocessableEntity, p, fmt.Sprintf("Deployment %s is already registered for this platform.", d))
		}
	}
	if err := s.Registry.AddDeployment(c.Request().Context(), p.ID, d); err != nil {
		return err
	}
	s.adminLog(c, "deployment added", slog.String("platform", p.ID), slog.String("deployment_id", d))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=deployment-added")
}

func (s *Handlers) platformOrg(c echo.Context, p tenant.Platform) (platformOrg, error) {
	orgs, err := s.Registry.Organisations(c.Request().Context())
	if err != nil {
		return platformOrg{}, err
	}
	out := platformOrg{ID: p.OrgID}
	for _, o := range orgs {
		if o.ID == p.OrgID {
			out.Name, out.Others = o.Name, len(o.Registrations)-1
			continue
		}
		out.Choices = append(out.Choices, o)
	}
	return out, nil
}

// PlatformAttach attaches the registration to another organisation,
// once the admin confirmed what it means. It is refused while the
// registration's organisation holds people or courses: Roundtable does
// not move them.
func (s *Handlers) PlatformAttach(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	orgID := c.FormValue("org_id")
	if c.FormValue("confirm") != "1" {
		return s.renderPlatformPage(c, http.StatusUnprocessableEntity, p, platformPageErrors{
			org: "Confirm that this LMS's people are the chosen organisation's before attaching it."})
	}
	if err := s.Registry.Attach(c.Request().Context(), p.ID, orgID); err != nil {
		var re *roundtable.Error
		if errors.As(err, &re) && (re.Code == roundtable.ECONFLICT || re.Code == roundtable.ENOTFOUND) {
			return s.renderPlatformPage(c, http.StatusConflict, p, platformPageErrors{org: re.Message})
		}
		return err
	}
	s.adminLog(c, "platform attached to an organisation", slog.String("platform", p.ID), slog.String("from", p.OrgID), slog.String("organisation", orgID))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=attached")
}

func (s *Handlers) DeploymentRemove(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	d := c.FormValue("deployment_id")
	if err := s.Registry.RemoveDeployment(c.Request().Context(), p.ID, d); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "This platform has no such deployment.")
		}
		return err
	}
	s.adminLog(c, "deployment removed", slog.String("platform", p.ID), slog.String("deployment_id", d))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=deployment-removed")
}

// PlatformStatus approves a pending platform, disables one, or
// enables a disabled one; the last path segment says which.
func (s *Handlers) PlatformStatus(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	path := c.Path()
	action := path[strings.LastIndex(path, "/")+1:]
	var to, done string
	switch {
	case action == "approve" && p.Status == tenant.StatusPending:
		to, done = tenant.StatusActive, "approved"
	case action == "enable" && p.Status == tenant.StatusDisabled:
		to, done = tenant.StatusActive, "enabled"
	case action == "disable" && p.Status != tenant.StatusDisabled:
		to, done = tenant.StatusDisabled, "disabled"
	default:
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("%s is %s: it cannot be %s. Reload its page to see its current state.",
			p.Name, s.platformView(p).StatusLabel, map[string]string{"approve": "approved", "enable": "enabled", "disable": "disabled"}[action]))
	}
	if err := s.Registry.SetStatus(c.Request().Context(), p.ID, to); err != nil {
		return err
	}
	s.adminLog(c, "platform "+done, slog.String("platform", p.ID))
	if to == tenant.StatusActive && s.Grades != nil {
		// The scores held while it was disabled go out now (the grade
		// sweep would send them within a minute otherwise).
		if n, err := s.Grades.Release(c.Request().Context(), p.ID); err != nil {
			s.Logger.WarnContext(c.Request().Context(), "cannot queue the scores held for a platform; the grade sweep retries", slog.String("platform", p.ID), slog.Any("error", err))
		} else if n > 0 {
			s.adminLog(c, "held grades released", slog.String("platform", p.ID), slog.Int("count", n))
		}
	}
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done="+done)
}

type adminDeletePage struct {
	L     kit.Layout
	A     adminBar
	P     platformView
	Usage tenant.Usage
}

func (s *Handlers) PlatformDeleteConfirm(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	u, err := s.Registry.Usage(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return s.RenderPage(c, http.StatusOK, adminDeleteView(adminDeletePage{L: s.Layout("Delete " + p.Name), A: s.adminBar(c, "platforms"), P: s.platformView(p), Usage: u}))
}

func (s *Handlers) PlatformDelete(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	if err := s.Registry.Remove(c.Request().Context(), p.ID); err != nil {
		return err
	}
	s.adminLog(c, "platform deleted", slog.String("platform", p.ID), slog.String("issuer", p.Issuer), slog.String("client_id", p.ClientID))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms?done=deleted")
}

// formField is one labelled field of a console form.
type formField struct {
	Name      string // the form field name; the element id is "f-" + Name
	Label     string
	Hint      string
	Type      string
	Value     string
	Error     string
	Required  bool
	Multiline bool
	Autofocus bool
	// DescribedBy lists the ids of the hint and the error.
	DescribedBy string
}

func (f *formField) prepare() {
	if f.Type == "" {
		f.Type = "text"
	}
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	f.DescribedBy = strings.Join(ids, " ")
}

type adminPlatformFormPage struct {
	L       kit.Layout
	A       adminBar
	Editing bool
	P       tenant.Platform
	Action  string
	Fields  []formField
	Errors  []formField
	// Keys names the registration's own JWKS and Canvas configuration
	// URLs: chosen with its id before it is saved, since the LMS needs
	// them before it gives the client id.
	Keys platformKeys
}

// platformFields lists the registration form's fields, with the Platform
// field each one fills.
var platformFields = []struct {
	field, name, label, hint, typ string
	required, multiline           bool
}{
	{"Name", "name", "Name", "A name you will recognise, such as \"Moodle (example.edu)\".", "text", true, false},
	{"Issuer", "issuer", "Issuer (platform ID)", "The URL that identifies the LMS, sent in every launch as iss.", "url", true, false},
	{"ClientID", "client_id", "Client ID", "The id the LMS gave this registration of Roundtable.", "text", true, false},
	{"AuthURL", "auth_url", "Authentication request URL", "The LMS's OpenID Connect authorization endpoint.", "url", true, false},
	{"TokenURL", "token_url", "Access token URL", "The LMS's OAuth2 token endpoint, for grades and rosters.", "url", false, false},
	{"TokenAudience", "token_audience", "Token audience", "Only for an LMS whose token endpoint wants an audience besides its URL (Brightspace: its OAuth2 audience). Client assertions always name the access token URL first. Leave empty otherwise.", "text", false, false},
	{"JWKSURL", "jwks_url", "Public keyset URL", "The LMS's JWKS URL. Roundtable downloads it before saving.", "url", true, false},
	{"Deployments", "deployments", "Deployment IDs", "One per line: one for each place the LMS installed Roundtable.", "", true, true},
}

// platformPresets fill the form for the LMS families whose cloud service
// has the same URLs for every customer, by family code.
var platformPresets = func() map[string]tenant.Platform {
	presets := map[string]tenant.Platform{}
	for _, f := range lms.Families() {
		if e, ok := f.CloudEndpoints(); ok {
			presets[f.Code()] = tenant.Platform{Name: f.Name(), Issuer: e.Issuer, AuthURL: e.AuthURL, TokenURL: e.TokenURL, JWKSURL: e.JWKSURL}
		}
	}
	return presets
}()

func (s *Handlers) renderPlatformForm(c echo.Context, status int, p tenant.Platform, editing bool, errs map[string]string) error {
	if !editing && !tenant.ValidID(p.ID) {
		p.ID = store.NewID()
	}
	page := adminPlatformFormPage{A: s.adminBar(c, "platforms"), Editing: editing, P: p, Action: "/admin/platforms/new",
		Keys: platformKeys{JWKSURL: s.JWKSURL(p.ID), CanvasConfigURL: s.canvasConfigURL(p.ID)}}
	page.L = s.Layout("Add a platform")
	if editing {
		page.L = s.Layout("Edit " + p.Name)
		page.Action = "/admin/platforms/" + p.ID + "/edit"
	}
	values := map[string]string{
		"Name": p.Name, "Issuer": p.Issuer, "ClientID": p.ClientID, "AuthURL": p.AuthURL, "TokenURL": p.TokenURL,
		"TokenAudience": p.TokenAudience, "JWKSURL": p.JWKSURL, "Deployments": strings.Join(p.Deployments, "\n"),
	}
	for _, pf := range platformFields {
		f := formField{Name: pf.name, Label: pf.label, Hint: pf.hint, Type: pf.typ, Value: values[pf.field],
			Error: errs[pf.field], Required: pf.required, Multiline: pf.multiline}
		f.prepare()
		if f.Error != "" {
			f.Autofocus = len(page.Errors) == 0
			page.Errors = append(page.Errors, f)
		}
		page.Fields = append(page.Fields, f)
	}
	return s.RenderPage(c, status, adminPlatformFormView(page))
}

func (s *Handlers) PlatformNew(c echo.Context) error {
	p := platformPresets[c.QueryParam("preset")]
	// The LMS setup page chose the id whose URLs it showed.
	p.ID = c.QueryParam("id")
	return s.renderPlatformForm(c, http.StatusOK, p, false, nil)
}

func (s *Handlers) PlatformEdit(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	return s.renderPlatformForm(c, http.StatusOK, p, true, nil)
}

// platformFromForm reads the registration form.
func platformFromForm(c echo.Context) tenant.Platform {
	p := tenant.Platform{
		Name: strings.TrimSpace(c.FormValue("name")), Issuer: strings.TrimSpace(c.FormValue("issuer")),
		ClientID: strings.TrimSpace(c.FormValue("client_id")), AuthURL: strings.TrimSpace(c.FormValue("auth_url")),
		TokenURL: strings.TrimSpace(c.FormValue("token_url")), TokenAudience: strings.TrimSpace(c.FormValue("token_audience")),
		JWKSURL: strings.TrimSpace(c.FormValue("jwks_url")),
	}
	if id := c.FormValue("id"); tenant.ValidID(id) {
		p.ID = id // chosen by the form, whose URLs the LMS may hold already
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(c.FormValue("deployments"), "\n") {
		if d := strings.TrimSpace(line); d != "" && !seen[d] {
			seen[d] = true
			p.Deployments = append(p.Deployments, d)
		}
	}
	return p
}

// checkPlatform validates a submitted registration field by field, then
// downloads and parses its key set.
func (s *Handlers) checkPlatform(ctx context.Context, p tenant.Platform) map[string]string {
	errs := map[string]string{}
	for _, fe := range p.FieldErrors() {
		errs[fe.Field] = fe.Message
	}
	if len(p.Deployments) == 0 {
		errs["Deployments"] = "Enter at least one deployment ID."
	}
	for _, d := range p.Deployments {
		if len(d) > 255 {
			errs["Deployments"] = "A deployment ID is at most 255 characters long."
		}
	}
	if _, bad := errs["JWKSURL"]; !bad {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := lti.FetchKeySet(ctx, s.adminHTTP(), p.JWKSURL); err != nil {
			errs["JWKSURL"] = "Roundtable could not use the key set at this URL (" + err.Error() + "). Check the URL: it must return the LMS's public keys as a JSON Web Key Set."
		}
	}
	return errs
}

// adminHTTP fetches key sets from URLs an admin typed, which can name
// any address: it is guarded like every request to an LMS.
func (s *Handlers) adminHTTP() *http.Client {
	if s.AdminHTTP != nil {
		return s.AdminHTTP
	}
	return egress.NewClient(egress.Config{Timeout: 10 * time.Second})
}

// savePlatform answers a failed save with the form and its errors.
func (s *Handlers) savePlatformError(c echo.Context, p tenant.Platform, editing bool, err error) error {
	switch roundtable.ErrorCode(err) {
	case roundtable.ECONFLICT:
		if !tenant.IsClientIDTaken(err) {
			return s.renderPlatformForm(c, http.StatusConflict, p, editing, map[string]string{"Name": roundtable.ErrorMessage(err) + "."})
		}
		return s.renderPlatformForm(c, http.StatusConflict, p, editing, map[string]string{
			"ClientID": fmt.Sprintf("Another registration of the LMS with issuer %s already holds client ID %s: an LMS gives each registration its own client ID. Check the client ID, or edit that registration.", p.Issuer, p.ClientID)})
	case roundtable.EINVALID:
		return s.renderPlatformForm(c, http.StatusUnprocessableEntity, p, editing, map[string]string{"Name": roundtable.ErrorMessage(err)})
	}
	return err
}

func (s *Handlers) PlatformCreate(c echo.Context) error {
	p := platformFromForm(c)
	if errs := s.checkPlatform(c.Request().Context(), p); len(errs) > 0 {
		return s.renderPlatformForm(c, http.StatusUnprocessableEntity, p, false, errs)
	}
	p.Status = tenant.StatusActive
	saved, err := s.Registry.Add(c.Request().Context(), p)
	if err != nil {
		return s.savePlatformError(c, p, false, err)
	}
	s.adminLog(c, "platform added", slog.String("platform", saved.ID), slog.String("issuer", saved.Issuer), slog.String("client_id", saved.ClientID))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+saved.ID+"?done=added")
}

func (s *Handlers) PlatformUpdate(c echo.Context) error {
	old, err := s.platform(c)
	if err != nil {
		return err
	}
	p := platformFromForm(c)
	p.ID, p.Status = old.ID, old.Status
	if errs := s.checkPlatform(c.Request().Context(), p); len(errs) > 0 {
		return s.renderPlatformForm(c, http.StatusUnprocessableEntity, p, true, errs)
	}
	if _, err := s.Registry.Update(c.Request().Context(), p); err != nil {
		return s.savePlatformError(c, p, true, err)
	}
	s.adminLog(c, "platform edited", slog.String("platform", p.ID))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=saved")
}

// adminLog notes what an admin changed, and who.
func (s *Handlers) adminLog(c echo.Context, msg string, attrs ...slog.Attr) {
	sess, _ := c.Get(ctxAdmin).(admin.Session)
	attrs = append(attrs, slog.String("admin_id", sess.AdminID), slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)))
	s.Logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "admin: "+msg, attrs...)
}
