// Package peerreviewtest seeds a peer review at the scale of a large
// course, for benchmarks: rows written straight to the tables (COPY on
// Postgres, multi-row INSERTs in one transaction on SQLite), shaped as
// peerreview.Store writes them, so the pool, the reviews, the allocation
// log and the kept grades agree.
package peerreviewtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Space is the activity and cohort to fill, and the learners who launched
// already (their users and memberships exist): they come first in the
// cohort's order of submission.
type Space struct {
	OrgID, CourseID, LinkID, CohortID string
	Viewers                           []string
}

// Scale says how much to seed.
type Scale struct {
	// Learners is how many learners of the course submitted (the viewers
	// among them); each reviews Options.Reviewers others.
	Learners int
	// Filled ends the submission phase (Fill done): the activity is in
	// its reviewing phase. Unfilled, submissions are still open.
	Filled bool
}

// Large is a large course: 1,000 submitters, and with k = 3, 3,000 reviews.
var Large = Scale{Learners: 1000}

// Fixture names what Seed made.
type Fixture struct {
	// Learners are the submitters, in order of submission.
	Learners []string
	// Given is, for each learner, the ids of the reviews they were given
	// (k of them), oldest first.
	Given map[string][]string
	// Rows is how many rows each table received.
	Rows map[string]int
	// Took is how long seeding took.
	Took time.Duration
}

// essay is a submission's text: eight paragraphs, about 3 KB.
func essay(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Essay %d: ladders, scaffolds and the hierarchy of controls\n\n", i)
	for p := range 8 {
		if p > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "Paragraph %d. ", p+1)
		for range 5 {
			b.WriteString("A site inspection found that the control chosen first was the one easiest to buy, not the one highest in the hierarchy. ")
		}
	}
	return b.String()
}

// Seed fills sp's activity with sc's submissions and o.Reviewers reviews
// of each: submission i is reviewed by the k learners after it in order
// (a balanced allocation), about 70 % of reviews done, 10 % drafts and the
// rest not begun. The kept grades are computed last, as the store would
// have left them. It is deterministic.
func Seed(ctx context.Context, db *store.DB, sp Space, sc Scale, o peerreview.Options) (Fixture, error) {
	start := time.Now()
	f := Fixture{Given: map[string][]string{}, Rows: map[string]int{}}
	k := o.Reviewers
	if sc.Learners <= k || len(sp.Viewers) > sc.Learners {
		return f, fmt.Errorf("scale %+v: more learners than reviewers per submission, and than viewers, needed", sc)
	}
	g := &storetest.IDs{}
	now := time.Now().UTC().Truncate(time.Millisecond)
	joined := now.Add(-30 * 24 * time.Hour)

	users := &storetest.Table{Name: "users", Cols: []string{"org_id", "id", "issuer", "subject", "name", "given_name", "family_name", "email", "pseudonym", "created_at", "updated_at"}}
	members := &storetest.Table{Name: "memberships", Cols: []string{"org_id", "course_id", "user_id", "roles", "status", "created_at", "updated_at"}}
	cohort := &storetest.Table{Name: "cohort_members", Cols: []string{"org_id", "cohort_id", "user_id", "created_at"}}
	subs := &storetest.Table{Name: "pr_submissions", Cols: []string{"org_id", "id", "link_id", "course_id", "cohort_id", "author_id", "version", "submitted_at", "updated_at", "late", "withdrawn"}}
	versions := &storetest.Table{Name: "pr_versions", Cols: []string{"org_id", "submission_id", "version", "body", "link_url", "created_at"}}
	reviews := &storetest.Table{Name: "pr_reviews", Cols: []string{"org_id", "id", "link_id", "cohort_id", "submission_id", "author_id", "reviewer_id", "version", "reason",
		"assigned_by", "assigned_at", "state", "rubric_version", "doc", "points", "updated_at", "done_at", "on_time", "helpfulness", "helpfulness_note"}}
	logs := &storetest.Table{Name: "pr_allocation_log", Cols: []string{"org_id", "id", "link_id", "at", "action", "review_id", "author_id", "reviewer_id", "reason", "actor_id"}}
	rubrics := &storetest.Table{Name: "pr_rubrics", Cols: []string{"org_id", "link_id", "version", "doc", "created_at"}}
	state := &storetest.Table{Name: "pr_activity_state", Cols: []string{"org_id", "link_id", "filled_at", "released_at"}}

	learners := append([]string(nil), sp.Viewers...)
	for i := len(sp.Viewers); i < sc.Learners; i++ {
		id := fmt.Sprintf("pr-scale-learner-%04d", i)
		learners = append(learners, id)
		users.Add(sp.OrgID, id, "https://lms.example.edu", "sub-"+id, fmt.Sprintf("Learner %04d", i), "", "", id+"@example.edu", fmt.Sprintf("Learner %04d", i), joined, joined)
		members.Add(sp.OrgID, sp.CourseID, id, "learner", "active", joined, joined)
		cohort.Add(sp.OrgID, sp.CohortID, id, joined)
	}
	f.Learners = learners

	// Submissions over the week before now, in the learners' order.
	n := len(learners)
	span := 7 * 24 * time.Hour
	subAt := make([]time.Time, n)
	subID := make([]string, n)
	for i, id := range learners {
		subAt[i] = now.Add(-span + time.Duration(i)*span/time.Duration(n+1))
		subID[i] = g.At(subAt[i])
		subs.Add(sp.OrgID, subID[i], sp.LinkID, sp.CourseID, sp.CohortID, id, 1, subAt[i], subAt[i], false, false)
		versions.Add(sp.OrgID, subID[i], 1, essay(i), "", subAt[i])
	}
	rdoc, err := json.Marshal(o.Rubric)
	if err != nil {
		return f, err
	}
	rubrics.Add(sp.OrgID, sp.LinkID, o.Rubric.Version, string(rdoc), subAt[0])

	// Submission i goes to the k learners after it; a review is assigned
	// when the later of the two submitted.
	for i := range n {
		for d := 1; d <= k; d++ {
			r := (i + d) % n
			at := subAt[max(i, r)]
			id := g.At(at)
			reason := "new_submission"
			if r > i {
				reason = "submitted"
			}
			st, doc, points, done, upd, onTime, help := peerreview.StateAssigned, "", "", any(nil), at, false, 0
			switch m := (i*k + d) % 10; {
			case m < 7:
				st, upd, onTime, help = peerreview.StateDone, at.Add(time.Hour), true, 1+(i+d)%5
				done = upd
				doc, points = assessment(o.Rubric, i+d, true)
			case m < 8:
				st, upd = peerreview.StateDraft, at.Add(time.Hour)
				doc, points = assessment(o.Rubric, i+d, false)
			}
			reviews.Add(sp.OrgID, id, sp.LinkID, sp.CohortID, subID[i], learners[i], learners[r], 1, reason, "", at, st, o.Rubric.Version, doc, points, upd, done, onTime, help, "")
			logs.Add(sp.OrgID, g.At(at), sp.LinkID, at, "assign", id, learners[i], learners[r], reason, "")
			f.Given[learners[r]] = append(f.Given[learners[r]], id)
		}
	}
	if sc.Filled {
		state.Add(sp.OrgID, sp.LinkID, now.Add(-time.Hour), nil)
	}

	all := []*storetest.Table{users, members, cohort, subs, versions, reviews, logs, rubrics, state}
	if err := storetest.Load(ctx, db, all); err != nil {
		return f, err
	}
	for _, t := range all {
		f.Rows[t.Name] = len(t.Rows)
	}
	// The grades and insights the store keeps, computed once as its last
	// change left them.
	if err := peerreview.NewStore(db).Regrade(ctx, peerreview.Viewer{OrgID: sp.OrgID, CourseID: sp.CourseID, LinkID: sp.LinkID,
		CohortID: sp.CohortID, Staff: true}, o); err != nil {
		return f, err
	}
	var kept int
	if err := db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM pr_grades WHERE org_id = ? AND link_id = ?`, sp.OrgID, sp.LinkID).Row().Scan(&kept); err != nil {
		return f, err
	}
	f.Rows["pr_grades"] = kept
	analyze := "ANALYZE"
	if db.Dialect == store.Postgres {
		analyze = "VACUUM ANALYZE"
	}
	if err := db.WithContext(ctx).Exec(analyze).Error; err != nil {
		return f, fmt.Errorf("analyze: %w", err)
	}
	if db.Dialect == store.Postgres {
		if err := db.WithContext(ctx).Exec("CHECKPOINT").Error; err != nil {
			return f, fmt.Errorf("checkpoint (needs a superuser or pg_checkpoint): %w", err)
		}
	}
	f.Took = time.Since(start)
	return f, nil
}

// assessment is a review's document: a level for every scored criterion
// (varied by seed), a comment on each, a note on a paragraph; complete
// when final; and the points it gives, as the points column keeps them.
func assessment(r peerreview.Rubric, seed int, final bool) (string, string) {
	a := peerreview.Assessment{Criteria: map[string]peerreview.Answer{}, Comment: "Overall a clear piece; the conclusion could say more."}
	for j, c := range r.Criteria {
		ans := peerreview.Answer{Level: -1, Comment: "The second example needs a source; the first is convincing."}
		if c.Scored() && (final || j == 0) {
			ans.Level = (seed + j) % len(c.Levels)
		}
		a.Criteria[c.ID] = ans
	}
	a.Notes = []peerreview.Note{{Paragraph: seed % 8, Text: "This paragraph carries the argument."}}
	doc, _ := json.Marshal(a)
	return string(doc), peerreview.EncodePoints(peerreview.Review{Assessment: a}.Points(r))
}
