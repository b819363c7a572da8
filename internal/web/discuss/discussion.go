package discuss

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The cohort discussion: the page an activity opens, its threads and the
// small forms that act on them. Every form posts with the session's CSRF
// token (see requireCSRF) and answers with a 303 to a page.

// liveChange is what a live event says of a change: ids only, never text or
// authors, so anonymity holds; pages fetch the post or the list's row in
// their own session to show it (see discussion_fragments.go).
type liveChange struct {
	LinkID   string `json:"link"`
	ThreadID string `json:"thread,omitempty"`
	PostID   string `json:"post,omitempty"`
}

// announce tells the cohort's open pages that something changed.
func (s *Handlers) announce(c echo.Context, typ, threadID, postID string) {
	sess := c.Get(kit.CtxSession).(session.Session)
	s.publishSpace(c.Request().Context(), kit.SpaceIDOf(c), typ, liveChange{LinkID: sess.LinkID, ThreadID: threadID, PostID: postID})
}

// formError is an error to show on a form beside its field; ok is false
// for errors that are not the person's input.
func formError(err error) (field, message string, status int, ok bool) {
	var fe *discussion.FieldError
	if errors.As(err, &fe) {
		field = fe.Field
	} else {
		field = "body"
	}
	switch roundtable.ErrorCode(err) {
	case roundtable.EINVALID:
		status = http.StatusUnprocessableEntity
	case roundtable.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	case roundtable.ELIMITED:
		status = http.StatusTooManyRequests
	default:
		return "", "", 0, false
	}
	return field, roundtable.ErrorMessage(err), status, true
}

type navLink struct {
	Label   string
	URL     string
	Current bool
}

type discussionListPage struct {
	kit.ActivityBase
	Activity       course.Activity
	CohortSizeText string
	Threads        []discussion.Thread
	Sorts          []navLink
	Filters        []navLink
	Tag            string
	ClearTagURL    string
	NextURL        string
	Empty          string
	// Waiting is, for staff, how many posts wait in the moderation queue.
	Waiting       int
	ModerationURL string
	// Suspended is true when the learner may not post in this course.
	Suspended bool
	// Progress is the learner's progress toward completion (nil: no rule).
	Progress *progressView
	// View is what the page shows of the activity's settings and cohorts.
	View activityView
	// ReadBefore is true once the viewer has read in the discussion: its
	// instructions are then folded.
	ReadBefore bool
}

// readBefore reports whether the viewer has read or written any of the
// listed threads: a person who has not is new to the discussion.
func readBefore(threads []discussion.Thread) bool {
	for _, t := range threads {
		if t.Author.Mine || t.Following || t.Unread < t.Replies+1 {
			return true
		}
	}
	return false
}

// listParams are the list's query parameters, kept across its links.
type listParams struct {
	Sort, Kind, Tag string
	Mine, Following bool
}

func (p listParams) url(base string) string {
	q := url.Values{}
	if p.Sort != "" && p.Sort != discussion.SortActivity {
		q.Set("sort", p.Sort)
	}
	if p.Kind != "" {
		q.Set("kind", p.Kind)
	}
	if p.Tag != "" {
		q.Set("tag", p.Tag)
	}
	if p.Mine {
		q.Set("mine", "1")
	}
	if p.Following {
		q.Set("following", "1")
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// nav is the list's sort and filter links, each keeping the other choices,
// and the link that clears the tag.
func (p listParams) nav(l kit.Layout, base string) (sorts, filters []navLink, clearTag string) {
	for _, o := range []struct{ sort, label string }{
		{discussion.SortActivity, "Latest activity"}, {discussion.SortNewest, "Newest"}, {discussion.SortTop, "Top"}, {discussion.SortUnanswered, "Unanswered"},
	} {
		q := p
		q.Sort = o.sort
		sorts = append(sorts, navLink{Label: o.label, URL: l.URL(q.url(base)), Current: p.Sort == o.sort})
	}
	for _, f := range []struct {
		label string
		edit  func(*listParams)
		on    bool
	}{
		{"All", func(q *listParams) { q.Kind, q.Mine, q.Following = "", false, false }, p.Kind == "" && !p.Mine && !p.Following},
		{"Questions", func(q *listParams) { q.Kind = discussion.Question }, p.Kind == discussion.Question},
		{"Discussions", func(q *listParams) { q.Kind = discussion.Discussion }, p.Kind == discussion.Discussion},
		{"Mine", func(q *listParams) { q.Mine = !q.Mine }, p.Mine},
		{"Following", func(q *listParams) { q.Following = !q.Following }, p.Following},
	} {
		q := p
		f.edit(&q)
		filters = append(filters, navLink{Label: f.label, URL: l.URL(q.url(base)), Current: f.on})
	}
	if p.Tag != "" {
		q := p
		q.Tag = ""
		clearTag = l.URL(q.url(base))
	}
	return sorts, filters, clearTag
}

// List is the activity's page: the cohort's threads.
func (s *Handlers) List(c echo.Context) error {
	b, sess := s.ActivityBase(c, "")
	ctx := c.Request().Context()
	a, ok := s.Prefetched.Take(sess.IDHash, sess.LinkID)
	if !ok {
		var err error
		if a, err = s.Courses.Activity(ctx, sess.OrgID, sess.LinkID, sess.UserID, sess.CohortID); err != nil {
			return err
		}
	}
	if home, ok := s.KindHomes[a.Settings.Kind]; ok {
		return home(c, a)
	}
	b.L.Title = a.Title()
	p := listParams{Sort: c.QueryParam("sort"), Kind: c.QueryParam("kind"), Tag: strings.ToLower(strings.TrimSpace(c.QueryParam("tag"))),
		Mine: c.QueryParam("mine") == "1", Following: c.QueryParam("following") == "1"}
	switch p.Sort {
	case discussion.SortNewest, discussion.SortTop, discussion.SortUnanswered:
	default:
		p.Sort = discussion.SortActivity
	}
	if p.Kind != discussion.Question && p.Kind != discussion.Discussion {
		p.Kind = ""
	}
	list, err := s.Discussions.List(ctx, kit.ViewerOf(c, sess), discussion.ListQuery{Sort: p.Sort, Kind: p.Kind, Tag: p.Tag,
		Mine: p.Mine, Following: p.Following, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	size := "Just you in this cohort so far"
	if a.CohortSize > 1 {
		size = fmt.Sprintf("%d people in your cohort", a.CohortSize)
	}
	b.L.LiveSrc = s.liveURL(c)
	page := discussionListPage{ActivityBase: b, Activity: a, CohortSizeText: size, Threads: list.Threads, Tag: p.Tag,
		ModerationURL: b.L.URL(b.Base + "/moderation")}
	if page.Waiting, err = s.Discussions.WaitingCount(ctx, kit.ViewerOf(c, sess)); err != nil {
		return err
	}
	if page.View, err = s.activityView(c, sess, a, b); err != nil {
		return err
	}
	page.Suspended = b.Suspended
	page.ReadBefore = readBefore(list.Threads)
	if page.Progress, err = s.learnerProgress(c, sess, a.Settings); err != nil {
		return err
	}
	page.Sorts, page.Filters, page.ClearTagURL = p.nav(b.L, b.Base)
	if list.Next != "" {
		next := p.url(b.Base)
		sep := "?"
		if strings.Contains(next, "?") {
			sep = "&"
		}
		page.NextURL = b.L.URL(next + sep + "cursor=" + url.QueryEscape(list.Next))
	}
	if len(list.Threads) == 0 {
		page.Empty = "No threads here yet. Ask a question or start a discussion: your cohort will see it."
		if c.QueryParam("cursor") != "" || p != (listParams{Sort: discussion.SortActivity}) {
			page.Empty = "No threads match."
		}
	}
	return s.RenderPage(c, http.StatusOK, discussionListView(&page))
}

type threadFormPage struct {
	kit.ActivityBase
	Input  discussion.ThreadInput
	Field  string
	Error  string
	Action string
	// Composer is what the body's composer needs.
	Composer composerView
	// Suspended replaces the form with a notice.
	Suspended bool
}

func (s *Handlers) NewThreadForm(c echo.Context) error {
	b, sess := s.ActivityBase(c, "New post")
	kind := c.QueryParam("kind")
	if kind != discussion.Discussion {
		kind = discussion.Question
	}
	b.L.Title = map[string]string{discussion.Question: "Ask a question", discussion.Discussion: "Start a discussion"}[kind]
	var err error
	if b.NoAnonymous, err = s.noAnonymous(c, sess); err != nil {
		return err
	}
	return s.renderThreadForm(c, http.StatusOK, threadFormPage{ActivityBase: b, Input: discussion.ThreadInput{Kind: kind}, Action: b.L.URL(b.Base + "/threads"), Suspended: b.Suspended})
}

func (s *Handlers) CreateThread(c echo.Context) error {
	b, sess := s.ActivityBase(c, "New post")
	// Files chosen in the form (without JavaScript) go into the body as
	// links; a refused one leaves the form to fix, with those stored.
	body, err := s.formAttachments(c, c.FormValue("body"))
	in := discussion.ThreadInput{Kind: c.FormValue("kind"), Title: c.FormValue("title"), Body: body,
		Tags: c.FormValue("tags"), Anonymous: c.FormValue("anonymous") == "1"}
	if err == nil && c.FormValue("preview") != "" {
		// The form comes back as sent, with the text rendered; nothing is
		// stored but the files chosen, whose links the text now holds.
		page := threadFormPage{ActivityBase: b, Input: in, Action: b.L.URL(b.Base + "/threads")}
		page.L.Title = "Preview your post"
		var err error
		if page.Composer.Preview, err = s.previewOf(c, b, in.Body); err != nil {
			field, msg, _, ok := formError(err)
			if !ok {
				return err
			}
			page.Field, page.Error = field, msg
		} else {
			page.Composer.Previewed = true
		}
		if page.NoAnonymous, err = s.noAnonymous(c, sess); err != nil {
			return err
		}
		return s.renderThreadForm(c, http.StatusOK, page)
	}
	var id string
	if err == nil {
		id, err = s.Discussions.CreateThread(c.Request().Context(), kit.ViewerOf(c, sess), in)
	}
	if err != nil {
		field, msg, status, ok := formError(err)
		if !ok {
			return err
		}
		b.L.Title = "Fix your post"
		if b.NoAnonymous, err = s.noAnonymous(c, sess); err != nil {
			return err
		}
		return s.renderThreadForm(c, status, threadFormPage{ActivityBase: b, Input: in, Field: field, Error: msg, Action: b.L.URL(b.Base + "/threads")})
	}
	s.announce(c, "thread.created", id, "")
	return s.SeeOther(c, b.Base+"/t/"+id, "")
}

// renderThreadForm writes the new thread's form, with the script that
// suggests similar threads as the title is typed.
func (s *Handlers) renderThreadForm(c echo.Context, status int, page threadFormPage) error {
	page.L.Scripts = append(page.L.Scripts, "js/suggest.js", "js/composer.js", "js/attach.js")
	page.Composer.PreviewURL, page.Composer.CompleteURL = composerURLs(page.ActivityBase)
	page.Composer.DraftKey = draftKey(page.ActivityBase, "new")
	return s.RenderPage(c, status, threadFormView(&page))
}

// postView is a post as its page shows it.
type postView struct {
	discussion.Post
	HTML      template.HTML
	CanEdit   bool
	CanAccept bool
	// CanFlag is true on others' posts for members; staff hide instead.
	CanFlag  bool
	Staff    bool
	Question bool
	// ReadOnly shows the post without its vote, reply and quote actions.
	ReadOnly bool
	Children []postView
	// ReplyForm, on the post being answered, is the reply form placed
	// under it (nil on the others).
	ReplyForm templ.Component
	// Form is what each of the post's small forms carries.
	Form kit.HiddenFields
	// links are what the URLs of the post's actions share with the
	// page's other posts.
	links *postLinks
}

type threadPage struct {
	kit.ActivityBase
	Thread      discussion.ThreadView
	Opening     postView
	Replies     []postView
	CanReply    bool
	ReplyTo     string
	ReplyToName string
	ReplyBody   string
	ReplyError  string
	// ReplyAt is the post the reply form is placed under ("" : at the
	// end of the thread); ReplyTo is the post the reply answers (ReplyAt,
	// or its parent: replies nest one level).
	ReplyAt string
	// Composer is what the reply's composer needs.
	Composer composerView
	// Flags are the staff's pin, lock and close buttons.
	Flags []flagForm
	// Suspended is true when the learner may not post in this course.
	Suspended bool
	// PagesTop and PagesBottom link a long thread's pages of replies,
	// above and below them (nil for one page).
	PagesTop, PagesBottom *replyPages
}

type flagForm struct{ Flag, On, Label string }

// LastPage reports whether the page shows the thread's latest replies,
// where live updates add new ones.
func (p threadPage) LastPage() bool { return p.Thread.Page >= p.Thread.Pages }

func (s *Handlers) threadView(c echo.Context, b kit.ActivityBase, sess session.Session, rp discussion.ReplyPage) (threadPage, error) {
	v := kit.ViewerOf(c, sess)
	tv, err := s.Discussions.ThreadPage(c.Request().Context(), v, c.Param("thread"), rp)
	if err != nil {
		return threadPage{}, err
	}
	b.L.Title = tv.Title
	if tv.Pages > 1 {
		b.L.Title = fmt.Sprintf("%s (replies, page %d of %d)", tv.Title, tv.Page, tv.Pages)
	}
	b.L.LiveSrc = s.liveURL(c)
	// The thread's read also told whether the activity allows anonymous
	// posts, whether the viewer is suspended, and the header's count.
	b.NoAnonymous = !tv.AnonymousAllowed
	if c.Request().Method == http.MethodGet {
		b.UnreadNotifications = tv.UnreadNotifications
	}
	conv := postViews(b, v.Staff, tv.Thread)
	page := threadPage{ActivityBase: b, Thread: tv, Opening: conv(tv.Opening), CanReply: v.Staff || (!tv.Locked && !tv.Closed),
		Suspended: tv.Suspended, PagesTop: pagesOf(b, tv, "Pages of replies"), PagesBottom: pagesOf(b, tv, "Pages of replies, below them")}
	page.CanReply = page.CanReply && !page.Suspended && !b.ReadOnly
	if v.Staff {
		for _, f := range []struct {
			flag      string
			set       bool
			on, unset string
		}{{discussion.FlagPinned, tv.Pinned, "Pin", "Unpin"}, {discussion.FlagLocked, tv.Locked, "Lock", "Unlock"}, {discussion.FlagClosed, tv.Closed, "Close", "Reopen"}} {
			ff := flagForm{Flag: f.flag, On: "1", Label: f.on}
			if f.set {
				ff.On, ff.Label = "0", f.unset
			}
			page.Flags = append(page.Flags, ff)
		}
	}
	page.Replies = make([]postView, 0, len(tv.Replies))
	for _, r := range tv.Replies {
		rv := conv(r)
		if len(r.Children) > 0 {
			rv.Children = make([]postView, 0, len(r.Children))
		}
		for _, ch := range r.Children {
			rv.Children = append(rv.Children, conv(ch))
		}
		page.Replies = append(page.Replies, rv)
	}
	return page, nil
}

func (s *Handlers) Thread(c echo.Context) error {
	// The header's count comes with the thread (see threadView).
	b, sess := s.fragmentBase(c)
	page, err := s.threadView(c, b, sess, replyPageOf(c))
	if err != nil {
		return err
	}
	// ?reply= (or the older ?reply_to=) answers a post, with the form
	// under it; ?quote= also quotes it in the reply box (the page is the
	// one that shows it).
	target := c.QueryParam("quote")
	for _, q := range []string{"reply", "reply_to"} {
		if target == "" {
			target = c.QueryParam(q)
		}
	}
	if p, ok := page.answer(target); ok {
		if c.QueryParam("quote") != "" {
			// The quote is read by learners: never the name behind an anonymous post.
			who := p.Author.Label()
			if p.Author.Anonymous {
				who = "Anonymous learner"
			}
			page.ReplyBody = quote(who, p.Body)
		}
	}
	return s.renderThread(c, http.StatusOK, page)
}

// answer places the reply form under post id, to answer it (or its
// parent: replies nest one level); the opening post, a removed one or
// none leave it at the end. It returns the post found.
func (p *threadPage) answer(id string) (discussion.Post, bool) {
	post, ok := p.Thread.Post(id)
	if !ok || id == "" || post.Deleted {
		return discussion.Post{}, false
	}
	if !post.Opening {
		p.ReplyTo, p.ReplyAt = post.ID, post.ID
		if post.ParentID != "" {
			p.ReplyTo = post.ParentID
		}
		p.ReplyToName = post.Author.Label()
	}
	return post, true
}

// postView finds the view of one of the page's replies.
func (p *threadPage) postView(id string) *postView {
	if id == "" {
		return nil
	}
	for i := range p.Replies {
		r := &p.Replies[i]
		if r.ID == id {
			return r
		}
		for j := range r.Children {
			if r.Children[j].ID == id {
				return &r.Children[j]
			}
		}
	}
	return nil
}

// renderThread writes the thread page, its reply form under the post it
// answers when that is on the page.
func (s *Handlers) renderThread(c echo.Context, status int, page threadPage) error {
	page.L.Scripts = append(page.L.Scripts, "js/copy.js", "js/composer.js", "js/attach.js")
	if page.Staff {
		page.L.Scripts = append(page.L.Scripts, "js/menu.js")
	}
	page.Composer.PreviewURL, page.Composer.CompleteURL = composerURLs(page.ActivityBase)
	page.Composer.DraftKey = draftKey(page.ActivityBase, "t/"+page.Thread.ID+"/reply/"+page.ReplyTo)
	p := &page
	if pv := p.postView(p.ReplyAt); pv != nil && p.CanReply {
		pv.ReplyForm = replySection(p)
	} else {
		// A thread that takes no reply says so at its end.
		p.ReplyAt = ""
	}
	return s.RenderPage(c, status, threadPageView(p))
}

// quote turns a post into a Markdown block quote that opens a reply.
func quote(who, body string) string {
	var b strings.Builder
	b.WriteString("> **" + strings.NewReplacer("*", "", "_", "").Replace(who) + "** wrote:\n>\n")
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		b.WriteString("> " + line + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Handlers) Reply(c echo.Context) error {
	b, sess := s.ActivityBase(c, "")
	threadID := c.Param("thread")
	// Files chosen in the form (without JavaScript) go into the body as
	// links; a refused one leaves the form to fix, with those stored.
	body, attachErr := s.formAttachments(c, c.FormValue("body"))
	in := discussion.ReplyInput{ParentID: c.FormValue("parent_id"), Body: body, Anonymous: c.FormValue("anonymous") == "1"}
	// again shows the form as sent, under the post it answers, with msg
	// as its error or the preview.
	again := func(status int, msg string, preview template.HTML, previewed bool) error {
		// The page of the reply answered, or the last, where a reply goes.
		rp := discussion.ReplyPage{At: in.ParentID, Number: math.MaxInt32}
		page, verr := s.threadView(c, b, sess, rp)
		if verr != nil {
			return verr
		}
		at := c.FormValue("at")
		if at == "" {
			at = in.ParentID
		}
		page.answer(at)
		page.ReplyTo, page.ReplyBody, page.ReplyError = in.ParentID, in.Body, msg
		page.Composer.Preview, page.Composer.Previewed, page.Composer.Anonymous = preview, previewed, in.Anonymous
		return s.renderThread(c, status, page)
	}
	if attachErr != nil {
		_, msg, status, ok := formError(attachErr)
		if !ok {
			return attachErr
		}
		return again(status, msg, "", false)
	}
	if c.FormValue("preview") != "" {
		html, err := s.previewOf(c, b, in.Body)
		if err != nil {
			_, msg, _, ok := formError(err)
			if !ok {
				return err
			}
			return again(http.StatusOK, msg, "", false)
		}
		return again(http.StatusOK, "", html, true)
	}
	id, err := s.Discussions.Reply(c.Request().Context(), kit.ViewerOf(c, sess), threadID, in)
	if err != nil {
		_, msg, status, ok := formError(err)
		if !ok {
			return err
		}
		return again(status, msg, "", false)
	}
	s.announce(c, "post.created", threadID, id)
	return s.seeOtherPost(c, b.Base, threadID, id)
}

type editPage struct {
	kit.ActivityBase
	ThreadURL string
	Action    string
	Opening   bool
	Title     string
	Body      string
	Field     string
	Error     string
	// Composer is what the text's composer needs.
	Composer composerView
}

func (s *Handlers) EditForm(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Edit post")
	page, err := s.threadView(c, b, sess, discussion.ReplyPage{At: c.Param("post")})
	if err != nil {
		return err
	}
	p, ok := page.Thread.Post(c.Param("post"))
	if !ok || p.Deleted {
		return roundtable.Errorf(roundtable.ENOTFOUND, "That post does not exist in this thread.")
	}
	if !sess.Roles.IsStaff() && (!p.Author.Mine || page.Thread.Locked) {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "You can edit only your own posts, in threads that are not locked.")
	}
	b.L.Title = "Edit post"
	ep := s.editPage(b, c, p.Opening, page.Thread.Title, p.Body)
	ep.Composer.DraftOver = true
	return s.renderEdit(c, http.StatusOK, ep)
}

func (s *Handlers) editPage(b kit.ActivityBase, c echo.Context, opening bool, title, body string) editPage {
	t := b.Base + "/t/" + c.Param("thread")
	ep := editPage{ActivityBase: b, ThreadURL: postLink(b.L, b.Base, c.Param("thread"), c.Param("post")), Action: b.L.URL(t + "/p/" + c.Param("post") + "/edit"),
		Opening: opening, Title: title, Body: body}
	ep.Composer.PreviewURL, ep.Composer.CompleteURL = composerURLs(b)
	ep.Composer.DraftKey = draftKey(b, "t/"+c.Param("thread")+"/edit/"+c.Param("post"))
	return ep
}

// renderEdit writes the edit form, with its composer's script.
func (s *Handlers) renderEdit(c echo.Context, status int, page editPage) error {
	page.L.Scripts = append(page.L.Scripts, "js/composer.js", "js/attach.js")
	return s.RenderPage(c, status, editPostView(&page))
}

func (s *Handlers) Edit(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Edit post")
	// Files chosen in the form (without JavaScript) go into the text as
	// links, as a new post's do.
	title := c.FormValue("title")
	body, err := s.formAttachments(c, c.FormValue("body"))
	if err == nil && c.FormValue("preview") != "" {
		page := s.editPage(b, c, c.FormValue("opening") == "1", title, body)
		html, err := s.previewOf(c, b, body)
		if err != nil {
			field, msg, _, ok := formError(err)
			if !ok {
				return err
			}
			page.Field, page.Error = field, msg
		} else {
			page.Composer.Preview, page.Composer.Previewed = html, true
		}
		return s.renderEdit(c, http.StatusOK, page)
	}
	if err == nil {
		err = s.allowWrite(c, discussion.WriteEdit)
	}
	if err == nil {
		err = s.Discussions.Edit(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("post"), title, body)
	}
	if err != nil {
		field, msg, status, ok := formError(err)
		if !ok {
			return err
		}
		page := s.editPage(b, c, c.FormValue("opening") == "1", title, body)
		page.Field, page.Error = field, msg
		return s.renderEdit(c, status, page)
	}
	s.announce(c, "post.updated", c.Param("thread"), c.Param("post"))
	return s.seeOtherPost(c, b.Base, c.Param("thread"), c.Param("post"))
}

type historyPage struct {
	kit.ActivityBase
	ThreadURL string
	Revisions []revisionView
}

type revisionView struct {
	discussion.Revision
	HTML template.HTML
	// RedactURL is, for staff, the form that redacts the version.
	RedactURL string
}

// History shows a post's earlier versions, each rendered once for every
// reader (renderedPosts); staff may redact each.
func (s *Handlers) History(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Earlier versions")
	revs, err := s.Discussions.Revisions(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("post"))
	if err != nil {
		return err
	}
	postPath := b.Base + "/t/" + c.Param("thread") + "/p/" + c.Param("post")
	page := historyPage{ActivityBase: b, ThreadURL: postLink(b.L, b.Base, c.Param("thread"), c.Param("post"))}
	for _, r := range revs {
		rv := revisionView{Revision: r}
		if !r.Redacted {
			rv.HTML = localFiles(b.Base, b.L, renderedPosts.render(r.Body))
			if b.Staff {
				rv.RedactURL = b.L.URL(postPath + "/history/" + url.PathEscape(r.ID) + "/redact")
			}
		}
		page.Revisions = append(page.Revisions, rv)
	}
	return s.RenderPage(c, http.StatusOK, postHistoryView(&page))
}

// RedactRevision removes an earlier version's text (staff), then returns
// to the history.
func (s *Handlers) RedactRevision(c echo.Context) error {
	sess, err := requireStaffSession(c)
	if err != nil {
		return err
	}
	if err := s.Discussions.RedactRevision(c.Request().Context(), kit.ViewerOf(c, sess), c.Param("post"), c.Param("rev"), c.FormValue("reason")); err != nil {
		return err
	}
	return s.SeeOther(c, kit.BasePath(c)+"/t/"+c.Param("thread")+"/p/"+c.Param("post")+"/history", "#revision-"+c.Param("rev"))
}

// postAction runs one of the small forms on a post, then returns to it.
func (s *Handlers) postAction(do func(s *Handlers, c echo.Context, v discussion.Viewer, postID string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := c.Get(kit.CtxSession).(session.Session)
		if err := do(s, c, kit.ViewerOf(c, sess), c.Param("post")); err != nil {
			return err
		}
		return s.seeOtherPost(c, kit.BasePath(c), c.Param("thread"), c.Param("post"))
	}
}

func (s *Handlers) Vote(c echo.Context) error {
	return s.postAction(func(s *Handlers, c echo.Context, v discussion.Viewer, id string) error {
		if err := s.allowWrite(c, discussion.WriteVote); err != nil {
			return err
		}
		_, err := s.Discussions.ToggleVote(c.Request().Context(), v, id)
		if err == nil {
			s.announce(c, "vote", c.Param("thread"), id)
		}
		return err
	})(c)
}

func (s *Handlers) Accept(c echo.Context) error {
	return s.postAction(func(s *Handlers, c echo.Context, v discussion.Viewer, id string) error {
		if err := s.allowWrite(c, discussion.WriteAccept); err != nil {
			return err
		}
		accepted, err := s.Discussions.Accept(c.Request().Context(), v, id)
		if err == nil {
			typ := "answer.unaccepted"
			if accepted {
				typ = "answer.accepted"
			}
			s.announce(c, typ, c.Param("thread"), id)
		}
		return err
	})(c)
}

func (s *Handlers) Endorse(c echo.Context) error {
	return s.postAction(func(s *Handlers, c echo.Context, v discussion.Viewer, id string) error {
		if err := s.allowWrite(c, discussion.WriteEndorse); err != nil {
			return err
		}
		err := s.Discussions.Endorse(c.Request().Context(), v, id)
		if err == nil {
			s.announce(c, "post.updated", c.Param("thread"), id)
		}
		return err
	})(c)
}

func (s *Handlers) DeletePost(c echo.Context) error {
	return s.postAction(func(s *Handlers, c echo.Context, v discussion.Viewer, id string) error {
		err := s.Discussions.Delete(c.Request().Context(), v, id)
		if err == nil {
			s.announce(c, "post.removed", c.Param("thread"), id)
		}
		return err
	})(c)
}

// ThreadFlag pins, locks or closes a thread (staff), or follows it.
func (s *Handlers) ThreadFlag(c echo.Context) error {
	sess := c.Get(kit.CtxSession).(session.Session)
	v, threadID := kit.ViewerOf(c, sess), c.Param("thread")
	on := c.FormValue("on") == "1"
	if flag := c.FormValue("flag"); flag == "following" {
		if err := s.allowWrite(c, discussion.WriteFollow); err != nil {
			return err
		}
		if err := s.Discussions.Follow(c.Request().Context(), v, threadID, on); err != nil {
			return err
		}
	} else {
		if err := s.Discussions.SetFlag(c.Request().Context(), v, threadID, flag, on); err != nil {
			return err
		}
		s.announce(c, "thread.updated", threadID, "")
	}
	return s.SeeOther(c, kit.BasePath(c)+"/t/"+threadID, "#thread-actions")
}
