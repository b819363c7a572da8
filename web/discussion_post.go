package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// The "post" part is written here in Go rather than executed as a
// template: a 100-post thread spent 2.7 ms of CPU per view executing it
// (every field, escaper and nested part of text/template is a
// reflective call, about 27 µs per post). The bytes are those the
// template wrote, escaped as html/template escapes them in each context
// (TestPostHTMLMatchesTemplate holds the template and compares).

// PostHTML is the post as its page shows it.
func (pv postView) PostHTML() template.HTML {
	var w htmlWriter
	w.Grow(1500 + len(pv.HTML))
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
	w.raw(`-by"><span class="author" data-testid="author">`)
	w.text(p.Author.Label())
	w.raw(`</span>`)
	if p.Author.Anonymous && p.Author.Name != "" {
		w.raw(` <span class="anon-note" data-testid="anon-note">(anonymous to learners)</span>`)
	}
	if p.Author.Staff {
		w.raw(` <span class="badge staff">Staff</span>`)
	}
	w.raw("</span>\n    <time datetime=\"")
	w.text(p.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
	w.raw(`">`)
	w.text(p.CreatedAt.Format("2 Jan 2006, 15:04"))
	w.raw(" UTC</time>\n    ")
	if p.Edited {
		w.raw(`<a class="edited" data-testid="edited" href="`)
		w.url(pv.HistoryURL)
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
			w.url(pv.HistoryURL)
			w.raw(`" data-testid="removed-history">What it said</a>`)
		}
		w.raw("</p>\n  ")
	case p.Hidden && !pv.Staff:
		w.raw("\n  <p class=\"placeholder\" data-testid=\"hidden-placeholder\">This post was hidden by moderators.</p>\n  ")
	default:
		pv.writeActions(&w)
	}
	w.raw("\n</article>\n")
	return template.HTML(w.String())
}

// writeActions writes the post's body and the actions on it.
func (pv postView) writeActions(w *htmlWriter) {
	p := &pv.Post
	w.raw("\n  <div class=\"post-body\" data-testid=\"post-body\">")
	w.raw(string(pv.HTML))
	w.raw("</div>\n  <div class=\"post-actions\">\n    <form method=\"post\" action=\"")
	w.url(pv.VoteURL)
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
	if !p.Opening {
		w.raw(`<a class="small-link" href="`)
		w.url(pv.ReplyURL)
		w.raw(`">Reply</a>`)
	}
	w.raw("\n    <a class=\"small-link\" href=\"")
	w.url(pv.QuoteURL)
	w.raw("\" data-testid=\"quote\">Quote</a>\n    ")
	if pv.CanAccept {
		w.raw(`<form method="post" action="`)
		w.url(pv.AcceptURL)
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw(`<button type="submit" class="small secondary" data-testid="accept">`)
		if p.Accepted {
			w.raw("Unaccept")
		} else {
			w.raw("Accept answer")
		}
		w.raw(`</button></form>`)
	}
	w.raw("\n    ")
	if pv.Staff {
		w.raw(`<form method="post" action="`)
		w.url(pv.EndorseURL)
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw(`<button type="submit" class="small secondary" data-testid="endorse">`)
		if p.Endorsed {
			w.raw("Remove endorsement")
		} else {
			w.raw("Endorse")
		}
		w.raw(`</button></form>`)
	}
	w.raw("\n    ")
	if pv.CanEdit {
		w.raw(`<a class="small-link" href="`)
		w.url(pv.EditURL)
		w.raw("\" data-testid=\"edit\">Edit</a>\n    <form method=\"post\" action=\"")
		w.url(pv.DeleteURL)
		w.raw(`" class="inline">`)
		w.hidden(pv.Form)
		w.raw(`<button type="submit" class="small danger" data-testid="delete">Remove</button></form>`)
	}
	w.raw("\n    ")
	if pv.CanFlag {
		w.raw(`<a class="small-link" href="`)
		w.url(pv.FlagURL)
		w.raw(`" data-testid="flag">Flag</a>`)
	}
	w.raw("\n    ")
	if pv.Staff {
		w.raw(`<form method="post" action="`)
		if p.Hidden {
			w.url(pv.RestoreURL)
		} else {
			w.url(pv.HideURL)
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

// htmlWriter builds HTML, escaping values as html/template does.
type htmlWriter struct{ strings.Builder }

func (w *htmlWriter) raw(s string) { w.WriteString(s) }

// text writes s as text or a quoted attribute's value: html/template's
// escaper (which also escapes '+').
func (w *htmlWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(repl)
		last = i + 1
	}
	w.WriteString(s[last:])
}

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

// normalizeURL percent-encodes the bytes html/template's URL normalizer
// encodes: all but letters, digits, RFC 3986's reserved and unreserved
// characters and valid escapes.
func normalizeURL(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
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

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
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
