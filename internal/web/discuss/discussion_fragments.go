package discuss

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Fragments: one post, or one thread of the list, rendered by the same
// component as its page, for live.js to put in place instead of
// reloading. Live events carry ids only; what a fragment shows is decided
// here, for the viewer, exactly as on a reload (anonymity, hidden and
// removed posts, staff controls, the forms' CSRF and session tokens).

// postParentHeader names, on a post fragment, the reply a nested reply
// belongs under, so the page can put it there.
const postParentHeader = "Roundtable-Post-Parent"

// postViews makes the views of a thread's posts as its page shows them
// to a viewer (staff or not), with their forms and the URLs of their
// actions in this session; what the URLs share is escaped once a page.
func postViews(b kit.ActivityBase, staff bool, t discussion.Thread) func(discussion.Post) postView {
	links := newPostLinks(b, t.ID)
	canAccept := t.IsQuestion() && (staff || t.Author.Mine)
	return func(p discussion.Post) postView {
		pv := postView{Post: p, CanEdit: !p.Deleted && (staff || (p.Author.Mine && !t.Locked)),
			CanAccept: canAccept && !p.Opening && !p.Deleted && acceptable(t, p), Staff: staff, Question: t.IsQuestion(), ReadOnly: b.ReadOnly,
			Form: kit.HiddenFields{CSRF: b.CSRF, RT: b.L.SessionToken}, links: links}
		pv.CanFlag = !staff && !b.ReadOnly && !p.Author.Mine && !p.Deleted && !p.Hidden
		if !p.Deleted {
			pv.HTML = localFiles(b.Base, b.L, renderedPosts.render(p.Body))
		}
		return pv
	}
}

// acceptable reports whether p may become the thread's accepted answer,
// as the store decides (an answer someone else gave): the Accept button is
// offered on no reply of the viewer's or the asker's. A reply accepted
// before that rule keeps its button, to take it back.
func acceptable(t discussion.Thread, p discussion.Post) bool {
	if p.Accepted {
		return true
	}
	ownAnswer := t.Author.ID != "" && p.Author.ID == t.Author.ID || t.Author.Mine && p.Author.Mine
	return !p.Author.Mine && !ownAnswer
}

// fragmentBase is what a fragment's forms and links need of the page's
// kit.ActivityBase, without the header's reads.
func (s *Handlers) fragmentBase(c echo.Context) (kit.ActivityBase, session.Session) {
	sess := c.Get(kit.CtxSession).(session.Session)
	l := s.SessionLayout(c, "")
	csrf := s.Sessions.CSRFToken(sess)
	return kit.ActivityBase{L: l, CSRF: csrf, Form: kit.HiddenFields{CSRF: csrf, RT: l.SessionToken},
		Base: kit.BasePath(c), Staff: sess.Roles.IsStaff(), ReadOnly: sess.Roles.IsObserver()}.WithQuery(), sess
}

// PostFragment is one post as the thread page renders it: a top-level
// Reply in its reply block, the opening post and nested replies alone
// (the parent's id in the Roundtable-Post-Parent header). One read.
func (s *Handlers) PostFragment(c echo.Context) error {
	b, sess := s.fragmentBase(c)
	t, p, err := s.Discussions.Post(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("thread"), c.Param("post"))
	if err != nil {
		return err
	}
	pv := postViews(b, sess.Roles.IsStaff(), t)(p)
	if p.ParentID != "" {
		c.Response().Header().Set(postParentHeader, p.ParentID)
	}
	if !p.Opening && p.ParentID == "" {
		return s.RenderPage(c, http.StatusOK, replyBlock(&pv))
	}
	return s.RenderPage(c, http.StatusOK, postArticle(&pv))
}

// ThreadRowFragment is one thread as the list renders it, in one read.
func (s *Handlers) ThreadRowFragment(c echo.Context) error {
	b, sess := s.fragmentBase(c)
	t, err := s.Discussions.ListedThread(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("thread"))
	if err != nil {
		return err
	}
	return s.RenderPage(c, http.StatusOK, threadItem(&b, &t))
}
