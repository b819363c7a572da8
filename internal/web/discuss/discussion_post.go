package discuss

import (
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// What the thread page's components (discussion_thread.templ) compute of
// a post: the URLs of its actions, made from parts escaped once a page.

// postLinks are what the URLs of a thread's posts' actions share, each
// escaped once a page: the thread's path (/a/<link>/t/<thread>), the
// moderators' (/a/<link>/moderation/p/), and the session's query
// ("rt=...", empty with a cookie).
type postLinks struct {
	thread, moderation, query string
	// now is when the page is written, for the posts' times.
	now time.Time
}

func newPostLinks(b kit.ActivityBase, threadID string) *postLinks {
	return &postLinks{thread: b.Base + "/t/" + url.PathEscape(threadID), moderation: b.Base + "/moderation/p/", query: b.SessionQuery(), now: b.Now}
}

// postAction names one of a post's actions, for its URL.
type postAction uint8

const (
	voteAction postAction = iota
	acceptAction
	endorseAction
	editAction
	deleteAction
	historyAction
	flagAction
	quoteAction
	replyAction
	hideAction
	restoreAction
)

// actionPaths end the URLs of the actions on a post (/t/<thread>/p/<post>
// then these), of the moderators' (/moderation/p/<post> then these), and
// the thread page's query that quotes or answers the post.
var actionPaths = [...]string{voteAction: "/vote", acceptAction: "/accept", endorseAction: "/endorse", editAction: "/edit",
	deleteAction: "/delete", historyAction: "/history", flagAction: "/flag", quoteAction: "?quote=", replyAction: "?reply=",
	hideAction: "/hide", restoreAction: "/restore"}

// actionURL is the URL of action a on the post, in the page's session:
// one string, of parts each escaped for its place in the URL.
func (pv *postView) actionURL(a postAction) templ.SafeURL {
	l := pv.links
	switch a {
	case quoteAction, replyAction:
		sep := ""
		if l.query != "" {
			sep = "&"
		}
		// The page puts the reply form under the post (#reply-<post>);
		// the opening post is answered at the end of the thread.
		anchor := "#reply-" + url.PathEscape(pv.ID)
		if pv.Opening {
			anchor = "#reply"
		}
		return templ.SafeURL(l.thread + actionPaths[a] + url.QueryEscape(pv.ID) + sep + l.query + anchor)
	}
	sep := ""
	if l.query != "" {
		sep = "?"
	}
	if a == hideAction || a == restoreAction {
		return templ.SafeURL(l.moderation + url.PathEscape(pv.ID) + actionPaths[a] + sep + l.query)
	}
	return templ.SafeURL(l.thread + "/p/" + url.PathEscape(pv.ID) + actionPaths[a] + sep + l.query)
}

// shareURL is the post's link to share: its place in the thread, with
// no session token, for a classmate to open with their own session.
func (pv *postView) shareURL() string {
	return pv.links.thread + "?post=" + url.QueryEscape(pv.ID) + "#post-" + pv.ID
}

// articleClass is the class of the article of a post that is the
// opening post, the accepted answer or removed (most are none: "post").
func (pv *postView) articleClass() string {
	c := "post"
	if pv.Opening {
		c += " opening"
	}
	if pv.Accepted {
		c += " accepted"
	}
	if pv.Deleted {
		c += " removed"
	}
	return c
}

// onThread is the URL of path under the page's thread (its forms).
func (p *threadPage) onThread(path string) templ.SafeURL {
	return templ.SafeURL(p.URL(p.Base + "/t/" + url.PathEscape(p.Thread.ID) + path))
}

// fieldState is the attributes of a post form's field called name, given
// the field the form's error is about: the hint and error that describe
// it (withHint: the field has a hint), and focus on the field in error.
func fieldState(field, name string, withHint bool) templ.OrderedAttributes {
	describedBy := ""
	if withHint {
		describedBy = name + "-hint"
	}
	if field != name {
		if describedBy == "" {
			return nil
		}
		return templ.OrderedAttributes{{Key: "aria-describedby", Value: describedBy}}
	}
	if describedBy != "" {
		describedBy += " "
	}
	return templ.OrderedAttributes{{Key: "aria-invalid", Value: "true"}, {Key: "aria-describedby", Value: describedBy + name + "-error"},
		{Key: "autofocus", Value: true}}
}

// listSeparator follows item i of a list of n written inline: a comma,
// but for the last.
func listSeparator(i, n int) string {
	if i < n-1 {
		return ", "
	}
	return ""
}

// quoteName is who a quote of the post names: never the name behind an
// anonymous post, which staff see but learners read in the quote.
func (pv *postView) quoteName() string {
	if pv.Author.Anonymous {
		return "Anonymous learner"
	}
	return pv.Author.Label()
}

// replyParent is the post a reply to this one answers: replies nest one
// level, so a reply to a nested reply answers its parent.
func (pv *postView) replyParent() string {
	if pv.ParentID != "" {
		return pv.ParentID
	}
	return pv.ID
}
