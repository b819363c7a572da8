package discuss

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Search, similar-thread suggestions and duplicates in a cohort's space.

type searchResultView struct {
	discussion.SearchResult
	URL string
	// Now is when the page is written, for the result's time.
	Now time.Time
}

type searchPage struct {
	kit.ActivityBase
	Query   string
	Message string
	Results []searchResultView
}

// Search shows the posts of the cohort's space that match ?q=.
func (s *Handlers) Search(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Search")
	q := strings.TrimSpace(c.QueryParam("q"))
	page := searchPage{ActivityBase: b, Query: q}
	if q != "" {
		b.L.Title = "Search: " + q
		page.ActivityBase = b
	}
	res, err := s.Discussions.Search(c.Request().Context(), kit.ViewerOf(c, sess), q, discussion.DefaultSearch)
	switch {
	case errors.Is(err, discussion.ErrQueryEmpty), errors.Is(err, discussion.ErrQueryTooShort):
		page.Message = roundtable.ErrorMessage(err)
	case err != nil:
		return err
	case len(res) == 0:
		page.Message = fmt.Sprintf("Nothing in your cohort's discussion matches %q. Try fewer or other words.", q)
	}
	for _, r := range res {
		page.Results = append(page.Results, searchResultView{SearchResult: r, URL: postLink(b.L, b.Base, r.ThreadID, r.PostID), Now: b.Now})
	}
	return s.RenderPage(c, http.StatusOK, searchPageView(&page))
}

type suggestion struct {
	discussion.SimilarThread
	URL string
}

// Suggest answers suggest.js with a fragment of HTML: threads of the cohort
// similar to the ?title= being typed, or nothing.
func (s *Handlers) Suggest(c echo.Context) error {
	b, sess := s.ActivityBase(c, "")
	similar, err := s.Discussions.Similar(c.Request().Context(), kit.ViewerOf(c, sess), c.QueryParam("title"), discussion.MaxSimilar)
	if err != nil {
		return err
	}
	var items []suggestion
	for _, t := range similar {
		items = append(items, suggestion{SimilarThread: t, URL: b.L.URL(b.Base + "/t/" + t.ID)})
	}
	if len(items) == 0 {
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.HTMLBlob(http.StatusOK, nil)
	}
	return s.RenderPage(c, http.StatusOK, suggestionList(items))
}

// threadRefID reads a thread id from what staff typed: the id itself, or a
// link to the thread (…/t/<id>…).
func threadRefID(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.LastIndex(ref, "/t/"); i >= 0 {
		ref = ref[i+3:]
		if j := strings.IndexAny(ref, "/?#"); j >= 0 {
			ref = ref[:j]
		}
		if u, err := url.PathUnescape(ref); err == nil {
			ref = u
		}
	}
	return strings.TrimSpace(ref)
}

// MarkDuplicate marks the thread as a duplicate of another (staff), or
// unmarks it.
func (s *Handlers) MarkDuplicate(c echo.Context) error {
	_, sess := s.ActivityBase(c, "")
	threadID := c.Param("thread")
	of := ""
	if c.FormValue("unmark") != "1" {
		if of = threadRefID(c.FormValue("of")); of == "" {
			return roundtable.Errorf(roundtable.EINVALID, "Give the link or id of the thread this one duplicates.")
		}
	}
	if err := s.Discussions.MarkDuplicate(c.Request().Context(), kit.ViewerOf(c, sess), threadID, of); err != nil {
		return err
	}
	s.announce(c, "thread.updated", threadID, "")
	return s.SeeOther(c, kit.BasePath(c)+"/t/"+threadID, "#duplicates")
}
