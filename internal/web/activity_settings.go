package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// An activity's settings (course.Settings): the staff's page at
// /a/:link/settings, the form fields it shares with the deep-linking
// chooser (settingsFields and parseSettingsForm), and what the
// discussion's pages show of them. The fields every kind has are
// settingsFields'; each kind's own are its components (registerKindForm,
// by activity.Kind.Form) and are read and validated by the kind.

// settingsForm is what settingsFields shows: the settings,
// the values as typed, and the one field in error.
type settingsForm struct {
	S     course.Settings
	Typed map[string]string
	Field string
	Error string
}

type settingsFieldError struct{ Field, Message string }

// For is the error to show beside field, if it is the one in error.
func (f settingsForm) For(field string) settingsFieldError {
	if f.Field != field {
		return settingsFieldError{Field: field}
	}
	return settingsFieldError{Field: field, Message: f.Error}
}

// Num is a number field's value: as typed when the form came back with an
// error, else the setting's value.
func (f settingsForm) Num(field string, value int) string {
	if v, ok := f.Typed[field]; ok {
		return v
	}
	return strconv.Itoa(value)
}

// Kinds are the kinds of activity the settings fields offer.
func (settingsForm) Kinds() []activity.Kind { return activity.Kinds() }

// kindForm is one kind's own part of the settings form: the form, and
// the options of that kind.
type kindForm struct {
	settingsForm
	Form string
	O    activity.Options
}

// KindForms are the kinds' own fields, one set per form, in the kinds'
// order: the settings' options for their kind's form, a kind's defaults
// for the others (shown for a change of kind).
func (f settingsForm) KindForms() []kindForm {
	var out []kindForm
	seen := map[string]bool{}
	current, _ := activity.Lookup(f.S.Kind)
	for _, k := range activity.Kinds() {
		if seen[k.Form()] {
			continue
		}
		seen[k.Form()] = true
		opts := k.Options(nil)
		if current != nil && current.Form() == k.Form() {
			opts = current.Options(f.S.Options)
		}
		out = append(out, kindForm{settingsForm: f, Form: k.Form(), O: opts})
	}
	return out
}

// fields are the kind's own fieldsets, after who talks to whom.
func (k kindForm) fields() templ.Component { return kindForms.of(k.Form).fields.of(k) }

// completion are the kind's own fields inside the grading fieldset.
func (k kindForm) completion() templ.Component { return kindForms.of(k.Form).completion.of(k) }

// kindPart is a component of a kind's own settings fields, for its options.
type kindPart func(settingsForm, activity.Options) templ.Component

// of is the part for k's form, or nothing when the kind has none.
func (p kindPart) of(k kindForm) templ.Component {
	if p == nil {
		return templ.NopComponent
	}
	return p(k.settingsForm, k.O)
}

// kindFormParts are a kind's components in the settings form; either may
// be nil.
type kindFormParts struct {
	fields, completion kindPart
}

// kindFormRegistry holds each kind's components by its form's name
// (activity.Kind.Form). A kind without any shows none, and its errors
// show in the form's summary.
type kindFormRegistry struct {
	sync.RWMutex
	byForm map[string]kindFormParts
}

var kindForms = kindFormRegistry{byForm: map[string]kindFormParts{}}

// of are the components of a kind's form.
func (r *kindFormRegistry) of(form string) kindFormParts {
	r.RLock()
	defer r.RUnlock()
	return r.byForm[form]
}

// registerKindForm registers the components of a kind's own settings
// fields under its form's name: fields after who talks to whom and
// completion inside grading, either nil. Each is given the options as
// the kind's own type O. Adding a kind to the settings form is writing
// its components and registering them, next to them.
func registerKindForm[O activity.Options](form string, fields, completion func(settingsForm, O) templ.Component) (withdraw func()) {
	typed := func(c func(settingsForm, O) templ.Component) kindPart {
		if c == nil {
			return nil
		}
		return func(f settingsForm, opts activity.Options) templ.Component {
			o, _ := opts.(O)
			return c(f, o)
		}
	}
	kindForms.Lock()
	defer kindForms.Unlock()
	if _, ok := kindForms.byForm[form]; ok {
		panic("web: settings fields of kind form " + form + " registered twice")
	}
	kindForms.byForm[form] = kindFormParts{fields: typed(fields), completion: typed(completion)}
	return func() {
		kindForms.Lock()
		defer kindForms.Unlock()
		delete(kindForms.byForm, form)
	}
}

// typedValues are the values a form sent, to show back beside an error.
func typedValues(form url.Values) map[string]string {
	typed := make(map[string]string, len(form))
	for name, vs := range form {
		if len(vs) > 0 {
			typed[name] = vs[0]
		}
	}
	return typed
}

// parseSettingsForm reads the settingsFields form into st, then
// validates it: the fields every kind has here, the kind's own by the
// kind. Every field is read, so st holds what was sent even when the error
// (an *activity.InvalidSetting naming the field) asks to correct one. A
// checkbox left unticked is false; a number left empty keeps st's value.
func parseSettingsForm(c echo.Context, st *course.Settings) error {
	st.Kind = c.FormValue("kind")
	st.Instructions = strings.ReplaceAll(c.FormValue("instructions"), "\r\n", "\n")
	st.CohortPolicy = c.FormValue("cohort_policy")
	st.Graded = c.FormValue("graded") == "1"
	var bad error
	activity.ReadNumber(c, "group_size", "Learners per group", &st.GroupSize, &bad)
	activity.ReadNumber(c, "points", "Points", &st.Points, &bad)
	if k, ok := activity.Lookup(st.Kind); ok {
		opts, err := k.Options(st.Options).ReadForm(c)
		st.Options = opts
		if bad == nil {
			bad = err
		}
	}
	if bad != nil {
		return bad
	}
	return st.Validate()
}

type activitySettingsPage struct {
	kit.ActivityBase
	Settings settingsForm
	Action   string
	Saved    bool
	// Setup is staff's first launch of an activity nobody set up: the page
	// offers the defaults too, which go on to the discussion.
	Setup bool
	// ActivityTitle and CourseTitle name the activity as the LMS does, so
	// staff with several links in a course know which one they set up.
	ActivityTitle, CourseTitle string
}

// requireStaff refuses learners a staff page with a page they understand.
func requireStaff(sess session.Session, what string) error {
	if !sess.Roles.IsStaff() {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "Only the course's instructors and teaching assistants can %s. Go back to the discussion to continue.", what)
	}
	return nil
}

func (s *Server) activitySettings(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Activity settings")
	if err := requireStaff(sess, "change this activity's settings"); err != nil {
		return err
	}
	a, err := s.Courses.Activity(c.Request().Context(), sess.OrgID, sess.LinkID, sess.UserID, sess.CohortID)
	if err != nil {
		return err
	}
	st := a.Settings
	setup := c.QueryParam("setup") == "1" && !st.Configured
	if setup {
		b.L.Title = "Set up " + a.Title()
	}
	return s.RenderPage(c, http.StatusOK, activitySettingsView(activitySettingsPage{ActivityBase: b, Settings: settingsForm{S: st},
		Action: b.L.URL(b.Base + "/settings"), Saved: c.QueryParam("saved") == "1", Setup: setup,
		ActivityTitle: a.Title(), CourseTitle: a.Course.Title}))
}

func (s *Server) saveActivitySettings(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Activity settings")
	if err := requireStaff(sess, "change this activity's settings"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.Courses.Activity(ctx, sess.OrgID, sess.LinkID, sess.UserID, sess.CohortID)
	if err != nil {
		return err
	}
	st := a.Settings
	setup := c.FormValue("setup") == "1"
	if c.FormValue("use_defaults") == "1" {
		st = course.DefaultSettings(sess.OrgID, sess.LinkID)
	} else {
		err = parseSettingsForm(c, &st)
	}
	if err == nil {
		st.UpdatedBy = sess.UserID
		err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
			if err := s.Courses.SaveSettings(ctx, tx, st); err != nil || s.Grades == nil {
				return err
			}
			// A changed rule or grading re-scores every learner it concerns,
			// queued with the settings that changed it.
			return s.Grades.RecomputeActivity(ctx, tx, sess.OrgID, sess.LinkID)
		})
	}
	var bad *activity.InvalidSetting
	if errors.As(err, &bad) {
		form := settingsForm{S: st, Typed: typedValues(c.Request().PostForm), Field: bad.Field, Error: bad.Err.Message}
		b.L.Title = "Fix the activity settings"
		return s.RenderPage(c, http.StatusUnprocessableEntity, activitySettingsView(activitySettingsPage{ActivityBase: b, Settings: form,
			Action: b.L.URL(b.Base + "/settings"), Setup: setup, ActivityTitle: a.Title(), CourseTitle: a.Course.Title}))
	}
	if err != nil {
		return err
	}
	if setup && c.FormValue("use_defaults") == "1" {
		return s.SeeOther(c, b.Base, "")
	}
	return s.SeeOther(c, b.Base+"/settings?saved=1", "")
}

// activityView is what the discussion list shows of the activity's
// settings and cohorts.
type activityView struct {
	// Instructions are the staff's, rendered from Markdown.
	Instructions template.HTML
	// PostFirst is true for a learner who must post before seeing the
	// cohort's threads: the page shows a notice instead of the list.
	PostFirst bool
	// QuestionBoard offers questions only.
	QuestionBoard bool
	// CohortName names the cohort when it is not the whole course.
	CohortName string
	// Staff's: the settings page and the cohort switcher.
	SettingsURL string
	Switcher    *cohortSwitcher
}

func (s *Server) activityView(c echo.Context, sess session.Session, a course.Activity, b kit.ActivityBase) (activityView, error) {
	ctx := c.Request().Context()
	// The discussion pages serve the discussion kinds: their options say
	// what the pages offer.
	opts, _ := a.Settings.Options.(activity.DiscussionOptions)
	v := activityView{QuestionBoard: a.Settings.Kind == activity.KindQuestionBoard}
	if a.Settings.Instructions != "" {
		v.Instructions = renderedPosts.render(a.Settings.Instructions)
	}
	if a.Cohort.Key != "course" {
		v.CohortName = a.Cohort.Name
	}
	if opts.PostFirst && sess.Roles.Participant() {
		must, err := s.Discussions.MustPostFirst(ctx, kit.ViewerOf(c, sess))
		if err != nil {
			return v, err
		}
		v.PostFirst = must
	}
	// The settings and the cohort switcher are those of the session's
	// own activity, not of a space it reached.
	if sess.Roles.IsStaff() && !kit.ReachedSpace(c) {
		v.SettingsURL = b.L.URL(b.Base + "/settings")
		sw, err := s.cohortSwitcher(c, sess, b, a)
		if err != nil {
			return v, err
		}
		v.Switcher = &sw
	}
	return v, nil
}

// noAnonymous reports whether the activity turned anonymous posts off, for
// the forms that offer them.
func (s *Server) noAnonymous(c echo.Context, sess session.Session) (bool, error) {
	st, err := s.Courses.Settings(c.Request().Context(), sess.OrgID, sess.LinkID)
	if err != nil {
		return false, fmt.Errorf("activity settings: %w", err)
	}
	// As the discussion engine enforces it: only a discussion kind's
	// options turn anonymity off.
	opts, ok := st.Options.(activity.DiscussionOptions)
	return ok && !opts.AllowAnonymous, nil
}
