package kit

import (
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
)

// An activity's settings form (course.Settings), which the staff's
// settings page and the deep-linking chooser share: the fields every kind
// has are SettingsFields'; each kind's own are its components
// (RegisterKindForm, by activity.Kind.Form) and are read and validated by
// the kind.

// SettingsScript is the script of pages showing SettingsFields (their
// layout's Scripts): the rubric builder's buttons and the peer review's
// time zone. The fields work without it.
const SettingsScript = "js/rubric.js"

// SettingsForm is what SettingsFields shows: the settings,
// the values as typed, and the one field in error.
type SettingsForm struct {
	S     course.Settings
	Typed map[string]string
	Field string
	Error string
}

type settingsFieldError struct{ Field, Message string }

// For is the error to show beside field, if it is the one in error.
func (f SettingsForm) For(field string) settingsFieldError {
	if f.Field != field {
		return settingsFieldError{Field: field}
	}
	return settingsFieldError{Field: field, Message: f.Error}
}

// Num is a number field's value: as typed when the form came back with an
// error, else the setting's value.
func (f SettingsForm) Num(field string, value int) string {
	if v, ok := f.Typed[field]; ok {
		return v
	}
	return strconv.Itoa(value)
}

// Kinds are the kinds of activity the settings fields offer.
func (SettingsForm) Kinds() []activity.Kind { return activity.Kinds() }

// kindForm is one kind's own part of the settings form: the form, and
// the options of that kind.
type kindForm struct {
	SettingsForm
	Form string
	O    activity.Options
}

// KindForms are the kinds' own fields, one set per form, in the kinds'
// order: the settings' options for their kind's form, a kind's defaults
// for the others (shown for a change of kind).
func (f SettingsForm) KindForms() []kindForm {
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
		out = append(out, kindForm{SettingsForm: f, Form: k.Form(), O: opts})
	}
	return out
}

// fields are the kind's own fieldsets, after who talks to whom.
func (k kindForm) fields() templ.Component { return kindForms.of(k.Form).fields.of(k) }

// completion are the kind's own fields inside the grading fieldset.
func (k kindForm) completion() templ.Component { return kindForms.of(k.Form).completion.of(k) }

// kindPart is a component of a kind's own settings fields, for its options.
type kindPart func(SettingsForm, activity.Options) templ.Component

// of is the part for k's form, or nothing when the kind has none.
func (p kindPart) of(k kindForm) templ.Component {
	if p == nil {
		return templ.NopComponent
	}
	return p(k.SettingsForm, k.O)
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

// RegisterKindForm registers the components of a kind's own settings
// fields under its form's name: fields after who talks to whom and
// completion inside grading, either nil. Each is given the options as
// the kind's own type O. Adding a kind to the settings form is writing
// its components and registering them, next to them.
func RegisterKindForm[O activity.Options](form string, fields, completion func(SettingsForm, O) templ.Component) (withdraw func()) {
	typed := func(c func(SettingsForm, O) templ.Component) kindPart {
		if c == nil {
			return nil
		}
		return func(f SettingsForm, opts activity.Options) templ.Component {
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

// TypedValues are the values a form sent, to show back beside an error.
func TypedValues(form url.Values) map[string]string {
	typed := make(map[string]string, len(form))
	for name, vs := range form {
		if len(vs) > 0 {
			typed[name] = vs[0]
		}
	}
	return typed
}

// ParseSettingsForm reads the SettingsFields form into st, then
// validates it: the fields every kind has here, the kind's own by the
// kind. Every field is read, so st holds what was sent even when the error
// (an *activity.InvalidSetting naming the field) asks to correct one. A
// checkbox left unticked is false; a number left empty keeps st's value.
func ParseSettingsForm(c echo.Context, st *course.Settings) error {
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
