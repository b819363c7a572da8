package review

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// givenRow is a review a learner gave or received, for staff.
type givenRow struct {
	ID, Other, State, URL, RemoveURL string
	Flagged, Outlier                 bool
}

// learnerPage is one learner's work, reviews and grade, for staff; where
// the LMS gradebook's submission review lands.
type learnerPage struct {
	page
	UserID, Name string
	Submitted    bool
	Sub          peerreview.Submission
	Work         peerreview.Work
	Paragraphs   []paragraph
	Files        []fileView
	Versions     []peerreview.Work
	Received     []givenRow
	Given        []givenRow
	Grade        *peerreview.GradeRow
	GradeText    string
	Candidates   []peerreview.Member
	Notice       string
	OverrideURL  string
	AssignURL    string
	WithdrawURL  string
}

// LearnerPage is GET /a/:link/review/u/:user, for staff.
func (s *Handlers) LearnerPage(c echo.Context) error {
	p, err := s.open(c, "A learner’s peer review")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "read a learner’s peer review"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	user := c.Param("user")
	lp := learnerPage{page: p, UserID: user, Notice: notices[c.QueryParam("done")],
		OverrideURL: p.L.URL(p.Base + "/review/u/" + user + "/override"), AssignURL: p.L.URL(p.Base + "/review/u/" + user + "/assign"),
		WithdrawURL: p.L.URL(p.Base + "/review/u/" + user + "/withdraw")}
	members, err := s.Reviews.Members(ctx, p.V)
	if err != nil {
		return err
	}
	names := map[string]string{}
	known := false
	for _, m := range members {
		names[m.UserID] = m.Name
		if m.UserID == user {
			known = true
		} else {
			lp.Candidates = append(lp.Candidates, m)
		}
	}
	if lp.Sub, lp.Submitted, err = s.Reviews.SubmissionOf(ctx, p.V, user); err != nil {
		return err
	}
	if !known && !lp.Submitted {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That person has no place in this peer review.")
	}
	if !known {
		more, err := s.Reviews.Names(ctx, p.V.OrgID, []string{user})
		if err != nil {
			return err
		}
		names[user] = more[user]
	}
	lp.Name = orSomeone(names[user])
	lp.L.Title = lp.Name + "’s peer review"
	if lp.Submitted {
		version := lp.Sub.Version
		if v := atoi(c.QueryParam("v"), 0); v > 0 && v <= lp.Sub.Version {
			version = v
		}
		if lp.Work, err = s.Reviews.WorkOf(ctx, p.V.OrgID, lp.Sub.ID, version); err != nil {
			return err
		}
		lp.Paragraphs, lp.Files = paragraphs(lp.Work.Body), p.files(lp.Work, false)
		if lp.Versions, err = s.Reviews.Versions(ctx, p.V.OrgID, lp.Sub.ID); err != nil {
			return err
		}
	}
	// Only this learner's reviews, given and received.
	rs, err := s.Reviews.ReviewsInvolving(ctx, p.V, user)
	if err != nil {
		return err
	}
	more, err := s.reviewNames(ctx, p, rs)
	if err != nil {
		return err
	}
	for k, v := range more {
		names[k] = v
	}
	for _, r := range rs {
		row := givenRow{ID: r.ID, State: stateText[r.State], URL: p.URL(p.Base + "/review/r/" + r.ID), Flagged: r.Flagged != "",
			RemoveURL: p.L.URL(p.Base + "/review/r/" + r.ID + "/remove")}
		if r.State == peerreview.StateDone && r.DoneAt != nil && !r.OnTime {
			row.State += " (late)"
		}
		switch {
		case r.AuthorID == user && r.ReviewerID == user:
			row.Other = "Self-assessment"
			lp.Received = append(lp.Received, row)
		case r.AuthorID == user:
			row.Other = orSomeone(names[r.ReviewerID])
			lp.Received = append(lp.Received, row)
		case r.ReviewerID == user:
			row.Other = orSomeone(names[r.AuthorID])
			lp.Given = append(lp.Given, row)
		}
	}
	if g, ok, err := s.Reviews.GradeOf(ctx, p.V, user); err != nil {
		return err
	} else if ok {
		lp.Grade, lp.GradeText = &g, pct(g.Combined)
	}
	return s.RenderPage(c, http.StatusOK, learnerStaffView(lp))
}

// examplePage is the editor of a calibration example: its text and the
// instructor's own assessment with the rubric.
type examplePage struct {
	page
	E      peerreview.Example
	Action string
	Error  string
	Field  string
}

// ExampleForm is GET /a/:link/review/examples/new and /examples/:example.
func (s *Handlers) ExampleForm(c echo.Context) error {
	p, err := s.open(c, "Calibration example")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "edit calibration examples"); err != nil {
		return err
	}
	ep := examplePage{page: p, Action: p.L.URL(p.Base + "/review/examples")}
	if id := c.Param("example"); id != "" {
		examples, err := s.Reviews.Examples(c.Request().Context(), p.V)
		if err != nil {
			return err
		}
		found := false
		for _, e := range examples {
			if e.ID == id {
				ep.E, found = e, true
			}
		}
		if !found {
			return roundtable.Errorf(roundtable.ENOTFOUND, "That example is not in this activity.")
		}
	}
	return s.RenderPage(c, http.StatusOK, exampleView(ep))
}

// SaveExample is POST /a/:link/review/examples.
func (s *Handlers) SaveExample(c echo.Context) error {
	p, err := s.open(c, "Calibration example")
	if err != nil {
		return err
	}
	if err := requireStaff(p, "edit calibration examples"); err != nil {
		return err
	}
	e := peerreview.Example{ID: strings.TrimSpace(c.FormValue("id")), Title: c.FormValue("title"), Body: c.FormValue("body"),
		Key: readAssessment(c, p.O.Rubric, 0)}
	saved, err := s.Reviews.SaveExample(c.Request().Context(), p.V, p.O, e)
	var fe *peerreview.FieldError
	if errors.As(err, &fe) {
		ep := examplePage{page: p, E: e, Action: p.L.URL(p.Base + "/review/examples"), Error: roundtable.ErrorMessage(err), Field: fe.Field}
		return s.RenderPage(c, http.StatusUnprocessableEntity, exampleView(ep))
	}
	if err != nil {
		return err
	}
	_ = saved
	return s.seeOther(c, p, "/review/dashboard?done=example")
}
