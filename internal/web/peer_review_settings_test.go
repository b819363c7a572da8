package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// peerReviewEdits turn the seeded discussion into a graded peer review
// with two scored criteria and a comment-only one (the defaults' rows 0 to
// 2, rows 3 and 4 left blank), dates in Paris, and weights.
func peerReviewEdits() map[string]string {
	return map[string]string{
		"kind": peerreview.KindName, "graded": "1", "points": "20",
		"submit_text": "", "submit_link": "1", "submit_files": "1", "max_file_mb": "10", "max_files": "3", "file_types": "pdf",
		"reviewers": "4", "anonymity": "reviewers_named", "self_assessment": "1", "calibration": "1", "across_cohorts": "", "others_review": "1",
		"time_zone": "Europe/Paris", "opens": "2027-03-01T09:00", "due": "2027-03-08T17:00", "late_until": "2027-03-09T17:00",
		"reviews_due": "2027-03-15T17:00", "release": "date", "release_at": "2027-03-16T09:00",
		"submission_weight": "70", "aggregation": "weighted", "reviewing_basis": "accuracy",
		"crit_title_0": "Argument", "crit_desc_0": "Is the claim supported?", "crit_levels_0": "0 Missing\n2: Partial\n4 - Convincing",
		"crit_comment_0": "required", "crit_min_0": "30",
		"crit_title_1": "Evidence", "crit_desc_1": "", "crit_levels_1": "3 Solid\n1 Thin", "crit_comment_1": "none", "crit_min_1": "0",
		"crit_title_2": "Most useful advice", "crit_levels_2": "", "crit_comment_2": "required", "crit_min_2": "20",
	}
}

func TestPeerReviewSettingsRubricDatesAndWeights(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		ines := join(t, env, apptest.Instructor)
		ines.follow("[data-testid=settings-link]")
		if ines.page.Find("input[name=kind][value=peer_review]").Length() != 1 || ines.page.Find("[data-testid=peer-review-fields]").Length() != 1 {
			t.Fatalf("the settings page does not offer a peer review:\n%.3000s", ines.res.Body)
		}
		if ines.page.Find("[data-testid=criterion]").Length() != 5 || ines.page.Find("input[name=crit_rows]").AttrOr("value", "") != "5" {
			t.Errorf("a new peer review's builder: %d rows", ines.page.Find("[data-testid=criterion]").Length())
		}
		if ines.page.Find("#time_zone[data-fill-zone]").AttrOr("value", "") != "UTC" {
			t.Error("a new peer review's time zone is not UTC for the script to fill")
		}
		if !strings.Contains(ines.page.Find("script").Text()+ines.res.Body, "/js/rubric") {
			t.Error("the settings page does not load rubric.js")
		}
		ines.configure(peerReviewEdits())
		settingsURL := ines.res.URL

		var linkID string
		env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID)
		st, err := env.App.Courses.Settings(ctx, env.Registered.ID, linkID)
		if err != nil || st.Kind != peerreview.KindName || !st.Graded || st.Points != 20 {
			t.Fatalf("saved settings %+v %v", st, err)
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		at := func(s string) time.Time {
			d, _ := time.ParseInLocation(peerreview.DateLayout, s, paris)
			return d.UTC()
		}
		want := peerreview.Options{SubmitLink: true, SubmitFiles: true, MaxFileMB: 10, MaxFiles: 3, FileTypes: peerreview.FilesPDF,
			Rubric: peerreview.Rubric{Version: 1, Criteria: []peerreview.Criterion{
				{ID: "c1", Title: "Argument", Description: "Is the claim supported?", Levels: []peerreview.Level{{Points: 0, Label: "Missing"}, {Points: 2, Label: "Partial"}, {Points: 4, Label: "Convincing"}},
					Comment: peerreview.CommentRequired, MinComment: 30},
				{ID: "c2", Title: "Evidence", Levels: []peerreview.Level{{Points: 1, Label: "Thin"}, {Points: 3, Label: "Solid"}}, Comment: peerreview.CommentNone},
				{ID: "c3", Title: "Most useful advice", Description: "One thing the author should do next.", Comment: peerreview.CommentRequired, MinComment: 20},
			}},
			Reviewers: 4, Anonymity: peerreview.ReviewersNamed,
			Opens: at("2027-03-01T09:00"), Due: at("2027-03-08T17:00"), LateUntil: at("2027-03-09T17:00"), ReviewsDue: at("2027-03-15T17:00"),
			ReleaseAt: at("2027-03-16T09:00"), Release: peerreview.ReleaseOnDate, TimeZone: "Europe/Paris",
			SelfAssessment: true, Calibration: true, OthersReview: true,
			SubmissionWeight: 70, Aggregation: peerreview.Weighted, ReviewingBasis: peerreview.BasisAccuracy}
		got, ok := st.Options.(peerreview.Options)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("stored options\n got %+v\nwant %+v", st.Options, want)
		}
		// Decoded from the stored document as well.
		var doc string
		env.DB.Raw(`SELECT options FROM activity_settings WHERE link_id = ?`, linkID).Scan(&doc)
		if decoded, err := peerreview.Kind.Decode([]byte(doc)); err != nil || !reflect.DeepEqual(decoded, want) {
			t.Errorf("the stored document %s decodes to %+v (%v)", doc, decoded, err)
		}

		// The page shows them back: the criteria and two blank rows.
		p := ines.page
		for sel, want := range map[string]string{"#crit_title_0": "Argument", "input[name=crit_id_1]": "c2", "#crit_title_2": "Most useful advice",
			"#crit_min_0": "30", "#crit_title_3": "", "#crit_title_4": "", "input[name=crit_rows]": "5", "#time_zone": "Europe/Paris",
			"#opens": "2027-03-01T09:00", "#due": "2027-03-08T17:00", "#late_until": "2027-03-09T17:00", "#reviews_due": "2027-03-15T17:00",
			"#release_at": "2027-03-16T09:00", "#reviewers": "4", "#submission_weight": "70", "#max_files": "3"} {
			if v := p.Find(sel).AttrOr("value", "?"); v != want {
				t.Errorf("%s shows %q, want %q", sel, v, want)
			}
		}
		if v := p.Find("#crit_levels_0").Text(); v != "0 Missing\n2 Partial\n4 Convincing" {
			t.Errorf("levels shown as %q", v)
		}
		if p.Find("#crit_levels_2").Text() != "" || p.Find("#time_zone[data-fill-zone]").Length() != 0 {
			t.Error("the comment-only criterion shows levels, or the saved zone is offered to the script")
		}
		for _, checked := range []string{"input[name=kind][value=peer_review]", "input[name=anonymity][value=reviewers_named]", "input[name=release][value=date]",
			"input[name=aggregation][value=weighted]", "input[name=reviewing_basis][value=accuracy]", "input[name=file_types][value=pdf]",
			"input[name=crit_comment_0][value=required]", "input[name=crit_comment_1][value=none]", "input[name=calibration]", "input[name=others_review]"} {
			if p.Find(checked).AttrOr("checked", "-") == "-" {
				t.Errorf("%s is not checked", checked)
			}
		}
		if p.Find("input[name=submit_text]").AttrOr("checked", "-") != "-" || p.Find("input[name=across_cohorts]").AttrOr("checked", "-") != "-" {
			t.Error("an unticked box shows ticked")
		}

		// Errors: each beside its field, with what was typed kept.
		refused := func(what string, edits map[string]string, field, message string) {
			t.Helper()
			ines.get(settingsURL)
			res := ines.postSettings(edits)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s: %d", what, res.StatusCode)
			}
			if got := text(ines.page, "[data-testid=field-error][data-field="+field+"]"); !strings.Contains(got, message) {
				t.Errorf("%s: error beside %s is %q; the summary says %q", what, field, got, text(ines.page, "[data-testid=form-error]"))
			}
			if ines.page.Find("#"+field).AttrOr("aria-invalid", "") != "true" ||
				!strings.Contains(ines.page.Find("#"+field).AttrOr("aria-describedby", ""), field+"-error") {
				t.Errorf("%s: #%s is not marked invalid and described by its error", what, field)
			}
			for name, typed := range edits {
				in := ines.page.Find("#" + name)
				if in.Length() == 0 || in.AttrOr("type", "") == "checkbox" {
					continue
				}
				shown := in.AttrOr("value", "")
				if in.Nodes[0].Data == "textarea" {
					shown = in.Text()
				}
				if shown != typed {
					t.Errorf("%s: %s shows %q, typed %q", what, name, shown, typed)
				}
			}
		}
		refused("a level without points", map[string]string{"crit_title_0": "Argument, reworded", "crit_levels_1": "Thin\n3 Solid", "reviewers": "5"},
			"crit_levels_1", `each level starts with its points, for instance "3 Excellent"; "Thin" does not`)
		refused("dates out of order", map[string]string{"opens": "2027-03-10T09:00", "due": "2027-03-08T17:00", "crit_desc_1": "Sources cited?"},
			"due", "Submissions due must come after submissions open")
		refused("no criteria", map[string]string{"crit_title_0": "", "crit_title_1": "", "crit_title_2": "", "crit_desc_0": "Kept as typed", "graded": ""},
			"crit_title_0", "The rubric needs at least one criterion")
		if ines.page.Find("[data-testid=criterion]").Length() != 5 {
			t.Errorf("after an error the builder shows %d rows, not the 5 sent", ines.page.Find("[data-testid=criterion]").Length())
		}
		if st, _ := env.App.Courses.Settings(ctx, env.Registered.ID, linkID); !reflect.DeepEqual(st.Options, want) {
			t.Errorf("a refused form changed the settings: %+v", st.Options)
		}

		// Clearing a criterion's title removes it; the others keep their ids.
		ines.get(settingsURL)
		ines.configure(map[string]string{"crit_title_1": ""})
		st, _ = env.App.Courses.Settings(ctx, env.Registered.ID, linkID)
		crit := st.Options.(peerreview.Options).Rubric.Criteria
		if len(crit) != 2 || crit[0].ID != "c1" || crit[1].ID != "c3" || crit[1].Title != "Most useful advice" {
			t.Errorf("after removing Evidence: %+v", crit)
		}
		if ines.page.Find("[data-testid=criterion]").Length() != 4 || ines.page.Find("input[name=crit_id_1]").AttrOr("value", "") != "c3" {
			t.Errorf("after removing Evidence the builder shows %d rows", ines.page.Find("[data-testid=criterion]").Length())
		}
	})
}

// The deep-linking chooser offers a peer review, refuses a rubric it
// cannot read beside its field, and places one with its rubric.
func TestDeepLinkingPlacesAPeerReview(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, nil)
		d := doc(t, res.Body)
		if choice := d.Find("input[name=kind][value=peer_review]"); choice.Length() != 1 || !strings.Contains(choice.Parent().Text(), "A peer review") {
			t.Fatalf("the chooser does not offer a peer review:\n%.3000s", res.Body)
		}
		if d.Find("[data-testid=rubric] #crit_title_0").AttrOr("value", "") != "Content" || d.Find("#time_zone[data-fill-zone]").Length() != 1 {
			t.Errorf("the chooser's builder does not start from the default rubric")
		}
		edits := url.Values{"kind": {"peer_review"}, "title": {""}, "crit_title_0": {"Argument"}, "crit_levels_0": {"Weak\n2 Strong"},
			"crit_title_1": {""}, "time_zone": {"America/New_York"}, "due": {"2027-04-01T12:00"}}
		bad := submit(t, b, res, edits, "place")
		bd := doc(t, bad.Body)
		if bad.StatusCode != http.StatusBadRequest || !strings.Contains(text(bd, "[data-testid=field-error][data-field=crit_levels_0]"), "each level starts with its points") ||
			bd.Find("#crit_levels_0").Text() != "Weak\n2 Strong" || bd.Find("#crit_title_1").AttrOr("value", "?") != "" ||
			bd.Find("#time_zone").AttrOr("value", "") != "America/New_York" || bd.Find("#due").AttrOr("value", "") != "2027-04-01T12:00" {
			t.Fatalf("a level without points: %d\n%.3000s", bad.StatusCode, bad.Body)
		}
		edits.Set("crit_levels_0", "1 Weak\n2 Strong")
		submit(t, b, bad, edits, "add")
		var placed struct{ Title, Kind, Options string }
		if err := env.DB.Raw(`SELECT title, kind, options FROM placements`).Row().Scan(&placed.Title, &placed.Kind, &placed.Options); err != nil {
			t.Fatal(err)
		}
		opts, err := peerreview.Kind.Decode([]byte(placed.Options))
		if err != nil || placed.Title != "Peer review" || placed.Kind != peerreview.KindName {
			t.Fatalf("placed %+v %v", placed, err)
		}
		o := opts.(peerreview.Options)
		ny, _ := time.LoadLocation("America/New_York")
		if r := o.Rubric.Criteria; len(r) != 2 || r[0].Title != "Argument" || len(r[0].Levels) != 2 || r[0].Levels[1] != (peerreview.Level{Points: 2, Label: "Strong"}) ||
			r[1].ID != "c3" || r[1].Scored() || o.TimeZone != "America/New_York" || !o.Due.Equal(time.Date(2027, 4, 1, 12, 0, 0, 0, ny)) {
			t.Errorf("placed options %+v", o)
		}
	})
}
