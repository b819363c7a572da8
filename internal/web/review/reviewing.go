package review

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// reviewPage is a submission beside the rubric: the reviewer's form, or
// (read only) the review for its author or staff.
type reviewPage struct {
	page
	R          peerreview.Review
	Label      string
	Rubric     peerreview.Rubric
	Work       peerreview.Work
	Paragraphs []paragraph
	Files      []fileView
	A          peerreview.Assessment
	Editable   bool
	Action     string
	Error      string
	Field      string
	Saved      bool
	// MustCalibrate is set while examples wait to be assessed first.
	MustCalibrate bool
}

// ReviewPage is GET /a/:link/review/r/:review.
func (s *Handlers) ReviewPage(c echo.Context) error {
	p, err := s.open(c, "Review")
	if err != nil {
		return err
	}
	rp, err := s.reviewPage(c, p, c.Param("review"))
	if err != nil {
		return err
	}
	rp.Saved = c.QueryParam("saved") == "1"
	rp.L.Scripts = []string{"js/review-draft.js"}
	return s.RenderPage(c, http.StatusOK, reviewView(rp))
}

func (s *Handlers) reviewPage(c echo.Context, p page, id string) (reviewPage, error) {
	ctx := c.Request().Context()
	r, err := s.Reviews.ReviewFor(ctx, p.V, p.O, id)
	if err != nil {
		return reviewPage{}, err
	}
	if r.ReviewerID != p.V.UserID && !p.V.Staff {
		// Its author reads it on the feedback page, beside the others.
		return reviewPage{}, roundtable.Errorf(roundtable.ENOTFOUND, "That review is not one you can see in this activity.")
	}
	rp := reviewPage{page: p, R: r, A: r.Assessment}
	if rp.Rubric, err = s.Reviews.RubricVersion(ctx, p.V, p.O, r.RubricVersion); err != nil {
		return rp, err
	}
	if r.State == peerreview.StateAssigned {
		rp.Rubric = p.O.Rubric
	}
	if rp.Work, err = s.Reviews.WorkOf(ctx, p.V.OrgID, r.SubmissionID, r.Version); err != nil {
		return rp, err
	}
	rp.Paragraphs = paragraphs(rp.Work.Body)
	for _, n := range r.Assessment.Notes {
		if n.Paragraph < len(rp.Paragraphs) {
			rp.Paragraphs[n.Paragraph].Mine = n.Text
		}
	}
	rp.Files = p.files(rp.Work, !p.authorNamed() && !r.Self())
	rp.Label = "Review of a classmate’s work"
	switch {
	case r.Self():
		rp.Label = "Assess your own work"
	case p.authorNamed():
		names, err := s.Reviews.Names(ctx, p.V.OrgID, []string{r.AuthorID, r.ReviewerID})
		if err != nil {
			return rp, err
		}
		rp.Label = "Review of " + orSomeone(names[r.AuthorID]) + "’s work"
		if p.V.Staff && r.ReviewerID != p.V.UserID {
			rp.Label += " by " + orSomeone(names[r.ReviewerID])
		}
	}
	rp.Editable = r.ReviewerID == p.V.UserID && !p.Released &&
		(r.State != peerreview.StateDone || p.O.ReviewsDue.IsZero() || s.Now().Before(p.O.ReviewsDue))
	rp.Action = p.L.URL(p.Base + "/review/r/" + r.ID)
	if rp.Editable && !r.Self() {
		_, owed, err := s.calibrations(c, p)
		if err != nil {
			return rp, err
		}
		rp.MustCalibrate = owed > 0
	}
	return rp, nil
}

// readAssessment reads the rubric form: a level and a comment per
// criterion, a comment per paragraph, the overall comment.
func readAssessment(c echo.Context, rubric peerreview.Rubric, paragraphs int) peerreview.Assessment {
	a := peerreview.Assessment{Criteria: map[string]peerreview.Answer{}, Comment: strings.TrimSpace(c.FormValue("comment"))}
	for _, cr := range rubric.Criteria {
		ans := peerreview.Answer{Level: -1, Comment: strings.TrimSpace(strings.ReplaceAll(c.FormValue("comment_"+cr.ID), "\r\n", "\n"))}
		if v := c.FormValue("level_" + cr.ID); v != "" {
			ans.Level = atoi(v, -2)
		}
		a.Criteria[cr.ID] = ans
	}
	for i := range min(paragraphs, peerreview.MaxNotes) {
		if t := strings.TrimSpace(c.FormValue("note_" + strconv.Itoa(i))); t != "" {
			a.Notes = append(a.Notes, peerreview.Note{Paragraph: i, Text: t})
		}
	}
	return a
}

// SaveReview is POST /a/:link/review/r/:review: Save keeps a draft
// (also what the page's script sends as the reviewer types), Submit
// hands the review in.
func (s *Handlers) SaveReview(c echo.Context) error {
	p, err := s.open(c, "Review")
	if err != nil {
		return err
	}
	asScript := c.Request().Header.Get("X-Requested-With") == "fetch"
	if asScript {
		kit.AnswerJSON(c)
	}
	rp, err := s.reviewPage(c, p, c.Param("review"))
	if err != nil {
		return err
	}
	if !rp.Editable {
		return roundtable.Errorf(roundtable.ECONFLICT, "This review can no longer change.")
	}
	final := c.FormValue("action") == "submit"
	if final && rp.MustCalibrate {
		return roundtable.Errorf(roundtable.ECONFLICT, "Assess the examples first: they show you how your instructor reads the rubric.")
	}
	a := readAssessment(c, rp.Rubric, len(rp.Paragraphs))
	r, err := s.Reviews.SaveReview(c.Request().Context(), p.V, p.O, rp.R.ID, a, final)
	if asScript {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"saved": r.UpdatedAt.In(p.O.Location()).Format("15:04")})
	}
	var fe *peerreview.FieldError
	if errors.As(err, &fe) {
		rp.A, rp.Error, rp.Field = a, roundtable.ErrorMessage(err), fe.Field
		for i := range rp.Paragraphs {
			rp.Paragraphs[i].Mine = ""
		}
		for _, n := range a.Notes {
			rp.Paragraphs[n.Paragraph].Mine = n.Text
		}
		return s.RenderPage(c, http.StatusUnprocessableEntity, reviewView(rp))
	}
	if err != nil {
		return err
	}
	if final {
		return s.seeOther(c, p, "/review?reviewed=1")
	}
	return s.seeOther(c, p, "/review/r/"+rp.R.ID+"?saved=1")
}

// feedbackReview is one review of the learner's work, on the feedback page.
type feedbackReview struct {
	R        peerreview.Review
	Who      string
	Rubric   peerreview.Rubric
	Lines    []criterionLine
	RateURL  string
	FlagURL  string
	Version  int
	NotesOff []anchored // notes on a version not shown above
}

type criterionLine struct {
	Title, Level, Comment string
	Points, Max           string
	Scored                bool
}

type feedbackPage struct {
	page
	Mine       peerreview.Submission
	Version    int
	Paragraphs []paragraph
	Reviews    []feedbackReview
	Self       *feedbackReview
	Grade      *gradeLine
	Error      string
	Rated      bool
	Flagged    bool
}

// Feedback is GET /a/:link/review/feedback: once results are released,
// the reviews of the learner's work, per criterion and in place.
func (s *Handlers) Feedback(c echo.Context) error {
	p, err := s.open(c, "Feedback on your work")
	if err != nil {
		return err
	}
	fp, err := s.feedback(c, p, p.V.UserID)
	if err != nil {
		return err
	}
	fp.Rated, fp.Flagged = c.QueryParam("rated") == "1", c.QueryParam("flagged") == "1"
	return s.RenderPage(c, http.StatusOK, feedbackView(fp))
}

func (s *Handlers) feedback(c echo.Context, p page, author string) (feedbackPage, error) {
	ctx := c.Request().Context()
	fp := feedbackPage{page: p}
	mine, ok, err := s.Reviews.SubmissionOf(ctx, p.V, author)
	if err != nil {
		return fp, err
	}
	if !ok {
		return fp, roundtable.Errorf(roundtable.ENOTFOUND, "There is no submission to give feedback on yet.")
	}
	if !p.Released && !p.V.Staff {
		return fp, roundtable.Errorf(roundtable.ECONFLICT, "Feedback is shown once your instructor releases the results.")
	}
	fp.Mine = mine
	rs, err := s.Reviews.ReviewsOfSubmission(ctx, p.V.OrgID, mine.ID)
	if err != nil {
		return fp, err
	}
	var done []peerreview.Review
	versions := map[int]int{}
	ids := []string{}
	for _, r := range rs {
		if r.State == peerreview.StateDone {
			done = append(done, r)
			versions[r.Version]++
			ids = append(ids, r.ReviewerID)
		}
	}
	// The text shown is the version most reviewers read.
	fp.Version = mine.Version
	best := 0
	for v, n := range versions {
		if n > best || (n == best && v > fp.Version) {
			fp.Version, best = v, n
		}
	}
	work, err := s.Reviews.WorkOf(ctx, p.V.OrgID, mine.ID, fp.Version)
	if err != nil {
		return fp, err
	}
	fp.Paragraphs = paragraphs(work.Body)
	names := map[string]string{}
	if p.reviewerNamed() {
		if names, err = s.Reviews.Names(ctx, p.V.OrgID, ids); err != nil {
			return fp, err
		}
	}
	n := 0
	for _, r := range done {
		rubric, err := s.Reviews.RubricVersion(ctx, p.V, p.O, r.RubricVersion)
		if err != nil {
			return fp, err
		}
		fr := feedbackReview{R: r, Rubric: rubric, Version: r.Version,
			RateURL: p.URL(p.Base + "/review/r/" + r.ID + "/rate"), FlagURL: p.URL(p.Base + "/review/r/" + r.ID + "/flag")}
		if r.Self() {
			fr.Who = "Your self-assessment"
		} else {
			n++
			fr.Who = fmt.Sprintf("Reviewer %d", n)
			if p.reviewerNamed() {
				fr.Who = orSomeone(names[r.ReviewerID])
			}
		}
		for _, cr := range rubric.Criteria {
			ans, ok := r.Assessment.Criteria[cr.ID]
			line := criterionLine{Title: cr.Title, Comment: ans.Comment, Scored: cr.Scored()}
			if cr.Scored() && ok && ans.Level >= 0 && ans.Level < len(cr.Levels) {
				l := cr.Levels[ans.Level]
				line.Level = l.Label
				line.Points = strconv.FormatFloat(l.Points, 'f', -1, 64)
				line.Max = strconv.FormatFloat(cr.Max(), 'f', -1, 64)
			}
			fr.Lines = append(fr.Lines, line)
		}
		for _, note := range r.Assessment.Notes {
			a := anchored{Who: fr.Who, Text: note.Text}
			if r.Version == fp.Version && note.Paragraph < len(fp.Paragraphs) {
				fp.Paragraphs[note.Paragraph].Notes = append(fp.Paragraphs[note.Paragraph].Notes, a)
			} else {
				a.Who = fmt.Sprintf("On paragraph %d of version %d", note.Paragraph+1, r.Version)
				fr.NotesOff = append(fr.NotesOff, a)
			}
		}
		if r.Self() {
			self := fr
			fp.Self = &self
			continue
		}
		fp.Reviews = append(fp.Reviews, fr)
	}
	sort.SliceStable(fp.Reviews, func(i, j int) bool { return fp.Reviews[i].Who < fp.Reviews[j].Who && p.reviewerNamed() })
	if g, ok, err := s.Reviews.GradeOf(ctx, p.V, author); err != nil {
		return fp, err
	} else if ok && (p.Released || p.V.Staff) {
		fp.Grade = &gradeLine{Combined: pct(g.Combined), Explanation: g.Explanation}
	}
	return fp, nil
}

// Rate is POST /a/:link/review/r/:review/rate: the author says how
// helpful a review was.
func (s *Handlers) Rate(c echo.Context) error {
	p, err := s.open(c, "Feedback on your work")
	if err != nil {
		return err
	}
	err = s.Reviews.Rate(c.Request().Context(), p.V, p.O, c.Param("review"), atoi(c.FormValue("rating"), 0), c.FormValue("rating_note"))
	if err != nil {
		return s.feedbackError(c, p, err)
	}
	return s.seeOther(c, p, "/review/feedback?rated=1#review-"+c.Param("review"))
}

// Flag is POST /a/:link/review/r/:review/flag: the author tells the
// instructor a review is unfair.
func (s *Handlers) Flag(c echo.Context) error {
	p, err := s.open(c, "Feedback on your work")
	if err != nil {
		return err
	}
	if err := s.Reviews.Flag(c.Request().Context(), p.V, p.O, c.Param("review"), c.FormValue("reason")); err != nil {
		return s.feedbackError(c, p, err)
	}
	return s.seeOther(c, p, "/review/feedback?flagged=1#review-"+c.Param("review"))
}

// feedbackError shows the feedback page again with the error of its form.
func (s *Handlers) feedbackError(c echo.Context, p page, err error) error {
	var fe *peerreview.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	fp, ferr := s.feedback(c, p, p.V.UserID)
	if ferr != nil {
		return ferr
	}
	fp.Error = roundtable.ErrorMessage(err)
	return s.RenderPage(c, http.StatusUnprocessableEntity, feedbackView(fp))
}

// calibratePage is an example to assess, then the instructor's
// assessment beside the learner's.
type calibratePage struct {
	page
	E          peerreview.Example
	Paragraphs []paragraph
	A          peerreview.Assessment
	Done       bool
	Lines      []calibrationLine
	Action     string
	Error      string
	Field      string
}

type calibrationLine struct {
	Title, Yours, Instructors string
	Close                     bool
}

// CalibratePage is GET /a/:link/review/calibrate/:example.
func (s *Handlers) CalibratePage(c echo.Context) error {
	p, err := s.open(c, "Practise on an example")
	if err != nil {
		return err
	}
	cp, err := s.calibratePage(c, p, c.Param("example"))
	if err != nil {
		return err
	}
	return s.RenderPage(c, http.StatusOK, calibrateView(cp))
}

func (s *Handlers) calibratePage(c echo.Context, p page, id string) (calibratePage, error) {
	ctx := c.Request().Context()
	examples, err := s.Reviews.Examples(ctx, p.V)
	if err != nil {
		return calibratePage{}, err
	}
	cp := calibratePage{page: p, Action: p.L.URL(p.Base + "/review/calibrate/" + id)}
	found := false
	for _, e := range examples {
		if e.ID == id {
			cp.E, found = e, true
		}
	}
	if !found {
		return cp, roundtable.Errorf(roundtable.ENOTFOUND, "That example is not in this activity.")
	}
	cp.Paragraphs = paragraphs(cp.E.Body)
	done, err := s.Reviews.Calibrations(ctx, p.V)
	if err != nil {
		return cp, err
	}
	cp.A, cp.Done = done[id]
	if cp.Done {
		for _, cr := range p.O.Rubric.Criteria {
			if !cr.Scored() {
				continue
			}
			y, k := cp.A.Criteria[cr.ID].Level, cp.E.Key.Criteria[cr.ID].Level
			line := calibrationLine{Title: cr.Title, Yours: levelText(cr, y), Instructors: levelText(cr, k)}
			line.Close = y >= 0 && k >= 0 && (y-k <= 1 && k-y <= 1)
			cp.Lines = append(cp.Lines, line)
		}
	}
	return cp, nil
}

func levelText(cr peerreview.Criterion, i int) string {
	if i < 0 || i >= len(cr.Levels) {
		return "—"
	}
	l := cr.Levels[i]
	return fmt.Sprintf("%s (%s)", l.Label, strconv.FormatFloat(l.Points, 'f', -1, 64))
}

// Calibrate is POST /a/:link/review/calibrate/:example.
func (s *Handlers) Calibrate(c echo.Context) error {
	p, err := s.open(c, "Practise on an example")
	if err != nil {
		return err
	}
	a := readAssessment(c, p.O.Rubric, 0)
	err = s.Reviews.Calibrate(c.Request().Context(), p.V, p.O, c.Param("example"), a)
	var fe *peerreview.FieldError
	if errors.As(err, &fe) {
		cp, cerr := s.calibratePage(c, p, c.Param("example"))
		if cerr != nil {
			return cerr
		}
		cp.A, cp.Error, cp.Field = a, roundtable.ErrorMessage(err), fe.Field
		return s.RenderPage(c, http.StatusUnprocessableEntity, calibrateView(cp))
	}
	if err != nil {
		return err
	}
	return s.seeOther(c, p, "/review/calibrate/"+c.Param("example"))
}
