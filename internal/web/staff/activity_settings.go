package staff

import (
	"errors"
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

func (s *Handlers) Settings(c echo.Context) error {
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
	b.L.Scripts = append(b.L.Scripts, kit.SettingsScript)
	return s.RenderPage(c, http.StatusOK, activitySettingsView(activitySettingsPage{ActivityBase: b, Settings: kit.SettingsForm{S: st},
		Action: b.L.URL(b.Base + "/settings"), Saved: c.QueryParam("saved") == "1", Setup: setup,
		ActivityTitle: a.Title(), CourseTitle: a.Course.Title}))
}

func (s *Handlers) SaveSettings(c echo.Context) error {
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
			// A kind may ask staff to confirm a change that touches work
			// already done (a rubric reviews have begun with).
			if ch, ok := st.Options.(activity.Changer); ok {
				opts, err := ch.Change(ctx, tx, activity.Ref{OrgID: sess.OrgID, LinkID: sess.LinkID}, a.Settings.Options, c.FormValue("confirm_change") == "1")
				if err != nil {
					return err
				}
				st.Options = opts
			}
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
		b.L.Scripts = append(b.L.Scripts, kit.SettingsScript)
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
