package ltiplatform

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/roundtable-lms/roundtable/lti"
)

// The demo LMS's gradebook: the tools' line items as columns, learners as
// rows, the scores that stand, the recent service requests, and a switch
// that makes the services fail so a demo can show scores waiting and
// arriving once the LMS recovers.

type gradebookPage struct {
	layout
	Course     Course
	CourseHref string
	Action     string
	Columns    []gradeColumn
	Rows       []gradeRow
	Requests   []requestRow
	Failing    bool
	FaultText  string
}

type gradeColumn struct {
	LineItem
	ToolName string
}

type gradeRow struct {
	UserID, Name string
	Cells        []gradeCell
}

type gradeCell struct {
	Score    string // "8.5 / 10", or empty
	Activity string
	Grading  string
	Ignored  int // scores received but not applied (stale timestamps)
	At       string
	// ReviewHref opens the learner's work in the tool, as the course's
	// first staff member (a submission review); empty for a column of
	// no resource link, or in a course without staff.
	ReviewHref string
}

type requestRow struct {
	Time, Tool, Method, Path string
	Status                   int
	OK                       bool
}

// GradebookPath is the demo gradebook of a course.
func GradebookPath(courseID string) string {
	return "/courses/" + url.PathEscape(courseID) + "/gradebook"
}

func (p *Platform) handleGradebook(w http.ResponseWriter, r *http.Request) {
	course, err := p.Course(r.PathValue("id"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Course not found", "There is no such course.")
		return
	}
	members, _ := p.Users(course.ID)
	pg := &gradebookPage{layout: p.layout("Gradebook · " + course.Title), Course: course,
		CourseHref: "/courses/" + url.PathEscape(course.ID), Action: GradebookPath(course.ID) + "/services"}
	names := map[string]string{}
	for _, t := range p.Tools() {
		names[t.ClientID] = t.Name
	}
	for _, li := range p.LineItems(course.ID) {
		name := names[li.ClientID]
		if name == "" {
			name = li.ClientID
		}
		pg.Columns = append(pg.Columns, gradeColumn{LineItem: li, ToolName: name})
	}
	reviewer := ""
	for _, m := range members {
		if canAddActivities(m.Roles) {
			reviewer = m.ID
			break
		}
	}
	for _, m := range members {
		if !slices.Contains(m.Roles, lti.RoleLearner) {
			continue
		}
		row := gradeRow{UserID: m.ID, Name: displayName(m.User)}
		for _, col := range pg.Columns {
			cell := p.gradeCell(col.LineItem, m.ID)
			if reviewer != "" && col.ResourceLinkID != "" {
				if l, err := p.Link(col.ResourceLinkID); err == nil && l.CourseID == course.ID {
					cell.ReviewHref = ReviewPagePath(course.ID, l.ID, reviewer, m.ID)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		pg.Rows = append(pg.Rows, row)
	}
	reqs := p.ServiceRequests()
	for i := len(reqs) - 1; i >= 0 && len(pg.Requests) < serviceLogOnPage; i-- {
		rq := reqs[i]
		pg.Requests = append(pg.Requests, requestRow{Time: rq.Time.UTC().Format("15:04:05"), Tool: rq.ClientID,
			Method: rq.Method, Path: rq.Path, Status: rq.Status, OK: rq.Status >= 200 && rq.Status < 300})
	}
	if f, on := p.ServiceFault(); on {
		pg.Failing = true
		pg.FaultText = fmt.Sprintf("The services answer %d %s to every request.", f.Status, http.StatusText(f.Status))
	}
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, &pg.layout, gradebookView(pg))
}

func (p *Platform) gradeCell(li LineItem, userID string) gradeCell {
	var c gradeCell
	for _, s := range p.Scores(li.ID) {
		if s.UserID == userID && !s.Applied {
			c.Ignored++
		}
	}
	s, ok := p.LatestScore(li.ID, userID)
	if !ok {
		return c
	}
	c.Activity, c.Grading = s.ActivityProgress, s.GradingProgress
	c.At = s.Timestamp.UTC().Format("2006-01-02 15:04:05")
	if s.ScoreGiven != nil && s.ScoreMaximum != nil {
		c.Score = formatScore(*s.ScoreGiven) + " / " + formatScore(*s.ScoreMaximum)
	}
	return c
}

func formatScore(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(f, 'f', 2, 64), "0"), ".")
}

// handleGradebookServices switches the services to failing and back.
func (p *Platform) handleGradebookServices(w http.ResponseWriter, r *http.Request) {
	course, err := p.Course(r.PathValue("id"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Course not found", "There is no such course.")
		return
	}
	switch r.FormValue("action") {
	case "fail":
		p.FailServices(Fault{Status: http.StatusInternalServerError})
		p.log.InfoContext(r.Context(), "services switched to failing from the gradebook")
	case "recover":
		p.ClearServiceFault()
		p.log.InfoContext(r.Context(), "services switched back from the gradebook")
	default:
		p.errorPage(w, r, http.StatusBadRequest, "Unknown action", "Choose to make the services fail or to recover them.")
		return
	}
	http.Redirect(w, r, GradebookPath(course.ID), http.StatusSeeOther)
}
