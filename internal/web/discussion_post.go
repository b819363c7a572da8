package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/roundtable-lms/roundtable/discussion"
)

// The "post" part is written here in Go rather than executed as a
// template: a 100-post thread spent 2.7 ms of CPU per view executing it
// (every field, escaper and nested part of text/template is a
// reflective call, about 27 µs per post). The bytes are those the
// template wrote, escaped as html/template escapes them in each context
// (TestPostHTMLMatchesTemplate holds the template and compares).

// PostHTML is the post as its page shows it (the "post" part).
func (pv postView) PostHTML() template.HTML {
	w := htmlWriter{new(bytes.Buffer)}
	w.Grow(pv.size())
	pv.writePost(&w)
	return template.HTML(w.String())
}

// ReplyHTML is a top-level reply with its own replies (the "reply" part).
func (pv postView) ReplyHTML() template.HTML {
	w := htmlWriter{new(bytes.Buffer)}
	size := pv.size()
	for i := range pv.Children {
		size += pv.Children[i].size()
	}
	w.Grow(size)
	pv.writeReply(&w)
	return template.HTML(w.String())
}

// writeReplies writes the thread page's replies into it, as the page's
// template once ranged over them (TestRepliesMatchTemplate).
func writeReplies(buf *bytes.Buffer, replies []postView) {
	w := htmlWriter{buf}
	size := 0
	for i := range replies {
		size += replies[i].size()
		for j := range replies[i].Children {
			size += replies[i].Children[j].size()
		}
	}
	w.Grow(size)
	for i := range replies {
		w.raw("\n  ")
		replies[i].writeReply(&w)
		w.raw("\n  ")
	}
}

// size is about what the post's HTML takes: its body, the markup, and
// the session token in each of its forms and links.
func (pv *postView) size() int {
	return 1600 + len(pv.HTML) + 6*len(pv.Form.RT)
}

func (pv *postView) writeReply(w *htmlWriter) {
	w.raw("<div class=\"reply\">\n    ")
	pv.writePost(w)
	w.raw("\n    ")
	if len(pv.Children) > 0 {
		w.raw(`<div class="children">`)
		for i := range pv.Children {
			pv.Children[i].writePost(w)
		}
		w.raw(`</div>`)
	}
	w.raw("\n  </div>")
}

// postLinks are what the URLs of a thread's posts' actions share, each
// escaped for an attribute as url escapes it: the space's path
// (/a/<link>), the thread, and the session's query ("rt=...", empty with
// a cookie). A 100-post page made a thousand URL strings, most of them
// never shown, and escaped the session token in each.
type postLinks struct{ base, thread, query string }

func newPostLinks(base, thread, query string) *postLinks {
	esc := func(s string) string {
		w := htmlWriter{new(bytes.Buffer)}
		w.urlPart(s)
		return w.String()
	}
	return &postLinks{esc(base), esc(thread), esc(query)}
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
// the thread page's query that quotes or answers the post. None needs
// escaping.
var actionPaths = [...]string{voteAction: "/vote", acceptAction: "/accept", endorseAction: "/endorse", editAction: "/edit",
	deleteAction: "/delete", historyAction: "/history", flagAction: "/flag", quoteAction: "?quote=", replyAction: "?reply_to=",
	hideAction: "/hide", restoreAction: "/restore"}

func (pv *postView) writePost(w *htmlWriter) {
	p := &pv.Post
	w.raw("\n<article class=\"post")
	if p.Opening {
		w.raw(" opening")
	}
	if p.Accepted {
		w.raw(" accepted")
	}
	if p.Deleted {
		w.raw(" removed")
	}
	w.raw(`" id="post-`)
	w.text(p.ID)
	w.raw(`" data-testid="post" aria-labelledby="post-`)
	w.text(p.ID)
	w.raw("-by\">\n  <header class=\"post-meta\">\n    <span id=\"post-")
	w.text(p.ID)
	w.raw(`-by">`)
	w.author(p.Author)
	w.raw("</span>\n    <time datetime=\"")
	w.text(p.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
	w.raw(`">`)
	w.text(p.CreatedAt.Format("2 Jan 2006, 15:04"))
	w.raw(" UTC</time>\n    ")
	if p.Edited {
		w.raw(`<a class="edited" data-testid="edited" href="`)
		w.link(pv, historyAction)
		w.raw(`">edited</a>`)
	}
	w.raw("\n    ")
	if p.New {
		w.raw(`<span class="badge new">New</span>`)
	}
	w.raw("\n    ")
	if p.Accepted {
		w.raw(`<span class="badge ok" data-testid="accepted">Accepted answer</span>`)
	}
	w.raw("\n    ")
	if p.Endorsed {
		w.raw(`<span class="badge staff" data-testid="endorsed">Endorsed by staff</span>`)
	}
	w.raw("\n    ")
	if p.Hidden && pv.Staff {
		w.raw(`<span class="badge warn" data-testid="hidden">Hidden</span>`)
	}
	w.raw("\n  </header>\n  ")
	switch {
	case p.Deleted:
		w.raw("\n  <p class=\"placeholder\" data-testid=\"removed\">This post was removed.")
		if pv.Staff {
			w.raw(` <a href="`)
			w.link(pv, historyAction)
			w.raw(`" data-testid="removed-history">What it said</a>`)
		}
		w.raw("</p>\n  ")
	case p.Hidden && !pv.Staff:
		w.raw("\n  <p class=\"placeholder\" data-testid=\"hidden-placeholder\">This post was hidden by moderators.</p>\n  ")
	default:
		pv.writeActions(w)
	}
	w.raw("\n</article>\n")
}

// votes writes a post's upvotes as a count that is not a button.
func (w *htmlWriter) votes(n int) {
	w.raw(`<span class="muted" data-testid="votes">`)
	w.raw(strconv.Itoa(n))
	if n == 1 {
		w.raw(" upvote")
	} else {
		w.raw(" upvotes")
	}
	w.raw("</span>")
}

// writeActions writes the post's body and the actions on it.
func (pv *postView) writeActions(w *htmlWriter) {
	p := &pv.Post
	w.raw("\n  <div class=\"post-body\" data-testid=\"post-body\">")
	w.raw(string(pv.HTML))
	if pv.ReadOnly {
		w.raw("</div>\n  <div class=\"post-actions\">\n    ")
		w.votes(p.Votes)
		w.raw("\n  </div>\n  ")
		return
	}
	if p.Author.Mine {
		// Nobody upvotes their own post: the count, not a button that
		// could only be refused.
		w.raw("</div>\n  <div class=\"post-actions\">\n    ")
		w.votes(p.Votes)
		w.raw("\n    ")
	} else {
		w.raw("</div>\n  <div class=\"post-actions\">\n    <form method=\"post\" action=\"")
		w.link(pv, voteAction)
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw("\n      <button type=\"submit\" class=\"small")
		if !p.Voted {
			w.raw(" secondary")
		}
		w.raw(`" aria-pressed="`)
		if p.Voted {
			w.raw("true")
		} else {
			w.raw("false")
		}
		w.raw(`" data-testid="vote"><span aria-hidden="true">▲</span> Upvote <span class="count" data-testid="votes">`)
		w.raw(strconv.Itoa(p.Votes))
		w.raw("</span></button>\n    </form>\n    ")
	}
	if !p.Opening {
		w.raw(`<a class="small-link" href="`)
		w.link(pv, replyAction)
		w.raw(`">Reply</a>`)
	}
	w.raw("\n    <a class=\"small-link\" href=\"")
	w.link(pv, quoteAction)
	w.raw("\" data-testid=\"quote\">Quote</a>\n    ")
	if pv.CanAccept {
		w.toggleForm(pv, acceptAction, "accept", p.Accepted, "Unaccept", "Accept answer")
	}
	w.raw("\n    ")
	if pv.Staff {
		w.toggleForm(pv, endorseAction, "endorse", p.Endorsed, "Remove endorsement", "Endorse")
	}
	w.raw("\n    ")
	if pv.CanEdit {
		w.raw(`<a class="small-link" href="`)
		w.link(pv, editAction)
		w.raw("\" data-testid=\"edit\">Edit</a>\n    <form method=\"post\" action=\"")
		w.link(pv, deleteAction)
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw(`<button type="submit" class="small danger" data-testid="delete">Remove</button></form>`)
	}
	w.raw("\n    ")
	if pv.CanFlag {
		w.raw(`<a class="small-link" href="`)
		w.link(pv, flagAction)
		w.raw(`" data-testid="flag">Flag</a>`)
	}
	w.raw("\n    ")
	if pv.Staff {
		w.raw(`<form method="post" action="`)
		if p.Hidden {
			w.link(pv, restoreAction)
		} else {
			w.link(pv, hideAction)
		}
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw(`<input type="hidden" name="thread" value="`)
		w.text(p.ThreadID)
		w.raw(`"><input type="hidden" name="return" value="thread"><button type="submit" class="small secondary" data-testid="`)
		if p.Hidden {
			w.raw(`restore">Restore for learners`)
		} else {
			w.raw(`hide">Hide from learners`)
		}
		w.raw(`</button></form>`)
	}
	w.raw("\n  </div>\n  ")
}

// toggleForm writes a post's one-button form for action a, whose button
// (data-testid testID) says whenSet or whenUnset as the post's state is.
func (w *htmlWriter) toggleForm(pv *postView, a postAction, testID string, set bool, whenSet, whenUnset string) {
	w.raw(`<form method="post" action="`)
	w.link(pv, a)
	w.raw(`" class="inline">`)
	w.hidden(pv.Form)
	w.raw(`<button type="submit" class="small secondary" data-testid="`)
	w.raw(testID)
	w.raw(`">`)
	if set {
		w.raw(whenSet)
	} else {
		w.raw(whenUnset)
	}
	w.raw(`</button></form>`)
}

// count writes n and its noun, one or many.
func (w *htmlWriter) count(n int, one, many string) {
	w.raw(strconv.Itoa(n))
	if n == 1 {
		w.raw(one)
	} else {
		w.raw(many)
	}
}

// htmlWriter builds HTML, escaping values as html/template does.
type htmlWriter struct{ *bytes.Buffer }

func (w *htmlWriter) raw(s string) { w.WriteString(s) }

// text writes s as text or a quoted attribute's value: html/template's
// escaper (which also escapes '+').
func (w *htmlWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		repl := htmlEscapes[s[i]]
		if repl == "" {
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(repl)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// htmlEscapes are html/template's replacements in text and attributes;
// they are all ASCII, so a byte never in the middle of a UTF-8 sequence.
var htmlEscapes = [256]string{0: "\uFFFD", '"': "&#34;", '&': "&amp;", '\'': "&#39;", '+': "&#43;", '<': "&lt;", '>': "&gt;"}

// url writes s as an href or action attribute's value: html/template
// refuses a scheme other than http, https and mailto, percent-encodes
// what is not allowed in a URL, then escapes for the attribute.
func (w *htmlWriter) url(s string) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		w.WriteString("#ZgotmplZ")
		return
	}
	w.text(normalizeURL(s))
}

// link writes the URL of action a on pv as url would write it whole: it
// starts with the space's path, so has no scheme to refuse, and no part
// splits a percent escape, so each is escaped on its own
// (TestPostHTMLMatchesTemplate compares).
func (w *htmlWriter) link(pv *postView, a postAction) {
	l := pv.links
	w.raw(l.base)
	switch a {
	case quoteAction, replyAction:
		w.raw("/t/")
		w.raw(l.thread)
		w.raw(actionPaths[a])
		w.urlPart(pv.ID)
		if l.query != "" {
			w.raw("&amp;")
			w.raw(l.query)
		}
		w.raw("#reply")
		return
	case hideAction, restoreAction:
		w.raw("/moderation/p/")
		w.urlPart(pv.ID)
	default:
		w.raw("/t/")
		w.raw(l.thread)
		w.raw("/p/")
		w.urlPart(pv.ID)
	}
	w.raw(actionPaths[a])
	if l.query != "" {
		w.raw("?")
		w.raw(l.query)
	}
}

func (w *htmlWriter) urlPart(s string) { w.text(normalizeURL(s)) }

// normalizeURL percent-encodes the bytes html/template's URL normalizer
// encodes: all but letters, digits, RFC 3986's reserved and unreserved
// characters and valid escapes.
func normalizeURL(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlKept[c] || c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			continue
		}
		if last == 0 {
			b.Grow(len(s) + 16)
		}
		b.WriteString(s[last:i])
		b.WriteString(fmt.Sprintf("%%%02x", c))
		last = i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// urlKept are the bytes the normalizer keeps as they are.
var urlKept = func() (k [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&*+,/:;=?@[]-._~") {
		k[c] = true
	}
	return k
}()

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// author writes the "author" part.
func (w *htmlWriter) author(a discussion.Author) {
	w.raw(`<span class="author" data-testid="author">`)
	w.text(a.Label())
	w.raw(`</span>`)
	if a.Anonymous && a.Name != "" {
		w.raw(` <span class="anon-note" data-testid="anon-note">(anonymous to learners)</span>`)
	}
	if a.Staff {
		w.raw(` <span class="badge staff">Staff</span>`)
	}
}

// hidden writes the "hidden" part: the CSRF token and, without a
// cookie, the session token.
func (w *htmlWriter) hidden(f hiddenFields) {
	w.raw(`<input type="hidden" name="csrf" value="`)
	w.text(f.CSRF)
	w.raw(`">`)
	if f.RT != "" {
		w.raw(`<input type="hidden" name="rt" value="`)
		w.text(f.RT)
		w.raw(`">`)
	}
}

// RowHTML is the "thread-row" part, written in Go for the same reason as
// PostHTML (a list page spent 0.8 ms of CPU executing its 25 rows); the
// bytes are the template's (TestRowHTMLMatchesTemplate).
func (r threadRow) RowHTML() template.HTML {
	w := htmlWriter{new(bytes.Buffer)}
	w.Grow(1200)
	t := &r.Thread
	w.raw(`<li class="thread-item" data-testid="thread" data-thread-id="`)
	w.text(t.ID)
	w.raw("\">\n      <div class=\"thread-title\">\n        ")
	if t.Pinned {
		w.raw(`<span class="badge" data-testid="pinned">Pinned</span>`)
	}
	w.raw("\n        <span class=\"badge kind\">")
	if t.IsQuestion() {
		w.raw("Question")
	} else {
		w.raw("Discussion")
	}
	w.raw("</span>\n        <a href=\"")
	w.url(r.L.URL(r.Base + "/t/" + t.ID))
	w.raw(`" data-testid="thread-link">`)
	w.text(t.Title)
	w.raw("</a>\n        ")
	if r.Original.ID != "" {
		w.raw(`<span class="badge" data-testid="duplicate-of">Duplicate of <a href="`)
		w.url(r.L.URL(r.Base + "/t/" + r.Original.ID))
		w.raw(`">`)
		w.text(r.Original.Title)
		w.raw(`</a></span>`)
	}
	w.raw("\n        ")
	if t.IsQuestion() {
		if t.Answered() {
			w.raw(`<span class="badge ok" data-testid="answered">Answered</span>`)
		} else {
			w.raw(`<span class="badge warn" data-testid="unanswered">Unanswered</span>`)
		}
	}
	w.raw("\n        ")
	if t.Locked {
		w.raw(`<span class="badge">Locked</span>`)
	}
	if t.Closed {
		w.raw(`<span class="badge">Closed</span>`)
	}
	if t.Hidden {
		w.raw(`<span class="badge warn" data-testid="hidden">Hidden</span>`)
	}
	w.raw("\n      </div>\n      <div class=\"thread-meta muted\">\n        ")
	w.author(t.Author)
	w.raw(" ·\n        <span data-testid=\"reply-count\">")
	w.count(t.Replies, " reply", " replies")
	w.raw("</span> ·\n        <span data-testid=\"vote-count\">")
	w.count(t.Votes, " vote", " votes")
	w.raw("</span>\n        ")
	if t.Unread != 0 {
		w.raw(` · <strong class="unread" data-testid="unread">`)
		w.raw(strconv.Itoa(t.Unread))
		w.raw(` new</strong>`)
	}
	w.raw("\n        ")
	if t.Following {
		w.raw(` · <span>Following</span>`)
	}
	w.raw("\n        · last activity <time datetime=\"")
	w.text(t.LastActivity.Format("2006-01-02T15:04:05Z07:00"))
	w.raw(`">`)
	w.text(t.LastActivity.Format("2 Jan, 15:04"))
	w.raw("</time>\n        ")
	for _, tag := range t.Tags {
		w.raw(` <a class="tag" href="`)
		w.url(r.L.URL(r.Base + "?tag=" + tag))
		w.raw(`">#`)
		w.text(tag)
		w.raw(`</a>`)
	}
	w.raw("\n      </div>\n    </li>")
	return template.HTML(w.String())
}
