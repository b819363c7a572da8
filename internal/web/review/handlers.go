//go:generate go tool templ generate

// Package review is the peer review's pages: a learner's home (phase,
// their work, the reviews they owe, feedback once released), the work
// form, the review page beside the rubric, calibration, and the
// instructor's dashboard with its actions and export.
package review

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/blob"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Handlers serve the peer review's pages.
type Handlers struct {
	*kit.Base
	Reviews *peerreview.Store
	// Blobs keep submitted files (nil: the activity takes no files).
	Blobs blob.Store
	// PerDay bounds what one person uploads in a day, in bytes (0: no bound).
	PerDay int64
}

// page is what every peer-review page knows: the base, the session's
// person in the activity, the activity and its options.
type page struct {
	kit.ActivityBase
	V        peerreview.Viewer
	Activity course.Activity
	O        peerreview.Options
	Released bool
	Phase    peerreview.Phase
	// loc is the options' time zone, loaded once per page.
	loc *time.Location
}

// errNotPeerReview answers a peer review's URL in an activity of another kind.
var errNotPeerReview = roundtable.Errorf(roundtable.ENOTFOUND, "This activity is not a peer review.")

// open reads what every page needs; title is the page's title.
func (s *Handlers) open(c echo.Context, title string) (page, error) {
	b, sess := s.ActivityBase(c, title)
	ctx := c.Request().Context()
	a, ok := s.Prefetched.Take(sess.IDHash, sess.LinkID)
	if !ok {
		var err error
		if a, err = s.Courses.Activity(ctx, sess.OrgID, sess.LinkID, sess.UserID, sess.CohortID); err != nil {
			return page{}, err
		}
	}
	return s.openActivity(c, b, sess, a)
}

func (s *Handlers) openActivity(c echo.Context, b kit.ActivityBase, sess session.Session, a course.Activity) (page, error) {
	o, ok := a.Settings.Options.(peerreview.Options)
	if !ok {
		return page{}, errNotPeerReview
	}
	if b.L.Title == "" {
		b.L.Title = a.Title()
	}
	v := peerreview.Viewer{OrgID: sess.OrgID, CourseID: sess.CourseID, LinkID: sess.LinkID, CohortID: sess.CohortID,
		UserID: sess.UserID, Staff: sess.Roles.IsStaff()}
	released, err := s.Reviews.Released(c.Request().Context(), v.OrgID, v.LinkID)
	if err != nil {
		return page{}, err
	}
	// Results released on a date go out when the activity is first
	// opened after it (the gradebook's scores with them).
	if released, err = s.Reviews.ReleaseIfDue(c.Request().Context(), v, o, released); err != nil {
		return page{}, err
	}
	p := page{ActivityBase: b, V: v, Activity: a, O: o, Released: released, loc: o.Location()}
	p.Phase = o.PhaseAt(s.Now(), released)
	p.Released = p.Phase == peerreview.PhaseReleased
	return p, nil
}

// Home is the activity's page when it is a peer review: the discussion's
// list hands it over (see discuss.Handlers.List).
func (s *Handlers) Home(c echo.Context, a course.Activity) error {
	b, sess := s.ActivityBase(c, a.Title())
	p, err := s.openActivity(c, b, sess, a)
	if err != nil {
		return err
	}
	return s.home(c, p)
}

// HomePage is GET /a/:link/review, the same page by its own address.
func (s *Handlers) HomePage(c echo.Context) error {
	p, err := s.open(c, "")
	if err != nil {
		return err
	}
	return s.home(c, p)
}

// path is an address of the activity's pages.
func (p page) path(rest string) string { return p.Base + rest }

// url is an address of the activity's pages in the session, for a link.
func (p page) url(rest string) templ.SafeURL { return templ.SafeURL(p.URL(p.Base + rest)) }

// when writes a date in the activity's time zone.
func (p page) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc := p.loc
	if loc == nil {
		loc = p.O.Location()
	}
	return t.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
}

// dueText says when reviews are due, for the queue.
func (p page) reviewsDueText() string {
	if p.O.ReviewsDue.IsZero() {
		return ""
	}
	return "due " + p.when(p.O.ReviewsDue)
}

// authorNamed reports whether a reviewer learns whose work they review.
func (p page) authorNamed() bool { return p.V.Staff || p.O.Anonymity == peerreview.Open }

// reviewerNamed reports whether an author learns who reviewed them.
func (p page) reviewerNamed() bool { return p.V.Staff || p.O.Anonymity != peerreview.DoubleBlind }

// requireStaff refuses learners a staff page or action.
func requireStaff(p page, what string) error {
	if !p.V.Staff {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "Only the course's instructors and teaching assistants can %s.", what)
	}
	return nil
}

// seeOther answers a POST with a 303 to one of the activity's pages.
func (s *Handlers) seeOther(c echo.Context, p page, rest string) error {
	return c.Redirect(http.StatusSeeOther, p.URL(p.Base+rest))
}

// pct writes a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// neutralName is a file's name as double-blind shows it: its position
// and its extension, nothing the author typed.
func neutralName(i int, f peerreview.File) string {
	ext := ""
	if dot := strings.LastIndexByte(f.Name, '.'); dot >= 0 && len(f.Name)-dot <= 6 {
		ext = strings.ToLower(f.Name[dot:])
	}
	return fmt.Sprintf("file-%d%s", i+1, ext)
}

// fileURL is where a file is served in the session, under name.
func (p page) fileURL(f peerreview.File, name string) string {
	return p.URL(p.Base + "/review/files/" + url.PathEscape(f.ID) + "/" + url.PathEscape(name))
}
