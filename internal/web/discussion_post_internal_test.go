package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
)

// postTemplate is the "post" part as a template wrote it before PostHTML
// (discussion_post.go) took over: the reference its bytes must match.
const postTemplate = `{{define "post-template"}}{{$p := .Post}}
<article class="post{{if $p.Opening}} opening{{end}}{{if $p.Accepted}} accepted{{end}}{{if $p.Deleted}} removed{{end}}" id="post-{{$p.ID}}" data-testid="post" aria-labelledby="post-{{$p.ID}}-by">
  <header class="post-meta">
    <span id="post-{{$p.ID}}-by">{{template "author" $p.Author}}</span>
    <time datetime="{{$p.CreatedAt.Format "2006-01-02T15:04:05Z07:00"}}">{{$p.CreatedAt.Format "2 Jan 2006, 15:04"}} UTC</time>
    {{if $p.Edited}}<a class="edited" data-testid="edited" href="{{.HistoryURL}}">edited</a>{{end}}
    {{if $p.New}}<span class="badge new">New</span>{{end}}
    {{if $p.Accepted}}<span class="badge ok" data-testid="accepted">Accepted answer</span>{{end}}
    {{if $p.Endorsed}}<span class="badge staff" data-testid="endorsed">Endorsed by staff</span>{{end}}
    {{if and $p.Hidden .Staff}}<span class="badge warn" data-testid="hidden">Hidden</span>{{end}}
  </header>
  {{if $p.Deleted}}
  <p class="placeholder" data-testid="removed">This post was removed.{{if .Staff}} <a href="{{.HistoryURL}}" data-testid="removed-history">What it said</a>{{end}}</p>
  {{else if and $p.Hidden (not .Staff)}}
  <p class="placeholder" data-testid="hidden-placeholder">This post was hidden by moderators.</p>
  {{else}}
  <div class="post-body" data-testid="post-body">{{.HTML}}</div>
  <div class="post-actions">
    {{if $p.Author.Mine}}<span class="muted" data-testid="votes">{{$p.Votes}} {{if eq $p.Votes 1}}upvote{{else}}upvotes{{end}}</span>
    {{else}}<form method="post" action="{{.VoteURL}}" class="inline">{{template "hidden" .Form}}
      <button type="submit" class="small{{if not $p.Voted}} secondary{{end}}" aria-pressed="{{if $p.Voted}}true{{else}}false{{end}}" data-testid="vote"><span aria-hidden="true">▲</span> Upvote <span class="count" data-testid="votes">{{$p.Votes}}</span></button>
    </form>
    {{end}}{{if not $p.Opening}}<a class="small-link" href="{{.ReplyURL}}">Reply</a>{{end}}
    <a class="small-link" href="{{.QuoteURL}}" data-testid="quote">Quote</a>
    {{if .CanAccept}}<form method="post" action="{{.AcceptURL}}" class="inline">{{template "hidden" .Form}}<button type="submit" class="small secondary" data-testid="accept">{{if $p.Accepted}}Unaccept{{else}}Accept answer{{end}}</button></form>{{end}}
    {{if .Staff}}<form method="post" action="{{.EndorseURL}}" class="inline">{{template "hidden" .Form}}<button type="submit" class="small secondary" data-testid="endorse">{{if $p.Endorsed}}Remove endorsement{{else}}Endorse{{end}}</button></form>{{end}}
    {{if .CanEdit}}<a class="small-link" href="{{.EditURL}}" data-testid="edit">Edit</a>
    <form method="post" action="{{.DeleteURL}}" class="inline">{{template "hidden" .Form}}<button type="submit" class="small danger" data-testid="delete">Remove</button></form>{{end}}
    {{if .CanFlag}}<a class="small-link" href="{{.FlagURL}}" data-testid="flag">Flag</a>{{end}}
    {{if .Staff}}<form method="post" action="{{if $p.Hidden}}{{.RestoreURL}}{{else}}{{.HideURL}}{{end}}" class="inline">{{template "hidden" .Form}}<input type="hidden" name="thread" value="{{$p.ThreadID}}"><input type="hidden" name="return" value="thread"><button type="submit" class="small secondary" data-testid="{{if $p.Hidden}}restore{{else}}hide{{end}}">{{if $p.Hidden}}Restore for learners{{else}}Hide from learners{{end}}</button></form>{{end}}
  </div>
  {{end}}
</article>
{{end}}`

// rowTemplate is the "thread-row" part as a template wrote it before
// RowHTML.
const rowTemplate = `{{define "row-template"}}{{$t := .Thread}}<li class="thread-item" data-testid="thread" data-thread-id="{{$t.ID}}">
      <div class="thread-title">
        {{if $t.Pinned}}<span class="badge" data-testid="pinned">Pinned</span>{{end}}
        <span class="badge kind">{{if .IsQuestion}}Question{{else}}Discussion{{end}}</span>
        <a href="{{$.L.URL (printf "%s/t/%s" $.Base $t.ID)}}" data-testid="thread-link">{{$t.Title}}</a>
        {{$dup := $t.Original}}{{if $dup.ID}}<span class="badge" data-testid="duplicate-of">Duplicate of <a href="{{$.L.URL (printf "%s/t/%s" $.Base $dup.ID)}}">{{$dup.Title}}</a></span>{{end}}
        {{if .IsQuestion}}{{if .Answered}}<span class="badge ok" data-testid="answered">Answered</span>{{else}}<span class="badge warn" data-testid="unanswered">Unanswered</span>{{end}}{{end}}
        {{if $t.Locked}}<span class="badge">Locked</span>{{end}}{{if $t.Closed}}<span class="badge">Closed</span>{{end}}{{if $t.Hidden}}<span class="badge warn" data-testid="hidden">Hidden</span>{{end}}
      </div>
      <div class="thread-meta muted">
        {{template "author" $t.Author}} ·
        <span data-testid="reply-count">{{$t.Replies}} {{if eq $t.Replies 1}}reply{{else}}replies{{end}}</span> ·
        <span data-testid="vote-count">{{$t.Votes}} {{if eq $t.Votes 1}}vote{{else}}votes{{end}}</span>
        {{if $t.Unread}} · <strong class="unread" data-testid="unread">{{$t.Unread}} new</strong>{{end}}
        {{if $t.Following}} · <span>Following</span>{{end}}
        · last activity <time datetime="{{$t.LastActivity.Format "2006-01-02T15:04:05Z07:00"}}">{{$t.LastActivity.Format "2 Jan, 15:04"}}</time>
        {{range $t.Tags}} <a class="tag" href="{{$.L.URL (printf "%s?tag=%s" $.Base .)}}">#{{.}}</a>{{end}}
      </div>
    </li>{{end}}`

// refPost is a post as the reference templates saw it: with the URLs of
// its actions as strings, made as the page once made them.
type refPost struct {
	postView
	b      discussionBase
	thread string
}

func (r refPost) onPost(action string) string {
	return r.b.URL(r.b.Base + "/t/" + r.thread + "/p/" + r.ID + action)
}

func (r refPost) onThread(query string) string {
	return r.b.URL(r.b.Base+"/t/"+r.thread+query+r.ID) + "#reply"
}

func (r refPost) VoteURL() string    { return r.onPost("/vote") }
func (r refPost) AcceptURL() string  { return r.onPost("/accept") }
func (r refPost) EndorseURL() string { return r.onPost("/endorse") }
func (r refPost) EditURL() string    { return r.onPost("/edit") }
func (r refPost) DeleteURL() string  { return r.onPost("/delete") }
func (r refPost) HistoryURL() string { return r.onPost("/history") }
func (r refPost) FlagURL() string    { return r.onPost("/flag") }
func (r refPost) QuoteURL() string   { return r.onThread("?quote=") }
func (r refPost) ReplyURL() string   { return r.onThread("?reply_to=") }
func (r refPost) HideURL() string    { return r.b.URL(r.b.Base + "/moderation/p/" + r.ID + "/hide") }
func (r refPost) RestoreURL() string { return r.b.URL(r.b.Base + "/moderation/p/" + r.ID + "/restore") }

// referenceParts are the page's parts, with ref, the reference
// templates' helper that makes a post view a refPost.
func referenceParts(t *testing.T, ref func(postView) refPost) *template.Template {
	t.Helper()
	parts, err := template.New("parts").Funcs(template.FuncMap{"ref": ref}).ParseFS(templateFS, "templates/discussion_parts.html")
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

// TestPostHTMLMatchesTemplate renders posts in every combination of
// their states and of the viewer's rights with PostHTML and with the
// template it replaces, and wants the same bytes: values that need
// escaping, session tokens in URLs, and URLs html/template filters or
// percent-encodes.
func TestPostHTMLMatchesTemplate(t *testing.T) {
	ref, err := referenceParts(t, nil).New("post-template").Parse(postTemplate)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(name string, pv postView, b discussionBase, thread string) {
		t.Helper()
		var want bytes.Buffer
		if err := ref.ExecuteTemplate(&want, "post-template", refPost{pv, b, thread}); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := ref.ExecuteTemplate(&got, "post", pv); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%s: PostHTML wrote\n%s\nthe template wrote\n%s", name, got.String(), want.String())
		}
	}
	created := time.Date(2026, 3, 4, 15, 6, 7, 0, time.UTC)
	n := 0
	for _, token := range []string{"", "tok+en/with=signs&more"} {
		b := discussionBase{L: Layout{SessionToken: token}, CSRF: "csrf'\"+<&>", Base: "/a/link-1"}
		for mask := 0; mask < 1<<13; mask++ {
			on := func(bit int) bool { return mask&(1<<bit) != 0 }
			th := discussion.Thread{ID: "th<1>", Kind: discussion.Discussion, Author: discussion.Author{Mine: on(10)}, Locked: on(11)}
			if on(12) {
				th.Kind = discussion.Question
			}
			p := discussion.Post{ID: "p&1+\"x'", ThreadID: th.ID, Opening: on(0), Accepted: on(1), Deleted: on(2), Hidden: on(3),
				Edited: on(4), New: on(5), Endorsed: on(6), Voted: on(7), Votes: mask % 7, CreatedAt: created, Body: "**b**",
				Author: discussion.Author{Name: "O'Brien <b> & Zoë+", Anonymous: on(8), Staff: on(9), Mine: on(10)}}
			if on(8) && on(9) {
				p.Author.Name = ""
			}
			compare(p.ID, postViews(b, on(9) != on(3), th)(p), b, th.ID)
			n++
		}
	}
	// URLs the template filters or percent-encodes, as url writes them.
	urlRef, err := template.New("a").Parse(`<a href="{{.}}">`)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"javascript:alert(1)", "/a/x?q=a b&c=é(1)'", "/a/%zz%41", "https://example.com/?x=1", "mailto:a@b", "/a:b/c", ""} {
		var want bytes.Buffer
		if err := urlRef.Execute(&want, u); err != nil {
			t.Fatal(err)
		}
		got := htmlWriter{new(bytes.Buffer)}
		got.raw(`<a href="`)
		got.url(u)
		got.raw(`">`)
		if got.String() != want.String() {
			t.Fatalf("url %q: wrote %s, the template %s", u, got.String(), want.String())
		}
		n++
	}
	if n < 1<<14 {
		t.Fatalf("compared %d posts", n)
	}
	if !strings.Contains(string(postViews(discussionBase{Base: "/a/l"}, false, discussion.Thread{ID: "t"})(
		discussion.Post{ID: "p", Body: "hello"}).PostHTML()), "<p>hello</p>") {
		t.Error("the post's Markdown is not in its HTML")
	}
}

// TestRowHTMLMatchesTemplate compares RowHTML with the template it
// replaces for threads in every combination of their states.
func TestRowHTMLMatchesTemplate(t *testing.T) {
	ref, err := template.New("parts").ParseFS(templateFS, "templates/discussion_parts.html")
	if err != nil {
		t.Fatal(err)
	}
	if ref, err = ref.New("row-template").Parse(rowTemplate); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 4, 9, 6, 7, 0, time.UTC)
	n := 0
	for _, token := range []string{"", "tok+en/with=signs&more"} {
		for mask := 0; mask < 1<<12; mask++ {
			on := func(bit int) bool { return mask&(1<<bit) != 0 }
			th := discussion.Thread{ID: "th<1>&+", Kind: discussion.Discussion, Title: "Why \"x\" < y & z + 'w' é?",
				Author: discussion.Author{Name: "O'Brien <b>", Anonymous: on(0), Staff: on(1)}, Pinned: on(2), Locked: on(3), Closed: on(4),
				Hidden: on(5), Following: on(6), Replies: mask % 3, Votes: (mask / 3) % 3, Unread: mask % 4, LastActivity: at}
			if on(7) {
				th.Kind = discussion.Question
			}
			if on(8) {
				th.AcceptedPostID = "p1"
			}
			if on(9) {
				th.Tags = []string{"week-1", "a b", "c&d+é", "x'y"}
			}
			if on(10) {
				th.Author.Name = ""
			}
			r := threadRow{Thread: th, L: Layout{SessionToken: token}, Base: "/a/link-1"}
			if on(11) {
				r.Original = discussion.ThreadRef{ID: "orig&1", Title: "The <original>"}
			}
			var want, got bytes.Buffer
			if err := ref.ExecuteTemplate(&want, "row-template", r); err != nil {
				t.Fatal(err)
			}
			if err := ref.ExecuteTemplate(&got, "thread-row", r); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("mask %b: RowHTML wrote\n%s\nthe template wrote\n%s", mask, got.String(), want.String())
			}
			n++
		}
	}
	if n != 2<<12 {
		t.Fatalf("compared %d rows", n)
	}
}

// TestRepliesMatchTemplate compares the thread page's replies, with
// and without nested replies, as ReplyHTML and writeReplies write them,
// with the "reply" part and the range over the replies that the page's
// template held.
func TestRepliesMatchTemplate(t *testing.T) {
	b := discussionBase{L: Layout{SessionToken: "t+k"}, CSRF: "c", Base: "/a/l"}
	th := discussion.Thread{ID: "t1", Kind: discussion.Question}
	ref, err := referenceParts(t, func(pv postView) refPost { return refPost{pv, b, th.ID} }).New("replies-template").Parse(`{{define "reply-template"}}<div class="reply">
    {{template "post-template" .}}
    {{if .Children}}<div class="children">{{range .Children}}{{template "post-template" (ref .)}}{{end}}</div>{{end}}
  </div>{{end}}{{range .Replies}}
  {{template "reply-template" (ref .)}}
  {{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	if ref, err = ref.New("post-template").Parse(postTemplate); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var page threadPage
	for i := range 4 {
		view := postViews(b, false, th)
		r := view(discussion.Post{ID: fmt.Sprintf("r%d", i), Body: "reply", CreatedAt: at, Voted: i%2 == 0})
		for j := range i {
			r.Children = append(r.Children, view(discussion.Post{ID: fmt.Sprintf("r%dc%d", i, j), ParentID: r.ID,
				Body: "nested", CreatedAt: at, Deleted: j == 1}))
		}
		page.Replies = append(page.Replies, r)
		var want bytes.Buffer
		if err := ref.ExecuteTemplate(&want, "reply-template", refPost{r, b, th.ID}); err != nil {
			t.Fatal(err)
		}
		if got := string(r.ReplyHTML()); got != want.String() {
			t.Fatalf("reply %d: ReplyHTML wrote\n%s\nthe template wrote\n%s", i, got, want.String())
		}
	}
	for n := range len(page.Replies) + 1 {
		p := threadPage{Replies: page.Replies[:n]}
		var want, got bytes.Buffer
		if err := ref.ExecuteTemplate(&want, "replies-template", p); err != nil {
			t.Fatal(err)
		}
		writeReplies(&got, p.Replies)
		if got.String() != want.String() {
			t.Fatalf("%d replies: the page wrote\n%s\nthe template wrote\n%s", n, got.String(), want.String())
		}
	}
}
