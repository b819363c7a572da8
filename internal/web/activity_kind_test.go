package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/web"
)

// reviewRound is a kind of activity Roundtable does not have, written the
// way peer review will be: its own options, form fields, validation,
// completion measure and score. Here a learner completes it by writing
// Reviews replies, and earns points for each one.
type reviewRound struct{}

func (reviewRound) Name() string         { return "review_round" }
func (reviewRound) Label() string        { return "A review round: learners review each other's work" }
func (reviewRound) DefaultTitle() string { return "Review round" }
func (reviewRound) Form() string         { return "review_round" }

func (reviewRound) Options(prev activity.Options) activity.Options {
	if o, ok := prev.(reviewOptions); ok {
		return o
	}
	return reviewOptions{Reviews: 1}
}

func (reviewRound) Decode(doc []byte) (activity.Options, error) {
	return activity.DecodeJSON(doc, reviewOptions{Reviews: 1})
}

type reviewOptions struct {
	Reviews int `json:"reviews"`
}

func (o reviewOptions) ReadForm(f activity.Form) (activity.Options, error) {
	var bad error
	activity.ReadNumber(f, "reviews", "Reviews per learner", &o.Reviews, &bad)
	return o, bad
}

func (o reviewOptions) Validate(graded bool) error {
	if o.Reviews < 1 || o.Reviews > 5 {
		return activity.Invalid("reviews", "Each learner writes between 1 and 5 reviews.")
	}
	return nil
}

func (o reviewOptions) Grading() activity.Grading {
	return activity.Grading{Needs: fmt.Sprintf("%d reviews written", o.Reviews), Proportional: true}
}

func (o reviewOptions) Learners(ctx context.Context, db *gorm.DB, a activity.Ref) ([]string, error) {
	var users []string
	err := db.WithContext(ctx).Raw(`SELECT DISTINCT author_id FROM posts WHERE org_id = ? AND link_id = ? AND opening = FALSE`,
		a.OrgID, a.LinkID).Scan(&users).Error
	return users, err
}

func (o reviewOptions) Measure(ctx context.Context, db *gorm.DB, a activity.Ref, userID string) (activity.Progress, error) {
	var n int
	err := db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM posts WHERE org_id = ? AND link_id = ? AND author_id = ? AND opening = FALSE AND deleted = FALSE`,
		a.OrgID, a.LinkID, userID).Row().Scan(&n)
	return activity.MeasureItems([]activity.Item{{Label: "reviews written", Have: n, Need: o.Reviews}}), err
}

func (o reviewOptions) Owe(points int, p activity.Progress) activity.Owed {
	owed := activity.CompletionScore(points, true, p)
	owed.Comment = strings.Replace(owed.Comment, "Roundtable:", "Review round:", 1)
	return owed
}

// Adding a kind of activity is registering it: the chooser offers it, the
// chooser and the settings page read and validate its options through it
// and store them, and its completion measure and score are what reach the
// LMS gradebook.
func TestAnotherKindIsOneRegistration(t *testing.T) {
	t.Cleanup(activity.Register(reviewRound{}))
	// Its settings fields: a kind built into Roundtable writes them as a
	// templ component beside the discussion's (kind_discussion.templ).
	t.Cleanup(web.RegisterKindForm("review_round", templ.Raw(`<fieldset data-testid="review-round-fields"><legend>Reviews</legend>`+
		`<label for="reviews">Reviews per learner</label><input id="reviews" name="reviews" type="number"></fieldset>`)))
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()

		// The chooser offers it, and validates and places it through it.
		b, res := chooser(t, env, apptest.Instructor, nil)
		choice := doc(t, res.Body).Find("input[name=kind][value=review_round]")
		if choice.Length() != 1 || !strings.Contains(choice.Parent().Text(), "A review round") {
			t.Fatalf("the chooser does not offer the new kind:\n%.3000s", res.Body)
		}
		if doc(t, res.Body).Find("[data-testid=review-round-fields] input[name=reviews]").Length() != 1 {
			t.Fatalf("the chooser does not show the new kind's fields:\n%.3000s", res.Body)
		}
		bad := submit(t, b, res, url.Values{"kind": {"review_round"}, "title": {""}, "reviews": {"two"}}, "place")
		// (The kind's fields show no error of their own: it shows in the
		// summary.)
		if bad.StatusCode != http.StatusBadRequest || !strings.Contains(text(doc(t, bad.Body), "[data-testid=form-error]"), "Reviews per learner must be a whole number") {
			t.Fatalf("a review count that is no number: %d\n%.3000s", bad.StatusCode, bad.Body)
		}
		bad = submit(t, b, bad, url.Values{"kind": {"review_round"}, "title": {""}, "reviews": {"9"}}, "place")
		if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, "between 1 and 5 reviews") {
			t.Fatalf("too many reviews: %d", bad.StatusCode)
		}
		submit(t, b, bad, url.Values{"kind": {"review_round"}, "title": {""}, "reviews": {"3"}}, "add")
		var placed struct {
			Title, Kind string
			Options     string
		}
		if err := env.DB.Raw(`SELECT title, kind, options FROM placements`).Row().Scan(&placed.Title, &placed.Kind, &placed.Options); err != nil {
			t.Fatal(err)
		}
		if placed.Title != "Review round" || placed.Kind != "review_round" || strings.ReplaceAll(placed.Options, " ", "") != `{"reviews":3}` {
			t.Errorf("placed %+v", placed)
		}

		// The settings page: the activity becomes a graded review round.
		ines := join(t, env, apptest.Instructor)
		res = ines.postSettings(map[string]string{"kind": "review_round", "reviews": "0", "graded": "1", "points": "10"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(ines.page, "[data-testid=form-error]"), "between 1 and 5") {
			t.Fatalf("no reviews: %d", res.StatusCode)
		}
		if ines.page.Find("[data-testid=review-round-fields]").Length() != 1 {
			t.Error("the settings page does not show the new kind's fields")
		}
		ines.configure(map[string]string{"kind": "review_round", "reviews": "2", "graded": "1", "points": "10"})
		if ines.page.Find("input[name=kind][value=review_round]").AttrOr("checked", "-") == "-" {
			t.Error("the settings page does not show the kind chosen")
		}
		var linkID string
		env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID)
		st, err := env.App.Courses.Settings(ctx, env.Registered.ID, linkID)
		if err != nil || st.Kind != "review_round" || st.Options != (reviewOptions{Reviews: 2}) || !st.Graded || st.Points != 10 {
			t.Fatalf("saved settings %+v %v", st, err)
		}
		ines.get(ines.activityURL("/grades"))
		if got := text(ines.page, "[data-testid=grading-rule]"); !strings.Contains(got, "in proportion") || !strings.Contains(got, "needs 2 reviews written") {
			t.Errorf("grading explained as %q", got)
		}

		// Its measure is the learner's progress, and its score is what the
		// gradebook gets.
		alice := join(t, env, apptest.Learner)
		if p := text(alice.page, "[data-testid=progress]"); !strings.Contains(p, "0 of 2 reviews written") {
			t.Errorf("alice's progress panel: %q", p)
		}
		bob := join(t, env, apptest.Learner2)
		bob.ask("discussion", "My risk assessment", "Please review it.", nil)
		alice.get(bob.res.URL)
		alice.reply("The second hazard needs a control measure.")
		waitUntil(t, "alice's first score", func() bool { s, ok := latestScore(env, apptest.Learner); return ok && *s.ScoreGiven == 5 })
		if s, _ := latestScore(env, apptest.Learner); s.Comment != "Review round: 1 of 2 reviews written" || s.ActivityProgress != grade.ActivityInProgress {
			t.Errorf("after one review: %+v", s)
		}
		alice.reply("And the first one is well argued.")
		waitUntil(t, "alice's completed score", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && *s.ScoreGiven == 10 && s.ActivityProgress == grade.ActivityCompleted
		})
		if s, ok := latestScore(env, apptest.Learner2); ok && *s.ScoreGiven != 0 {
			t.Errorf("bob's thread counts as a review: %+v", s)
		}
	})
}
