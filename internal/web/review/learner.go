package review

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// phaseStep is one date of the activity's timeline.
type phaseStep struct {
	Label, When  string
	Past, Active bool
}

// timeline lists the activity's dates, marking the phase it is in.
func (p page) timeline() []phaseStep {
	now := p.Now
	var out []phaseStep
	add := func(label string, t interface{ IsZero() bool }, when string, past bool, active bool) {
		if t.IsZero() {
			return
		}
		out = append(out, phaseStep{Label: label, When: when, Past: past, Active: active})
	}
	o := p.O
	add("Submissions open", o.Opens, p.when(o.Opens), !now.Before(o.Opens), p.Phase == peerreview.PhaseNotOpen)
	add("Submissions due", o.Due, p.when(o.Due), !now.Before(o.Due), p.Phase == peerreview.PhaseSubmission)
	add("Late submissions close", o.LateUntil, p.when(o.LateUntil), !now.Before(o.LateUntil), p.Phase == peerreview.PhaseLate)
	add("Reviews due", o.ReviewsDue, p.when(o.ReviewsDue), !now.Before(o.ReviewsDue), p.Phase == peerreview.PhaseReview)
	if o.Release == peerreview.ReleaseOnDate {
		add("Results released", o.ReleaseAt, p.when(o.ReleaseAt), !now.Before(o.ReleaseAt), p.Phase == peerreview.PhaseReleased)
	}
	return out
}

// queueItem is one review in a learner's queue.
type queueItem struct {
	Label, State, URL string
	Done, Self        bool
}

type calibrationItem struct {
	Title, URL string
	Done       bool
}

type homePage struct {
	page
	Timeline     []phaseStep
	Instructions template.HTML
	Mine         peerreview.Submission
	Submitted    bool
	Accepting    bool
	LateNow      bool
	Queue        []queueItem
	Owed         int
	Calibrations []calibrationItem
	// CalibrationOwed is how many examples the learner must assess before
	// reviewing peers.
	CalibrationOwed int
	Grade           *gradeLine
	FeedbackURL     string
	// OneMore offers a finished reviewer a review nobody began, a day
	// before reviews are due.
	OneMore    bool
	OneMoreURL string
	// JoinURL lets a learner who did not submit review, where allowed.
	JoinURL string
	// Samples are the work samples classmates shared.
	Samples  []sampleLink
	ShareURL string
}

type gradeLine struct {
	Combined    string
	Explanation string
}

func (s *Handlers) home(c echo.Context, p page) error {
	ctx := c.Request().Context()
	h := homePage{page: p, Timeline: p.timeline(), Instructions: markdown.Render(p.Activity.Settings.Instructions)}
	var err error
	if h.Mine, h.Submitted, err = s.Reviews.Mine(ctx, p.V); err != nil {
		return err
	}
	h.Accepting, h.LateNow = p.O.AcceptsWork(s.Now(), p.Released)
	rs, err := s.Reviews.ReviewsBy(ctx, p.V)
	if err != nil {
		return err
	}
	if h.Queue, h.Owed, err = s.queue(c, p, rs); err != nil {
		return err
	}
	if h.Calibrations, h.CalibrationOwed, err = s.calibrations(c, p); err != nil {
		return err
	}
	if !p.V.Staff && len(h.Queue) > 0 && h.Owed == 0 {
		if h.OneMore, err = s.Reviews.CanTakeOneMore(ctx, p.V, p.O); err != nil {
			return err
		}
		h.OneMoreURL = p.L.URL(p.Base + "/review/one-more")
	}
	if p.O.OthersReview && !p.V.Staff && !h.Submitted && len(h.Queue) == 0 && !p.Released {
		h.JoinURL = p.L.URL(p.Base + "/review/join")
	}
	if h.Samples, err = s.workSamples(c, p); err != nil {
		return err
	}
	if p.Released && h.Submitted {
		h.FeedbackURL = p.URL(p.Base + "/review/feedback")
		h.ShareURL = p.URL(p.Base + "/review/share")
		if g, ok, err := s.Reviews.GradeOf(ctx, p.V, p.V.UserID); err != nil {
			return err
		} else if ok {
			h.Grade = &gradeLine{Combined: pct(g.Combined), Explanation: g.Explanation}
		}
	}
	return s.RenderPage(c, http.StatusOK, homeView(h))
}

// queue is the learner's reviews as the queue lists them, and how many
// are still owed.
func (s *Handlers) queue(c echo.Context, p page, rs []peerreview.Review) ([]queueItem, int, error) {
	var names map[string]string
	if p.authorNamed() {
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.AuthorID
		}
		var err error
		if names, err = s.Reviews.Names(c.Request().Context(), p.V.OrgID, ids); err != nil {
			return nil, 0, err
		}
	}
	var out []queueItem
	owed, n := 0, 0
	for _, r := range rs {
		it := queueItem{URL: p.URL(p.Base + "/review/r/" + r.ID), Done: r.State == peerreview.StateDone, Self: r.Self()}
		switch {
		case r.Self():
			it.Label = "Your own work (self-assessment)"
		case p.authorNamed():
			n++
			it.Label = fmt.Sprintf("%s’s work", orSomeone(names[r.AuthorID]))
		default:
			n++
			it.Label = fmt.Sprintf("Submission %d", n)
		}
		switch r.State {
		case peerreview.StateDone:
			it.State = "Submitted"
		case peerreview.StateDraft:
			it.State = "Draft saved"
		default:
			it.State = "Not started"
		}
		if !it.Done {
			owed++
		}
		out = append(out, it)
	}
	return out, owed, nil
}

func orSomeone(name string) string {
	if name == "" {
		return "A classmate"
	}
	return name
}

// calibrations are the examples to assess before reviewing.
func (s *Handlers) calibrations(c echo.Context, p page) ([]calibrationItem, int, error) {
	if !p.O.Calibration || p.V.Staff {
		return nil, 0, nil
	}
	ctx := c.Request().Context()
	examples, err := s.Reviews.Examples(ctx, p.V)
	if err != nil {
		return nil, 0, err
	}
	done, err := s.Reviews.Calibrations(ctx, p.V)
	if err != nil {
		return nil, 0, err
	}
	var out []calibrationItem
	owed := 0
	for _, e := range examples {
		_, ok := done[e.ID]
		if !ok {
			owed++
		}
		out = append(out, calibrationItem{Title: e.Title, URL: p.URL(p.Base + "/review/calibrate/" + e.ID), Done: ok})
	}
	return out, owed, nil
}

// workPage is the form of a learner's work.
type workPage struct {
	page
	Mine      peerreview.Submission
	Submitted bool
	Work      peerreview.Work
	Action    string
	Error     string
	Field     string
	Late      bool
}

// WorkForm is GET /a/:link/review/work: the learner's work to submit or
// edit while submissions are open.
func (s *Handlers) WorkForm(c echo.Context) error {
	p, err := s.open(c, "Your work")
	if err != nil {
		return err
	}
	w := workPage{page: p}
	if err := s.fillWork(c, &w); err != nil {
		return err
	}
	return s.RenderPage(c, http.StatusOK, workView(w))
}

func (s *Handlers) fillWork(c echo.Context, w *workPage) error {
	ctx := c.Request().Context()
	var err error
	if w.Mine, w.Submitted, err = s.Reviews.Mine(ctx, w.V); err != nil {
		return err
	}
	if w.Submitted {
		if w.Work, err = s.Reviews.WorkOf(ctx, w.V.OrgID, w.Mine.ID, w.Mine.Version); err != nil {
			return err
		}
	}
	var ok bool
	ok, w.Late = w.O.AcceptsWork(s.Now(), w.Released)
	if !ok {
		return roundtable.Errorf(roundtable.ECONFLICT, "Submissions are closed for this activity (%s).", strings.ToLower(w.Phase.String()))
	}
	// The action carries the tokens: the body is read as a stream, before
	// any form field (see kit.StreamedBody).
	w.Action = w.URL(w.Base + "/review/work?csrf=" + url.QueryEscape(w.CSRF))
	return nil
}

// SubmitWork is POST /a/:link/review/work: a new version, its files
// streamed to the blob store as they arrive.
func (s *Handlers) SubmitWork(c echo.Context) error {
	p, err := s.open(c, "Your work")
	if err != nil {
		return err
	}
	in, uploaded, err := s.readWork(c, p)
	if err == nil {
		_, err = s.Reviews.Submit(c.Request().Context(), p.V, p.O, in)
	}
	if err != nil {
		s.dropUploads(c, p, uploaded)
		var fe *peerreview.FieldError
		code := roundtable.ErrorCode(err)
		if errors.As(err, &fe) || code == roundtable.EINVALID || code == roundtable.ETOOLARGE {
			w := workPage{page: p}
			if ferr := s.fillWork(c, &w); ferr != nil {
				return ferr
			}
			w.Work.Body, w.Work.Link = in.Body, in.Link
			w.Error = roundtable.ErrorMessage(err)
			w.Field = "body"
			if fe != nil {
				w.Field = fe.Field
			}
			status := http.StatusUnprocessableEntity
			if code == roundtable.ETOOLARGE {
				status = http.StatusRequestEntityTooLarge
			}
			return s.RenderPage(c, status, workView(w))
		}
		return err
	}
	return s.seeOther(c, p, "/review?submitted=1")
}

// paragraph is one block of a text submission, with the comments anchored
// to it.
type paragraph struct {
	Index int
	HTML  template.HTML
	// Mine is the reader's own comment on it (the reviewer's form);
	// Notes the reviewers' comments shown to the author.
	Mine  string
	Notes []anchored
}

type anchored struct {
	Who, Text string
}

// Paragraphs splits a text submission into its blocks, as reviewers
// anchor comments to them: blank lines separate blocks, except inside a
// fenced code block.
func Paragraphs(body string) []string {
	var out []string
	var cur []string
	fence := ""
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for line := range strings.SplitSeq(body, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "":
			cur = append(cur, line)
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
			cur = append(cur, line)
		case trimmed == "":
			flush()
		default:
			cur = append(cur, line)
		}
	}
	flush()
	return out
}

// paragraphs renders a text's blocks.
func paragraphs(body string) []paragraph {
	blocks := Paragraphs(body)
	out := make([]paragraph, len(blocks))
	for i, b := range blocks {
		out[i] = paragraph{Index: i, HTML: markdown.Render(b)}
	}
	return out
}

// fileView is a file of a submission as a page shows it.
type fileView struct {
	Name, URL, Type string
	Size            int64
	Image, PDF      bool
}

func (p page) files(w peerreview.Work, neutral bool) []fileView {
	out := make([]fileView, len(w.Files))
	for i, f := range w.Files {
		name := f.Name
		if neutral {
			name = neutralName(i, f)
		}
		out[i] = fileView{Name: name, URL: p.fileURL(f, name), Type: f.ContentType, Size: f.Size,
			Image: strings.HasPrefix(f.ContentType, "image/"), PDF: f.ContentType == "application/pdf"}
	}
	return out
}

// sizeText writes a file size for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// atoi reads a form's whole number, def when absent or not a number.
func atoi(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// hasAnswer reports whether a gave criterion id a level.
func hasAnswer(a peerreview.Assessment, id string) bool {
	ans, ok := a.Criteria[id]
	return ok && ans.Level >= 0
}

// TakeOneMore is POST /a/:link/review/one-more: a finished reviewer takes
// a review nobody began.
func (s *Handlers) TakeOneMore(c echo.Context) error {
	p, err := s.open(c, "Review one more")
	if err != nil {
		return err
	}
	id, err := s.Reviews.TakeOneMore(c.Request().Context(), p.V, p.O)
	if err != nil {
		return err
	}
	return s.seeOther(c, p, "/review/r/"+id)
}

// JoinAsReviewer is POST /a/:link/review/join: a learner who did not
// submit asks for classmates' work to review, where staff allowed it.
func (s *Handlers) JoinAsReviewer(c echo.Context) error {
	p, err := s.open(c, "Review classmates’ work")
	if err != nil {
		return err
	}
	if _, err := s.Reviews.JoinAsReviewer(c.Request().Context(), p.V, p.O); err != nil {
		return err
	}
	return s.seeOther(c, p, "/review")
}
