package discuss

import (
	"html/template"
	"strings"
	"sync"

	"github.com/roundtable-lms/roundtable/internal/markdown"
)

// postHTML renders posts' Markdown, remembering the result by the text:
// rendering is a pure function of the text, and every reader of a busy
// Thread asks for the same posts (rendering 100 posts cost about 5 ms of
// CPU per page view). An edit changes the text, hence the key, so nothing
// is ever stale. The text itself is the key: a map hashes it faster than
// a digest would, and without a copy. Memory is bounded by two
// generations of maxBytes (texts and their HTML): when the current one
// fills, it becomes the previous one and the older is dropped; a post
// found in the previous one moves back.
//
// Every page that shows a post's text goes through it: the thread, the
// post's history (each earlier version), the flag form and the moderation
// queue. A text is rendered once, and then only after it left both
// generations.
type postHTML struct {
	mu        sync.Mutex
	cur, prev map[string]template.HTML
	size      int
	maxBytes  int
	// renders, when tests set it, counts each text's renders.
	renders map[string]int
}

func newPostHTML(maxBytes int) *postHTML {
	return &postHTML{cur: map[string]template.HTML{}, maxBytes: maxBytes}
}

// renderedPosts is shared by the process's servers: the same text renders
// the same everywhere.
var renderedPosts = newPostHTML(16 << 20)

func (c *postHTML) render(body string) template.HTML {
	c.mu.Lock()
	h, ok := c.cur[body]
	if !ok {
		if h, ok = c.prev[body]; ok {
			c.put(body, h)
		}
	}
	c.mu.Unlock()
	if ok {
		return h
	}
	h = markdown.Render(body)
	c.mu.Lock()
	c.put(strings.Clone(body), h)
	if c.renders != nil {
		c.renders[body]++
	}
	c.mu.Unlock()
	return h
}

// put stores h under body; c.mu is held.
func (c *postHTML) put(body string, h template.HTML) {
	if _, ok := c.cur[body]; ok {
		return
	}
	if c.size+len(body)+len(h) > c.maxBytes {
		c.prev, c.cur, c.size = c.cur, map[string]template.HTML{}, 0
	}
	c.cur[body] = h
	c.size += len(body) + len(h)
}

// CountMarkdownRenders makes the process count how many times it renders
// each post's text, for tests (see MarkdownRenders).
func CountMarkdownRenders() {
	renderedPosts.mu.Lock()
	defer renderedPosts.mu.Unlock()
	if renderedPosts.renders == nil {
		renderedPosts.renders = map[string]int{}
	}
}

// MarkdownRenders is how many times the process rendered a post's text
// (its cache missed) since CountMarkdownRenders.
func MarkdownRenders(body string) int {
	renderedPosts.mu.Lock()
	defer renderedPosts.mu.Unlock()
	return renderedPosts.renders[body]
}
