package discuss

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Pages of a long thread (see discussion.ReplyPage): ?page=N shows the
// Nth hundred replies, ?post=ID the page that shows a post. Every link to
// a post carries ?post=, so it opens where the post is (an anchor alone
// is never sent to the server), and the thread's pages link to each other.

// postPath is the path of a post on the page of its thread that shows it,
// and the anchor to put after the session's query.
func postPath(base, threadID, postID string) (path, anchor string) {
	if postID == "" {
		return base + "/t/" + threadID, ""
	}
	return base + "/t/" + threadID + "?post=" + url.QueryEscape(postID), "#post-" + postID
}

// postLink is postPath's link in layout l's session.
func postLink(l kit.Layout, base, threadID, postID string) string {
	p, anchor := postPath(base, threadID, postID)
	return l.URL(p) + anchor
}

// seeOtherPost answers a POST with a 303 to a post, on its page.
func (s *Handlers) seeOtherPost(c echo.Context, base, threadID, postID string) error {
	p, anchor := postPath(base, threadID, postID)
	return s.SeeOther(c, p, anchor)
}

// replyPageOf is the page of replies a thread page's query asks for: the
// page of ?post=, or of the post quoted or answered, else ?page=.
func replyPageOf(c echo.Context) discussion.ReplyPage {
	at := c.QueryParam("post")
	for _, q := range []string{"quote", "reply", "reply_to"} {
		if at == "" {
			at = c.QueryParam(q)
		}
	}
	n, _ := strconv.Atoi(c.QueryParam("page"))
	return discussion.ReplyPage{Number: n, At: at}
}

// replyPages are the links between a thread's pages of replies.
type replyPages struct {
	// Label names the navigation for screen readers (one above the
	// replies and one below, each named).
	Label      string
	Prev, Next string
	Links      []navLink
	// Gaps follow the links after which pages are left out.
	Gaps map[int]bool
}

// pagesOf are a thread page's links to its other pages (nil for one page):
// the first, the last, and two either side of the current.
func pagesOf(b kit.ActivityBase, tv discussion.ThreadView, label string) *replyPages {
	if tv.Pages <= 1 {
		return nil
	}
	pageURL := func(n int) string {
		p := b.Base + "/t/" + tv.ID
		if n > 1 {
			p += "?page=" + strconv.Itoa(n)
		}
		return b.URL(p)
	}
	rp := &replyPages{Label: label, Gaps: map[int]bool{}}
	if tv.Page > 1 {
		rp.Prev = pageURL(tv.Page - 1)
	}
	if tv.Page < tv.Pages {
		rp.Next = pageURL(tv.Page + 1)
	}
	for n := 1; n <= tv.Pages; n++ {
		if n != 1 && n != tv.Pages && (n < tv.Page-2 || n > tv.Page+2) {
			if len(rp.Links) > 0 {
				rp.Gaps[len(rp.Links)-1] = true
			}
			continue
		}
		rp.Links = append(rp.Links, navLink{Label: strconv.Itoa(n), URL: pageURL(n), Current: n == tv.Page})
	}
	return rp
}
