package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"

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
// chooser (kit.SettingsFields and kit.ParseSettingsForm), and what the
// discussion's pages show of them. The fields every kind has are
// kit.SettingsFields'; each kind's own are its components (kit.RegisterKindForm,
// by activity.Kind.Form) and are read and validated by the kind.

type activitySettingsPage struct {
	kit.ActivityBase
	Settings kit.SettingsForm
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
	return s.RenderPage(c, http.StatusOK, activitySettingsView(activitySettingsPage{ActivityBase: b, Settings: kit.SettingsForm{S: st},
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
		err = kit.ParseSettingsForm(c, &st)
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
		form := kit.SettingsForm{S: st, Typed: kit.TypedValues(c.Request().PostForm), Field: bad.Field, Error: bad.Err.Message}
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
