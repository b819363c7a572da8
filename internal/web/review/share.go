package review

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Work samples: once results are released, a learner may share their
// work, with the feedback they choose, as a thread of the activity's own
// cohort discussion (the discussion engine serves the peer review's space
// too); the peer review's home lists them.

// WorkSampleTag marks the threads that share a work sample.
const WorkSampleTag = "work-sample"

type sharePage struct {
	feedbackPage
	Title, Intro string
	Action       string
	Field        string
}

// ShareForm is GET /a/:link/review/share.
func (s *Handlers) ShareForm(c echo.Context) error {
	p, err := s.open(c, "Share your work")
	if err != nil {
		return err
	}
	fp, err := s.shareable(c, p)
	if err != nil {
		return err
	}
	sp := sharePage{feedbackPage: fp, Title: "Work sample: " + p.Activity.Title(), Action: p.L.URL(p.Base + "/review/share")}
	return s.RenderPage(c, http.StatusOK, shareView(sp))
}

// shareable is the learner's released feedback, which sharing draws on.
func (s *Handlers) shareable(c echo.Context, p page) (feedbackPage, error) {
	if p.V.Staff {
		return feedbackPage{}, roundtable.Errorf(roundtable.EFORBIDDEN, "Learners share their own work; staff can start a thread in the discussion.")
	}
	if !p.Released {
		return feedbackPage{}, roundtable.Errorf(roundtable.ECONFLICT, "You can share your work once your instructor releases the results.")
	}
	return s.feedback(c, p, p.V.UserID)
}

// Share is POST /a/:link/review/share: the thread is started in the
// session's space, with the work and the feedback chosen.
func (s *Handlers) Share(c echo.Context) error {
	p, err := s.open(c, "Share your work")
	if err != nil {
		return err
	}
	fp, err := s.shareable(c, p)
	if err != nil {
		return err
	}
	sp := sharePage{feedbackPage: fp, Title: strings.TrimSpace(c.FormValue("title")), Intro: strings.TrimSpace(c.FormValue("intro")),
		Action: p.L.URL(p.Base + "/review/share")}
	chosen := map[string]bool{}
	for _, id := range c.Request().PostForm["include"] {
		chosen[id] = true
	}
	work, err := s.Reviews.WorkOf(c.Request().Context(), p.V.OrgID, fp.Mine.ID, fp.Mine.Version)
	if err != nil {
		return err
	}
	var b strings.Builder
	if sp.Intro != "" {
		b.WriteString(sp.Intro + "\n\n")
	}
	b.WriteString("**My work**\n\n" + work.Body + "\n")
	if work.Link != "" {
		b.WriteString("\n" + work.Link + "\n")
	}
	for _, r := range fp.Reviews {
		if !chosen[r.R.ID] {
			continue
		}
		fmt.Fprintf(&b, "\n---\n\n**Feedback from %s**\n\n", r.Who)
		for _, l := range r.Lines {
			b.WriteString("- " + l.Title + ": ")
			if l.Scored {
				b.WriteString(l.Level + " (" + l.Points + "/" + l.Max + ")")
			}
			if l.Comment != "" {
				if l.Scored {
					b.WriteString(". ")
				}
				b.WriteString(strings.ReplaceAll(l.Comment, "\n", " "))
			}
			b.WriteString("\n")
		}
		if r.R.Assessment.Comment != "" {
			b.WriteString("\n" + r.R.Assessment.Comment + "\n")
		}
	}
	body := b.String()
	if n := utf8.RuneCountInString(body); n > discussion.MaxBody {
		return s.shareError(c, sp, "body", fmt.Sprintf("Your work with this feedback is %d characters; a thread holds %d. Choose less feedback, or shorten the introduction.", n, discussion.MaxBody))
	}
	sess := c.Get(kit.CtxSession).(session.Session)
	id, err := s.Discussions.CreateThread(c.Request().Context(), kit.ViewerOf(c, sess), discussion.ThreadInput{Kind: discussion.Discussion,
		Title: sp.Title, Body: body, Tags: WorkSampleTag, Anonymous: c.FormValue("anonymous") == "1"})
	var fe *discussion.FieldError
	if errors.As(err, &fe) {
		return s.shareError(c, sp, fe.Field, roundtable.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.seeOther(c, p, "/t/"+id)
}

func (s *Handlers) shareError(c echo.Context, sp sharePage, field, msg string) error {
	sp.Error, sp.Field = msg, field
	return s.RenderPage(c, http.StatusUnprocessableEntity, shareView(sp))
}

// sampleLink is a shared work sample on the peer review's home.
type sampleLink struct {
	Title, Who, URL string
}

// workSamples are the work samples shared in the session's space.
func (s *Handlers) workSamples(c echo.Context, p page) ([]sampleLink, error) {
	sess := c.Get(kit.CtxSession).(session.Session)
	list, err := s.Discussions.List(c.Request().Context(), kit.ViewerOf(c, sess), discussion.ListQuery{Tag: WorkSampleTag, Sort: discussion.SortNewest, Limit: 20})
	if err != nil {
		return nil, err
	}
	out := make([]sampleLink, len(list.Threads))
	for i, t := range list.Threads {
		out[i] = sampleLink{Title: t.Title, Who: t.Author.Label(), URL: p.URL(p.Base + "/t/" + t.ID)}
	}
	return out, nil
}
