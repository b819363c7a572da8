package discuss

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// What the discussion's page shows of its activity: the staff's
// instructions and the kind's options, the staff's cohort switcher, and a
// learner's progress toward completion.

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

func (s *Handlers) activityView(c echo.Context, sess session.Session, a course.Activity, b kit.ActivityBase) (activityView, error) {
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
func (s *Handlers) noAnonymous(c echo.Context, sess session.Session) (bool, error) {
	st, err := s.Courses.Settings(c.Request().Context(), sess.OrgID, sess.LinkID)
	if err != nil {
		return false, fmt.Errorf("activity settings: %w", err)
	}
	// As the discussion engine enforces it: only a discussion kind's
	// options turn anonymity off.
	opts, ok := st.Options.(activity.DiscussionOptions)
	return ok && !opts.AllowAnonymous, nil
}

// The staff's cohort switcher: staff see every cohort of their course and
// move their view of the activity from one to another. It is a plain form
// (a select and a button) on the discussion list.

type cohortSwitcher struct {
	Current cohortOption
	Options []cohortOption
	Action  string
	Form    kit.HiddenFields
}

type cohortOption struct {
	ID, Label string
	Selected  bool
}

func cohortLabel(c course.CohortSummary) string {
	people := "people"
	if c.Size == 1 {
		people = "person"
	}
	name := c.Name
	switch {
	case c.Key == "course":
		name = "Whole course"
		if c.Name != "" {
			name += " (" + c.Name + ")"
		}
	case strings.HasPrefix(c.Key, "groups:"):
		// Activities with other group sizes have groups of the same names.
		if n, _, ok := strings.Cut(strings.TrimPrefix(c.Key, "groups:"), ":"); ok {
			name += " (groups of " + n + ")"
		}
	}
	return fmt.Sprintf("%s: %d %s", name, c.Size, people)
}

func (s *Handlers) cohortSwitcher(c echo.Context, sess session.Session, b kit.ActivityBase, a course.Activity) (cohortSwitcher, error) {
	list, err := s.Courses.Cohorts(c.Request().Context(), sess.OrgID, sess.CourseID)
	if err != nil {
		return cohortSwitcher{}, err
	}
	st, err := s.Access.Standing(c.Request().Context(), sess)
	if err != nil {
		return cohortSwitcher{}, err
	}
	sw := cohortSwitcher{Action: b.L.URL(b.Base + "/cohort"), Form: b.Form}
	for _, co := range list {
		o := cohortOption{ID: co.ID, Label: cohortLabel(co), Selected: co.ID == sess.CohortID}
		if !o.Selected && !course.MayViewCohort(sess.Roles, st.Sections, co.Key) {
			// A teaching assistant limited to their sections.
			continue
		}
		if o.Selected {
			sw.Current = o
		}
		sw.Options = append(sw.Options, o)
	}
	if sw.Current.ID == "" {
		sw.Current = cohortOption{ID: a.Cohort.ID, Label: cohortLabel(course.CohortSummary{Cohort: a.Cohort, Size: a.CohortSize})}
	}
	return sw, nil
}

// progressView is a learner's progress panel on the activity page.
type progressView struct {
	Progress activity.Progress
	Settings course.Settings
}

// learnerProgress is the progress panel's data for the activity's settings
// st, as its kind measures it; nil when the activity has no completion
// measure or the viewer is staff or an observer (neither is graded).
func (s *Handlers) learnerProgress(c echo.Context, sess session.Session, st course.Settings) (*progressView, error) {
	if s.Grades == nil || !sess.Roles.Participant() || !st.Grading().Measured() {
		return nil, nil
	}
	p, err := s.Grades.ProgressOf(c.Request().Context(), st, sess.UserID)
	if err != nil {
		return nil, err
	}
	return &progressView{Progress: p, Settings: st}, nil
}
