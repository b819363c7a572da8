package review

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/peerreview/score"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// learnerRow is one learner on the dashboard.
type learnerRow struct {
	UserID, Name, URL string
	Submitted, Late   bool
	SubmittedAt       string
	Done, Assigned    int
	Grade             string
	Explanation       string
	Overridden        bool
	Weight            string
	WeightWhy         string
}

type flagRow struct {
	ReviewID, URL, Author, Reviewer, Reason, Resolution, ResolveURL string
}

type noteRow struct{ Text, URL string }

type dashboardPage struct {
	page
	Timeline                     []phaseStep
	Rows                         []learnerRow
	OnTime, Late, Missing        int
	ReviewsDone, ReviewsAssigned int
	Flags                        []flagRow
	Outliers                     []noteRow
	Pairs                        []noteRow
	Log                          []logRow
	Examples                     []peerreview.Example
	Behind                       int
	Notice                       string
	// MoreOutliers is how many outliers are not listed.
	MoreOutliers int
	// The learners' table shows a page of learnersPerPage rows.
	PrevURL, NextURL, PageText          string
	WeightFormula                       string
	FillURL, ReleaseURL, RemindURL, CSV string
}

type logRow struct {
	When, Text string
}

// dashboard reads everything the dashboard shows, from what the last
// computation of the grades kept (every grade, weight, outlier and pair,
// each explained) and a count of the reviews.
func (s *Handlers) dashboard(c echo.Context, p page, all bool) (dashboardPage, error) {
	ctx := c.Request().Context()
	d := dashboardPage{page: p, Timeline: p.timeline(), WeightFormula: score.WeightFormula,
		FillURL: p.L.URL(p.Base + "/review/fill"), ReleaseURL: p.L.URL(p.Base + "/review/release"),
		RemindURL: p.L.URL(p.Base + "/review/remind"), CSV: p.URL(p.Base + "/review/export.csv")}
	// A page of learners with what the last computation kept of them, and
	// the counts over all: the dashboard computes nothing.
	n, limit := 1, learnersPerPage
	if all {
		limit = maxExported
	} else {
		n = max(atoi(c.QueryParam("page"), 1), 1)
	}
	standings, sum, err := s.Reviews.Standings(ctx, p.V, (n-1)*limit, limit)
	if err != nil {
		return d, err
	}
	d.OnTime, d.Late, d.Missing = sum.OnTime, sum.Late, sum.Missing
	d.ReviewsAssigned, d.ReviewsDone = sum.ReviewsAssigned, sum.ReviewsDone
	if p.Phase != peerreview.PhaseReleased {
		d.Behind = sum.OweReviews
		if accepting, _ := p.O.AcceptsWork(p.Now, p.Released); accepting {
			d.Behind += sum.Missing
		}
	}
	if !all && sum.Learners > learnersPerPage {
		pages := (sum.Learners + learnersPerPage - 1) / learnersPerPage
		d.PageText = fmt.Sprintf("Learners %d to %d of %d", (n-1)*limit+1, min(n*limit, sum.Learners), sum.Learners)
		if n > 1 {
			d.PrevURL = p.URL(fmt.Sprintf("%s/review/dashboard?page=%d", p.Base, n-1))
		}
		if n < pages {
			d.NextURL = p.URL(fmt.Sprintf("%s/review/dashboard?page=%d", p.Base, n+1))
		}
	}
	for _, st := range standings {
		row := learnerRow{UserID: st.UserID, Name: orSomeone(st.Name), URL: p.URL(p.Base + "/review/u/" + st.UserID),
			Submitted: st.Submitted, Late: st.Late, Done: st.Done, Assigned: st.Assigned}
		if st.Submitted {
			row.SubmittedAt = p.when(st.SubmittedAt)
		}
		if st.Graded {
			row.Grade, row.Explanation, row.Overridden = pct(st.Grade.Combined), st.Grade.Explanation, st.Grade.Overridden
			row.Weight, row.WeightWhy = fmt.Sprintf("%.2f", st.Grade.Weight), st.Grade.WeightWhy
		}
		d.Rows = append(d.Rows, row)
	}
	insights, err := s.Reviews.KeptInsights(ctx, p.V)
	if err != nil {
		return d, err
	}
	flagged, err := s.Reviews.Flagged(ctx, p.V)
	if err != nil {
		return d, err
	}
	var ids []string
	for _, r := range flagged {
		ids = append(ids, r.AuthorID, r.ReviewerID)
	}
	log, err := s.Reviews.Log(ctx, p.V, 50)
	if err != nil {
		return d, err
	}
	for _, e := range log {
		ids = append(ids, e.Author, e.Reviewer, e.By)
	}
	names, err := s.Reviews.Names(ctx, p.V.OrgID, ids)
	if err != nil {
		return d, err
	}
	name := func(id string) string { return orSomeone(names[id]) }
	for _, r := range flagged {
		d.Flags = append(d.Flags, flagRow{ReviewID: r.ID, URL: p.URL(p.Base + "/review/r/" + r.ID), Author: name(r.AuthorID),
			Reviewer: name(r.ReviewerID), Reason: r.Flagged, Resolution: r.Resolution,
			ResolveURL: p.L.URL(p.Base + "/review/r/" + r.ID + "/resolve")})
	}
	// The first few; every review, outliers marked, is on its own page.
	for _, o := range insights.Outliers {
		d.Outliers = append(d.Outliers, noteRow{Text: o.Why, URL: p.URL(p.Base + "/review/r/" + o.ReviewID)})
	}
	d.MoreOutliers = len(insights.OutlierIDs) - len(d.Outliers)
	for _, pr := range insights.Pairs {
		d.Pairs = append(d.Pairs, noteRow{Text: pr.Why})
	}
	if d.Examples, err = s.Reviews.Examples(ctx, p.V); err != nil {
		return d, err
	}
	for _, e := range log {
		d.Log = append(d.Log, logRow{When: p.when(e.At), Text: logText(e, name)})
	}
	return d, nil
}

// stateText says a review's state in words, for staff.
var stateText = map[string]string{peerreview.StateAssigned: "Not started", peerreview.StateDraft: "Draft", peerreview.StateDone: "Submitted"}

// reasons say in words why an assignment was made.
var reasons = map[string]string{
	"submitted": "when they submitted", "new_submission": "as a new submission, to a reviewer with the fewest",
	"fill": "at the end of the submission phase", "staff": "by hand", "review_one_more": "as one more review they asked for",
	"replaced": "to replace a reviewer", "rebalanced": "to even out reviewers' loads", "extra_reviewer": "to a non-submitter allowed to review",
	peerreview.ReasonSelf: "as a self-assessment",
}

func logText(e peerreview.LogEntry, name func(string) string) string {
	why := reasons[e.Reason]
	if why == "" {
		why = e.Reason
	}
	verb := "was given"
	if e.Action == "remove" {
		verb = "was relieved of"
	}
	by := ""
	if e.By != "" {
		by = " (" + name(e.By) + ")"
	}
	return fmt.Sprintf("%s %s %s’s work, %s%s.", name(e.Reviewer), verb, name(e.Author), why, by)
}

// Dashboard is GET /a/:link/review/dashboard, for staff.
func (s *Handlers) Dashboard(c echo.Context) error {
	p, err := s.open(c, "Peer review dashboard")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "open the peer review's dashboard"); err != nil {
		return err
	}
	d, err := s.dashboard(c, p, false)
	if err != nil {
		return err
	}
	d.Notice = notices[c.QueryParam("done")]
	return s.RenderPage(c, http.StatusOK, dashboardView(d))
}

var notices = map[string]string{
	"filled": "Every submission now has its reviewers.", "released": "Results are released: learners read their feedback, and the gradebook has their grades.",
	"withdrawn": "Results are withdrawn: learners no longer see them.", "reminded": "The learners who are behind were reminded.",
	"overridden": "The grade is kept.", "assigned": "The review is assigned.", "removed": "The review is removed.",
	"resolved": "The flag is answered.", "example": "The example is kept.",
	"withdrawn-work": "The work is out of the review queue: its reviewers were relieved, and the reviews this learner had not begun went to others.",
}

// staffAction runs an action of the dashboard and goes back to it.
func (s *Handlers) staffAction(c echo.Context, what string, act func(p page) (string, error)) error {
	p, err := s.open(c, "Peer review dashboard")
	if err != nil {
		return err
	}
	if err := requireStaff(p, what); err != nil {
		return err
	}
	back, err := act(p)
	if err != nil {
		return err
	}
	return s.seeOther(c, p, back)
}

// Fill is POST /a/:link/review/fill: allocate the rest now.
func (s *Handlers) Fill(c echo.Context) error {
	return s.staffAction(c, "allocate reviews", func(p page) (string, error) {
		_, err := s.Reviews.Fill(c.Request().Context(), p.V, p.O)
		return "/review/dashboard?done=filled", err
	})
}

// Release is POST /a/:link/review/release (withdraw=1 takes results back).
func (s *Handlers) Release(c echo.Context) error {
	return s.staffAction(c, "release results", func(p page) (string, error) {
		if c.FormValue("withdraw") == "1" {
			return "/review/dashboard?done=withdrawn", s.Reviews.Unrelease(c.Request().Context(), p.V, p.O)
		}
		return "/review/dashboard?done=released", s.Reviews.Release(c.Request().Context(), p.V, p.O)
	})
}

// Override is POST /a/:link/review/u/:user/override.
func (s *Handlers) Override(c echo.Context) error {
	return s.staffAction(c, "set a grade", func(p page) (string, error) {
		fraction := -1.0
		if c.FormValue("clear") != "1" {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(c.FormValue("percent")), "%"), 64)
			if err != nil {
				return "", roundtable.Errorf(roundtable.EINVALID, "Give the grade as a percentage between 0 and 100.")
			}
			fraction = v / 100
		}
		err := s.Reviews.Override(c.Request().Context(), p.V, p.O, c.Param("user"), fraction, c.FormValue("note"))
		return "/review/u/" + c.Param("user") + "?done=overridden", err
	})
}

// Assign is POST /a/:link/review/u/:user/assign: a reviewer by hand.
func (s *Handlers) Assign(c echo.Context) error {
	return s.staffAction(c, "assign reviews", func(p page) (string, error) {
		err := s.Reviews.Assign(c.Request().Context(), p.V, p.O, c.Param("user"), c.FormValue("reviewer"))
		return "/review/u/" + c.Param("user") + "?done=assigned", err
	})
}

// RemoveReview is POST /a/:link/review/r/:review/remove.
func (s *Handlers) RemoveReview(c echo.Context) error {
	return s.staffAction(c, "remove reviews", func(p page) (string, error) {
		back := "/review/dashboard?done=removed"
		if u := c.FormValue("back"); u != "" {
			back = "/review/u/" + u + "?done=removed"
		}
		return back, s.Reviews.RemoveReview(c.Request().Context(), p.V, p.O, c.Param("review"))
	})
}

// Resolve is POST /a/:link/review/r/:review/resolve: staff answer a flag.
func (s *Handlers) Resolve(c echo.Context) error {
	return s.staffAction(c, "answer flags", func(p page) (string, error) {
		return "/review/dashboard?done=resolved", s.Reviews.ResolveFlag(c.Request().Context(), p.V, c.Param("review"), c.FormValue("resolution"))
	})
}

// ExportCSV is GET /a/:link/review/export.csv: a line per learner, every
// cell safe from spreadsheet formulas.
func (s *Handlers) ExportCSV(c echo.Context) error {
	p, err := s.open(c, "")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "export the peer review"); err != nil {
		return err
	}
	d, err := s.dashboard(c, p, true)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="peer-review.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"Learner", "Submitted", "Late", "Reviews done", "Reviews assigned", "Grade", "Overridden", "Reviewer weight", "How the grade was computed"})
	rows := append([]learnerRow(nil), d.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	for _, r := range rows {
		_ = w.Write([]string{safeCell(r.Name), yesNo(r.Submitted), yesNo(r.Late), strconv.Itoa(r.Done), strconv.Itoa(r.Assigned),
			safeCell(r.Grade), yesNo(r.Overridden), r.Weight, safeCell(r.Explanation)})
	}
	w.Flush()
	return w.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// safeCell keeps a spreadsheet from reading a cell as a formula.
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// Remind is POST /a/:link/review/remind: every learner who is behind gets
// a notification naming what they owe.
func (s *Handlers) Remind(c echo.Context) error {
	return s.staffAction(c, "remind learners", func(p page) (string, error) {
		ctx := c.Request().Context()
		members, err := s.Reviews.Members(ctx, p.V)
		if err != nil {
			return "", err
		}
		_, err = s.Reviews.Remind(ctx, p.V, p.O, kit.SpaceIDOf(c), members)
		return "/review/dashboard?done=reminded", err
	})
}

// Withdraw is POST /a/:link/review/u/:user/withdraw: the learner's work
// leaves the review queue (they left the course).
func (s *Handlers) Withdraw(c echo.Context) error {
	return s.staffAction(c, "withdraw submissions", func(p page) (string, error) {
		return "/review/u/" + c.Param("user") + "?done=withdrawn-work", s.Reviews.Withdraw(c.Request().Context(), p.V, p.O, c.Param("user"))
	})
}

// reviewRow is one review on the page of every review.
type reviewRow struct {
	Reviewer, Author, State, Total, URL string
	Outlier, Flagged, Late              bool
}

type allReviewsPage struct {
	page
	Rows []reviewRow
}

// AllReviews is GET /a/:link/review/reviews: every review of the
// activity, for staff, with its total, outliers and flags marked.
func (s *Handlers) AllReviews(c echo.Context) error {
	p, err := s.open(c, "Every review")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "read every review"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	rs, err := s.Reviews.ReviewsOfActivity(ctx, p.V.OrgID, p.V.LinkID)
	if err != nil {
		return err
	}
	names, err := s.reviewNames(ctx, p, rs)
	if err != nil {
		return err
	}
	insights, err := s.Reviews.KeptInsights(ctx, p.V)
	if err != nil {
		return err
	}
	outlier := map[string]bool{}
	for _, id := range insights.OutlierIDs {
		outlier[id] = true
	}
	rubrics := map[int]peerreview.Rubric{}
	page := allReviewsPage{page: p}
	for _, r := range rs {
		row := reviewRow{Reviewer: orSomeone(names[r.ReviewerID]), Author: orSomeone(names[r.AuthorID]), State: stateText[r.State],
			URL: p.URL(p.Base + "/review/r/" + r.ID), Outlier: outlier[r.ID], Flagged: r.Flagged != "",
			Late: r.State == peerreview.StateDone && !r.OnTime}
		if r.Self() {
			row.Reviewer = "Self-assessment"
		}
		if r.State == peerreview.StateDone {
			rubric, ok := rubrics[r.RubricVersion]
			if !ok {
				if rubric, err = s.Reviews.RubricVersion(ctx, p.V, p.O, r.RubricVersion); err != nil {
					return err
				}
				rubrics[r.RubricVersion] = rubric
			}
			row.Total = pct(r.Total(rubric))
		}
		page.Rows = append(page.Rows, row)
	}
	return s.RenderPage(c, http.StatusOK, allReviewsView(page))
}

// reviewNames are the names of the people rs name, for staff pages.
func (s *Handlers) reviewNames(ctx context.Context, p page, rs []peerreview.Review) (map[string]string, error) {
	ids := make([]string, 0, 2*len(rs))
	for _, r := range rs {
		ids = append(ids, r.AuthorID, r.ReviewerID)
	}
	return s.Reviews.Names(ctx, p.V.OrgID, ids)
}

// learnersPerPage is how many learners the dashboard's table shows at
// once: enough to scan, few enough that a course of thousands opens fast.
const learnersPerPage = 100

// maxExported bounds the learners of one export.
const maxExported = 100_000
