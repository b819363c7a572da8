package web

import (
	"crypto/sha256"
	"html/template"
	"strconv"
	"sync"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/markdown"
)

// postHTML renders posts' Markdown, remembering the result by the text's
// hash: rendering is a pure function of the text, and every reader of a
// busy thread asks for the same posts (rendering 100 posts cost about
// 5 ms of CPU per page view). An edit changes the text, hence the key, so
// nothing is ever stale. Memory is bounded by two generations of
// maxBytes: when the current one fills, it becomes the previous one and
// the older is dropped; a post found in the previous one moves back.
type postHTML struct {
	mu        sync.Mutex
	cur, prev map[[32]byte]template.HTML
	size      int
	maxBytes  int
}

func newPostHTML(maxBytes int) *postHTML {
	return &postHTML{cur: map[[32]byte]template.HTML{}, maxBytes: maxBytes}
}

// renderedPosts is shared by the process's servers: the same text renders
// the same everywhere.
var renderedPosts = newPostHTML(8 << 20)

func (c *postHTML) render(body string) template.HTML {
	key := sha256.Sum256([]byte(body))
	c.mu.Lock()
	h, ok := c.cur[key]
	if !ok {
		if h, ok = c.prev[key]; ok {
			c.put(key, h)
		}
	}
	c.mu.Unlock()
	if ok {
		return h
	}
	h = markdown.Render(body)
	c.mu.Lock()
	c.put(key, h)
	c.mu.Unlock()
	return h
}

// put stores h under key; c.mu is held.
func (c *postHTML) put(key [32]byte, h template.HTML) {
	if _, ok := c.cur[key]; ok {
		return
	}
	if c.size+len(h) > c.maxBytes {
		c.prev, c.cur, c.size = c.cur, map[[32]byte]template.HTML{}, 0
	}
	c.cur[key] = h
	c.size += len(h)
}

// NotificationsBadge is the header's count of unseen notifications, "99+"
// when the count reached discussion.MaxUnreadCounted.
func (b discussionBase) NotificationsBadge() string {
	if b.UnreadNotifications >= discussion.MaxUnreadCounted {
		return strconv.Itoa(discussion.MaxUnreadCounted-1) + "+"
	}
	return strconv.Itoa(b.UnreadNotifications)
}
