package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// The demo course's peer-review activity.
const (
	PeerReviewID          = "data-101-peer-review"
	peerReviewTitle       = "Peer review: a cleaning plan"
	peerReviewDescription = "Write how you would clean a messy dataset of your choice, then review three classmates' plans with the rubric."
	peerReviewPoints      = 10
)

// PeerReviewLearners are the demo learners whose work the peer review is
// seeded with, in the order they submitted; the last one submitted late.
// The other learners (aisha.rahman, lucas.moreau) have not submitted, so a
// visitor opening the activity as them can.
var PeerReviewLearners = []string{"priya.natarajan", "kenji.watanabe", "hannah.schmidt", "olivia.bennett", "tomas.garcia", "mateus.silva"}

// peerReviewOptions are the seeded activity's settings, dated around now:
// submissions opened five days ago and were due yesterday, late work is
// taken until tomorrow, reviews are due in three days, and the instructor
// releases the results by hand.
func peerReviewOptions(now time.Time) peerreview.Options {
	day := now.UTC().Truncate(time.Hour)
	o := peerreview.Defaults()
	o.SubmitText, o.SubmitLink, o.SubmitFiles = true, true, false
	o.Reviewers = 3
	o.Anonymity = peerreview.DoubleBlind
	o.Calibration = true
	o.Release = peerreview.ReleaseManual
	o.Opens = day.Add(-5 * 24 * time.Hour)
	o.Due = day.Add(-24 * time.Hour)
	o.LateUntil = day.Add(24 * time.Hour)
	o.ReviewsDue = day.Add(3 * 24 * time.Hour)
	o.Rubric = peerreview.Rubric{Version: 1, Criteria: []peerreview.Criterion{
		{ID: "diagnosis", Title: "Diagnosis of the problems",
			Description: "Does the plan name what is wrong with the data (missing values, duplicates, types, outliers) and how it was found?",
			Levels:      []peerreview.Level{{Points: 0, Label: "Missing"}, {Points: 1, Label: "Vague"}, {Points: 2, Label: "Most problems named"}, {Points: 3, Label: "Thorough, with evidence"}},
			Comment:     peerreview.CommentOptional},
		{ID: "steps", Title: "Cleaning steps",
			Description: "Is each fix justified, in a sensible order, without throwing away good data?",
			Levels:      []peerreview.Level{{Points: 0, Label: "Missing"}, {Points: 1, Label: "Some steps unjustified"}, {Points: 2, Label: "Sound"}, {Points: 3, Label: "Sound and well argued"}},
			Comment:     peerreview.CommentOptional},
		{ID: "reproducible", Title: "Reproducibility",
			Description: "Could someone else run the same cleaning on next month's export?",
			Levels:      []peerreview.Level{{Points: 0, Label: "No"}, {Points: 1, Label: "Partly"}, {Points: 2, Label: "Yes, step by step"}},
			Comment:     peerreview.CommentNone},
		{ID: "advice", Title: "Most useful advice",
			Description: "The one change that would most improve this plan.",
			Comment:     peerreview.CommentRequired, MinComment: 30},
	}}
	return o
}

// The seeded work, by author.
var peerReviewWork = map[string]string{
	"priya.natarajan": "## Salary survey export\n\nOur HR survey export has 4,812 rows and 23 columns. A first `df.info()` showed that `salary` is read as text because some answers contain currency signs and thousands separators (\"€52,000\"), and that 6% of `department` values are blank.\n\nI would first strip currency signs and separators and convert `salary` with `pd.to_numeric(errors=\"coerce\")`, then list the rows that became `NaN` to check they really were unreadable. Blank departments stay blank: I analyse departments only on the rows that have one.\n\nFinally I keep every step in one notebook that reads the raw export, so next month's file goes through the same cells.",
	"kenji.watanabe":  "## Oven temperature sensors\n\nThe line logs one reading per second from twelve sensors. Three problems: readings of exactly -273.15 °C whenever a sensor loses power, gaps of up to a minute, and duplicated timestamps after the clock is synchronised at midnight.\n\nI replace -273.15 with `NaN` (it is a sentinel, not a temperature), drop exact duplicate rows, and resample to one reading per second with `df.resample(\"1s\").mean()` so gaps become visible instead of silently shortening rolling windows.\n\nI do not interpolate gaps longer than five seconds: the report shows them as gaps.",
	"hannah.schmidt":  "## Supplier list\n\nOur supplier list (1,150 rows) was assembled from PDFs and e-mails. The `country` column contains phone numbers in about 200 rows, and the same supplier appears under slightly different names.\n\nPlan: move values that look like phone numbers (a regular expression on digits and `+`) to the `phone` column when it is empty, then fill `country` from the phone's country code. For names, normalise case and punctuation and flag pairs with a Jaro-Winkler similarity above 0.92 for a person to confirm.\n\nEvery change is written to a log table with the old and new value.",
	"olivia.bennett":  "## Campaign survey answers\n\nAbout 2,000 answers on a 1 to 5 agreement scale, five regions. 15% of rows have at least one blank, and some respondents answered \"3\" to every question in under a minute.\n\nI keep blanks as blanks and analyse each question on who answered it. Straight-liners who finished in under 60 seconds are flagged, not deleted, and I report results with and without them.\n\nRegions are typed by hand, so I map the 14 spellings I found to the five official names.",
	"tomas.garcia":    "## Order export from the shop\n\nOrder numbers arrive in scientific notation (1.23E+15) because the export was opened in Excel before it reached me, and some dates are day-first while others are month-first.\n\nI ask for the raw CSV and read every column as text (`dtype=str`), then convert the columns I need one by one. Dates are parsed with an explicit format per source system.\n\nOrders with a negative total are refunds, not errors: I keep them and add a `refund` column.",
	"mateus.silva":    "## Customer files from two systems\n\nTwo CSVs, one calling the key `customer_id` and the other `CustID`; some ids have leading zeros in one file only.\n\nI rename both keys to `customer_id`, read them as text and pad them to eight digits with `str.zfill(8)` before merging. After the merge I count rows on each side that found no partner and look at twenty of them by hand.\n\nSorry this is late: the second export only reached me yesterday.",
}

// seedPeerReview sets the demo course's peer review up and gives it a
// realistic state halfway through: six learners' work (one late), the
// instructor's calibration example, calibrations, reviews done, begun and
// not started, and a review its author flagged as unfair while results
// were briefly released. The people and the link are recorded as their
// launches would record them, so a real launch later finds the same rows.
// It writes only when the activity has no submission yet.
func (d *Demo) seedPeerReview(ctx context.Context) error {
	a := d.App
	reg, err := d.registration(ctx)
	if err != nil {
		return err
	}
	var seeded bool
	if err := a.DB.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM resource_links l
		JOIN pr_submissions s ON s.org_id = l.org_id AND s.link_id = l.id
		WHERE l.org_id = ? AND l.resource_link_id = ?)`, reg.OrgID, PeerReviewID).Scan(&seeded).Error; err != nil || seeded {
		return err
	}
	now := time.Now().UTC()
	o := peerReviewOptions(now)
	recs, err := d.recordLaunches(ctx, reg, PeerReviewID, peerReviewTitle, peerReviewDescription, func(i int) time.Time {
		return o.Opens.Add(time.Duration(i)*53*time.Minute + 2*time.Hour)
	})
	if err != nil {
		return err
	}
	maya := recs["maya.chen"]
	st, err := a.Courses.Settings(ctx, reg.OrgID, maya.Link.ID)
	if err != nil {
		return err
	}
	st.Kind, st.Graded, st.Points, st.Options = peerreview.KindName, true, peerReviewPoints, o
	st.UpdatedBy = maya.User.ID
	st.Instructions = "Pick a messy dataset you know (from work, study or an open data portal) and write, in a few paragraphs, what is wrong with it and how you would clean it. Then review three classmates' plans: be specific, and say what you would do next in their place."
	if err := a.DB.Tx(ctx, func(tx *gorm.DB) error { return a.Courses.SaveSettings(ctx, tx, st) }); err != nil {
		return fmt.Errorf("demo: configure the peer review: %w", err)
	}

	s := peerreview.NewStore(a.DB)
	s.OnGrades = func(ctx context.Context, tx *gorm.DB, orgID, linkID string, users []string) error {
		return a.Grades.Recompute(ctx, tx, orgID, linkID, users...)
	}
	clock := o.Opens
	s.Now = func() time.Time { return clock }
	viewer := func(who string) peerreview.Viewer {
		r := recs[who]
		return peerreview.Viewer{OrgID: reg.OrgID, CourseID: r.Course.ID, LinkID: r.Link.ID, CohortID: r.Cohort.ID,
			UserID: r.User.ID, Staff: r.Roles.IsStaff()}
	}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// The instructor's calibration example, the day submissions opened.
	clock = o.Opens.Add(time.Hour)
	example, err := s.SaveExample(ctx, viewer("maya.chen"), o, peerreview.Example{Title: "A plan for a delivery log",
		Body: "## Delivery log\n\nThe log has delivery times as text and some deliveries recorded twice.\n\nI convert the times with `pd.to_datetime` and drop the duplicates with `drop_duplicates()`.\n\nThen I compute the average delivery time.",
		Key: peerreview.Assessment{Criteria: map[string]peerreview.Answer{
			"diagnosis":    {Level: 1, Comment: "Two problems named, but not how they were found, and nothing on outliers such as a 19-day delivery."},
			"steps":        {Level: 1, Comment: "Which duplicates? Two deliveries of the same parcel on different days are not duplicates."},
			"reproducible": {Level: 0},
			"advice":       {Level: -1, Comment: "Say which columns define a duplicate, and check the date format (day-first?) before converting."},
		}}})
	check(err)

	// The work, as it came in; the last one after the due date.
	for i, who := range PeerReviewLearners {
		clock = o.Opens.Add(time.Duration(20+i*14) * time.Hour)
		if who == "mateus.silva" {
			clock = o.Due.Add(2 * time.Hour)
		}
		_, err := s.Submit(ctx, viewer(who), o, peerreview.WorkInput{Body: peerReviewWork[who]})
		check(err)
	}

	// Calibrations, before reviewing.
	calibrate := func(who string, levels [3]int) {
		check(s.Calibrate(ctx, viewer(who), o, example.ID, peerreview.Assessment{Criteria: map[string]peerreview.Answer{
			"diagnosis": {Level: levels[0]}, "steps": {Level: levels[1]}, "reproducible": {Level: levels[2]},
			"advice": {Level: -1, Comment: "Explain how the duplicates were identified and which columns were compared."},
		}}))
	}
	clock = o.Due.Add(150 * time.Minute)
	calibrate("priya.natarajan", [3]int{1, 1, 0})
	calibrate("kenji.watanabe", [3]int{1, 2, 0})
	calibrate("hannah.schmidt", [3]int{2, 1, 1})
	calibrate("olivia.bennett", [3]int{1, 1, 0})

	// Reviews: every review of Priya, Kenji and Hannah is done; Olivia has
	// begun one; the others have not started.
	type written struct {
		levels  [3]int
		advice  string
		comment string
		notes   []peerreview.Note
	}
	reviews := map[string]written{
		"priya.natarajan": {[3]int{3, 2, 2}, "Show the rows that failed to convert in the report, so readers know how many salaries were lost.",
			"A careful plan. I liked that blanks stay blanks instead of being filled with a guess.",
			[]peerreview.Note{{Paragraph: 1, Text: "Good catch on the currency signs; `errors=\"coerce\"` hides failures, so the check afterwards matters."}}},
		"kenji.watanabe": {[3]int{2, 3, 1}, "Write the five-second limit as a named constant and explain why five seconds and not ten.",
			"Clear and practical. The sentinel value is a great example of a problem you only find by looking at the data.",
			[]peerreview.Note{{Paragraph: 2, Text: "Resampling before the rolling mean is exactly right."}}},
		"hannah.schmidt": {[3]int{2, 2, 1}, "Add how many rows each step changed, so the log can be checked against the source quickly.",
			"The log table is a good idea. The 0.92 threshold needs a word on how you chose it.",
			[]peerreview.Note{{Paragraph: 0, Text: "How did you find the 200 rows? A count by pattern would help."}}},
	}
	all, err := s.ReviewsOfActivity(ctx, reg.OrgID, maya.Link.ID)
	check(err)
	draftLeft := true
	for i, r := range all {
		by := ""
		for who, rec := range recs {
			if rec.User.ID == r.ReviewerID {
				by = who
			}
		}
		w, ok := reviews[by]
		clock = o.Due.Add(3*time.Hour + time.Duration(i)*40*time.Minute)
		switch {
		case ok:
			_, err := s.SaveReview(ctx, viewer(by), o, r.ID, peerreview.Assessment{Criteria: map[string]peerreview.Answer{
				"diagnosis": {Level: w.levels[0]}, "steps": {Level: w.levels[1]}, "reproducible": {Level: w.levels[2]},
				"advice": {Level: -1, Comment: w.advice},
			}, Notes: w.notes, Comment: w.comment}, true)
			check(err)
		case by == "olivia.bennett" && draftLeft:
			draftLeft = false
			_, err := s.SaveReview(ctx, viewer(by), o, r.ID, peerreview.Assessment{Criteria: map[string]peerreview.Answer{
				"diagnosis": {Level: 2}, "steps": {Level: -1},
			}, Comment: "Started: the plan reads well so far."}, false)
			check(err)
		}
	}

	// The instructor released the results too early and took them back;
	// meanwhile the author of the harshest review done flagged it.
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: seed the peer review: %w", err)
	}
	if all, err = s.ReviewsOfActivity(ctx, reg.OrgID, maya.Link.ID); err != nil {
		return err
	}
	var harshest *peerreview.Review
	for i, r := range all {
		if r.State == peerreview.StateDone && (harshest == nil || r.Total(o.Rubric) < harshest.Total(o.Rubric)) {
			harshest = &all[i]
		}
	}
	if harshest == nil {
		return fmt.Errorf("demo: seed the peer review: no review done to flag")
	}
	author := ""
	for who, rec := range recs {
		if rec.User.ID == harshest.AuthorID {
			author = who
		}
	}
	clock = now.Add(-3 * time.Hour)
	check(s.Release(ctx, viewer("maya.chen"), o))
	clock = now.Add(-2*time.Hour - 40*time.Minute)
	check(s.Flag(ctx, viewer(author), o, harshest.ID, "This review gives my plan low levels without saying what is missing: my first paragraph lists every problem and how I found it."))
	clock = now.Add(-2 * time.Hour)
	check(s.Unrelease(ctx, viewer("maya.chen"), o))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: seed the peer review: %w", err)
	}
	return nil
}
