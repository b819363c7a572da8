package discuss

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// duplicatePage is where staff find the thread a thread duplicates: they
// type words of its title and pick it from the matching threads of the
// cohort's space.
type duplicatePage struct {
	kit.ActivityBase
	Thread discussion.Thread
	// ThreadURL is the thread's page; Action marks it a duplicate;
	// SearchAction is the GET form's (its session token a field).
	ThreadURL, Action, SearchAction string
	// OriginalURL is the thread's original's, when it is a duplicate.
	OriginalURL string
	// Query is what was searched (empty before the first search).
	Query      string
	Candidates []duplicateCandidate
}

type duplicateCandidate struct {
	discussion.ThreadRef
	URL string
}

// DuplicateForm searches the titles of the cohort's threads for ?q= and
// lists each match with a button that marks this thread a duplicate of
// it (staff). It works as a plain GET form and plain POST buttons.
func (s *Handlers) DuplicateForm(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Mark as duplicate")
	if _, err := requireStaffSession(c); err != nil {
		return err
	}
	v := kit.ViewerOf(c, sess)
	t, err := s.Discussions.ListedThread(c.Request().Context(), v, c.Param("thread"))
	if err != nil {
		return err
	}
	threadPath := b.Base + "/t/" + url.PathEscape(t.ID)
	page := duplicatePage{ActivityBase: b, Thread: t, ThreadURL: b.L.URL(threadPath), Action: b.L.URL(threadPath + "/duplicate"),
		SearchAction: threadPath + "/duplicate", Query: strings.TrimSpace(c.QueryParam("q"))}
	if t.Original.ID != "" {
		page.OriginalURL = b.L.URL(b.Base + "/t/" + url.PathEscape(t.Original.ID))
	}
	page.L.Title = "Mark “" + t.Title + "” as a duplicate"
	if page.Query != "" {
		found, err := s.Discussions.DuplicateCandidates(c.Request().Context(), v, t.ID, page.Query)
		if err != nil {
			return err
		}
		for _, f := range found {
			page.Candidates = append(page.Candidates, duplicateCandidate{ThreadRef: f, URL: b.L.URL(b.Base + "/t/" + url.PathEscape(f.ID))})
		}
	}
	page.L.Scripts = append(page.L.Scripts, "js/duplicate-search.js")
	return s.RenderPage(c, http.StatusOK, duplicateView(&page))
}
