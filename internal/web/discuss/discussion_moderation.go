package discuss

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Moderation: a member flags a post; staff work through the queue of
// flagged posts (hide, restore, dismiss, lock the thread, suspend the
// author) and read the log of what was done. Every action is a plain form
// with the CSRF token, answered with a 303.

// requireStaffSession refuses learners before any moderation handler runs;
// the store checks again.
func requireStaffSession(c echo.Context) (session.Session, error) {
	sess := c.Get(kit.CtxSession).(session.Session)
	if !sess.Roles.IsStaff() {
		return sess, roundtable.Errorf(roundtable.EFORBIDDEN, "Only instructors and teaching assistants of this course can moderate its discussion.")
	}
	return sess, nil
}

type flagPage struct {
	kit.ActivityBase
	ThreadURL string
	Action    string
	Post      discussion.Post
	HTML      template.HTML
	Reasons   []discussion.FlagReason
	Input     discussion.FlagInput
	Field     string
	Error     string
	// Done is true once the flag is recorded (or was already).
	Done bool
}

// FlagForm asks why a member flags a post; after flagging it thanks them.
func (s *Handlers) FlagForm(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Flag a post")
	page, err := s.flagPageFor(c, b, sess)
	if err != nil {
		return err
	}
	if !page.Done {
		flagged, err := s.Discussions.Flagged(c.Request().Context(), kit.ViewerOf(c, sess), page.Post.ID)
		if err != nil {
			return err
		}
		page.Done = flagged
	}
	if page.Done {
		page.L.Title = "Thank you for flagging"
	}
	return s.RenderPage(c, http.StatusOK, flagView(page))
}

func (s *Handlers) flagPageFor(c echo.Context, b kit.ActivityBase, sess session.Session) (flagPage, error) {
	tv, err := s.Discussions.ThreadPage(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("thread"), discussion.ReplyPage{At: c.Param("post")})
	if err != nil {
		return flagPage{}, err
	}
	p, ok := tv.Post(c.Param("post"))
	if !ok || p.Deleted || p.Hidden {
		return flagPage{}, roundtable.Errorf(roundtable.ENOTFOUND, "That post does not exist in this thread.")
	}
	if p.Author.Mine {
		return flagPage{}, roundtable.Errorf(roundtable.EINVALID, "You cannot flag your own post; edit or remove it instead.")
	}
	t := b.Base + "/t/" + tv.ID
	return flagPage{ActivityBase: b, ThreadURL: postLink(b.L, b.Base, tv.ID, p.ID), Action: b.L.URL(t + "/p/" + p.ID + "/flag"),
		Post: p, HTML: localFiles(b.Base, b.L, renderedPosts.render(p.Body)), Reasons: discussion.FlagReasons, Done: c.QueryParam("done") == "1"}, nil
}

func (s *Handlers) FlagPost(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Flag a post")
	in := discussion.FlagInput{Reason: c.FormValue("reason"), Note: c.FormValue("note")}
	err := s.allowWrite(c, discussion.WriteFlag)
	if err == nil {
		err = s.Discussions.FlagPost(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("post"), in)
	}
	if err != nil {
		field, msg, status, ok := formError(err)
		if roundtable.ErrorCode(err) == roundtable.ELIMITED {
			field = "note" // shown with the form, the note kept
		}
		if !ok || (field != "reason" && field != "note") {
			return err
		}
		page, perr := s.flagPageFor(c, b, sess)
		if perr != nil {
			return perr
		}
		page.L.Title = "Fix your flag"
		page.Input, page.Field, page.Error = in, field, msg
		return s.RenderPage(c, status, flagView(page))
	}
	// Quiet: no live event, nothing for peers or the author.
	return s.SeeOther(c, b.Base+"/t/"+c.Param("thread")+"/p/"+c.Param("post")+"/flag?done=1", "")
}

// flaggedView is a post of the queue with its rendered text and forms.
type flaggedView struct {
	discussion.FlaggedPost
	HTML                            template.HTML
	PostURL                         string
	HideURL, RestoreURL, DismissURL string
	LockURL, SuspendURL, LiftURL    string
	Form                            kit.HiddenFields
}

type moderationPage struct {
	kit.ActivityBase
	Flagged   []flaggedView
	Hidden    []flaggedView
	Suspended []suspensionView
	LogURL    string
}

type suspensionView struct {
	discussion.Suspension
	LiftURL string
}

func (s *Handlers) ModerationQueue(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Moderation")
	if _, err := requireStaffSession(c); err != nil {
		return err
	}
	q, err := s.Discussions.Queue(c.Request().Context(), kit.ViewerOf(c, sess))
	if err != nil {
		return err
	}
	m := b.Base + "/moderation"
	conv := func(fp discussion.FlaggedPost) flaggedView {
		fv := flaggedView{FlaggedPost: fp, Form: b.Form, PostURL: postLink(b.L, b.Base, fp.ThreadID, fp.ID),
			HideURL: b.L.URL(m + "/p/" + fp.ID + "/hide"), RestoreURL: b.L.URL(m + "/p/" + fp.ID + "/restore"),
			DismissURL: b.L.URL(m + "/p/" + fp.ID + "/dismiss"), LockURL: b.L.URL(m + "/t/" + fp.ThreadID + "/lock")}
		if fp.Author.ID != "" {
			fv.SuspendURL = b.L.URL(m + "/u/" + url.PathEscape(fp.Author.ID) + "/suspend")
			fv.LiftURL = b.L.URL(m + "/u/" + url.PathEscape(fp.Author.ID) + "/lift")
		}
		if !fp.Deleted {
			fv.HTML = localFiles(b.Base, b.L, renderedPosts.render(fp.Body))
		}
		return fv
	}
	page := moderationPage{ActivityBase: b, LogURL: b.L.URL(m + "/log")}
	for _, fp := range q.Flagged {
		page.Flagged = append(page.Flagged, conv(fp))
	}
	for _, fp := range q.Hidden {
		page.Hidden = append(page.Hidden, conv(fp))
	}
	for _, su := range q.Suspended {
		page.Suspended = append(page.Suspended, suspensionView{Suspension: su, LiftURL: b.L.URL(m + "/u/" + url.PathEscape(su.UserID) + "/lift")})
	}
	return s.RenderPage(c, http.StatusOK, moderationView(page))
}

// moderationAction runs one of the queue's forms, then returns to the
// queue, or to the thread when the form came from it (return=thread).
func (s *Handlers) moderationAction(do func(c echo.Context, v discussion.Viewer, reason string) (threadID, postID string, err error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := requireStaffSession(c)
		if err != nil {
			return err
		}
		threadID, postID, err := do(c, kit.ViewerOf(c, sess), c.FormValue("reason"))
		if err != nil {
			return err
		}
		if threadID != "" {
			s.announce(c, "post.updated", threadID, postID)
		}
		base := kit.BasePath(c)
		if c.FormValue("return") == "thread" && threadID != "" {
			return s.seeOtherPost(c, base, threadID, postID)
		}
		return s.SeeOther(c, base+"/moderation", "#moderation-heading")
	}
}

func (s *Handlers) HidePost(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return c.FormValue("thread"), c.Param("post"), s.Discussions.Hide(c.Request().Context(), v, c.Param("post"), reason)
	})(c)
}

func (s *Handlers) RestorePost(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return c.FormValue("thread"), c.Param("post"), s.Discussions.Restore(c.Request().Context(), v, c.Param("post"), reason)
	})(c)
}

func (s *Handlers) DismissFlags(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return "", "", s.Discussions.Dismiss(c.Request().Context(), v, c.Param("post"), reason)
	})(c)
}

func (s *Handlers) LockFromQueue(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return c.Param("thread"), "", s.Discussions.LockThread(c.Request().Context(), v, c.Param("thread"), c.FormValue("on") != "0", reason)
	})(c)
}

func (s *Handlers) SuspendMember(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return "", "", s.Discussions.Suspend(c.Request().Context(), v, c.Param("user"), c.FormValue("post"), reason)
	})(c)
}

func (s *Handlers) LiftSuspension(c echo.Context) error {
	return s.moderationAction(func(c echo.Context, v discussion.Viewer, reason string) (string, string, error) {
		return "", "", s.Discussions.Lift(c.Request().Context(), v, c.Param("user"), reason)
	})(c)
}

type moderationLogPage struct {
	kit.ActivityBase
	QueueURL string
	Entries  []logEntryView
	NextURL  string
	FirstURL string
}

type logEntryView struct {
	discussion.LogEntry
	// ThreadURL links the thread when it is in this activity's space.
	ThreadURL string
}

// Label is the action in words.
func (e logEntryView) Label() string {
	switch e.Action {
	case discussion.ActionHide:
		return "Hid a post"
	case discussion.ActionRestore:
		return "Restored a post"
	case discussion.ActionDismiss:
		return "Dismissed flags"
	case discussion.ActionLock:
		return "Locked a thread"
	case discussion.ActionUnlock:
		return "Unlocked a thread"
	case discussion.ActionPin:
		return "Pinned a thread"
	case discussion.ActionUnpin:
		return "Unpinned a thread"
	case discussion.ActionClose:
		return "Closed a thread"
	case discussion.ActionReopen:
		return "Reopened a thread"
	case discussion.ActionEndorse:
		return "Endorsed a post"
	case discussion.ActionUnendorse:
		return "Removed an endorsement"
	case discussion.ActionSuspend:
		return "Suspended from posting"
	case discussion.ActionLift:
		return "Lifted a suspension"
	case discussion.ActionRedact:
		return "Redacted an earlier version of a post"
	}
	return e.Action
}

func (s *Handlers) ModerationLog(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Moderation log")
	if _, err := requireStaffSession(c); err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	lp, err := s.Discussions.Log(c.Request().Context(), kit.ViewerOf(c, sess), cursor, 0)
	if err != nil {
		return err
	}
	m := b.Base + "/moderation"
	page := moderationLogPage{ActivityBase: b, QueueURL: b.L.URL(m)}
	for _, e := range lp.Entries {
		ev := logEntryView{LogEntry: e}
		if e.ThreadID != "" && e.LinkID == sess.LinkID && e.CohortID == sess.CohortID {
			ev.ThreadURL = postLink(b.L, b.Base, e.ThreadID, e.PostID)
		}
		page.Entries = append(page.Entries, ev)
	}
	if lp.Next != "" {
		page.NextURL = b.L.URL(m + "/log?cursor=" + url.QueryEscape(lp.Next))
	}
	if cursor != "" {
		page.FirstURL = b.L.URL(m + "/log")
	}
	return s.RenderPage(c, http.StatusOK, moderationLogView(page))
}
