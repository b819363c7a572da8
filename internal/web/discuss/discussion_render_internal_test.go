package discuss

import (
	"fmt"
	"html/template"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// TestPostHTMLCache: a cached post renders as Markdown would render it,
// an edited text is rendered afresh, and memory stays within two
// generations however many posts pass through.
func TestPostHTMLCache(t *testing.T) {
	c := newPostHTML(4 << 10)
	body := "Some **bold** text, `code` and <script>alert(1)</script> @ada"
	if got, want := c.render(body), markdown.Render(body); got != want || c.render(body) != want {
		t.Fatalf("cached render %q, want %q", got, want)
	}
	if got, want := c.render(body+" edited"), markdown.Render(body+" edited"); got != want {
		t.Fatalf("edited render %q, want %q", got, want)
	}
	for i := range 500 {
		c.render(fmt.Sprintf("post number %d with some words to render", i))
		total := 0
		for _, m := range []map[string]template.HTML{c.cur, c.prev} {
			for body, h := range m {
				total += len(body) + len(h)
			}
		}
		if total > 2*c.maxBytes || c.size > c.maxBytes {
			t.Fatalf("after %d posts: %d bytes held, current generation %d; bound %d", i+1, total, c.size, c.maxBytes)
		}
	}
	// A post read from the previous generation moves back to the current one.
	first := "the first post of a generation"
	key := first
	c.render(first)
	for i := 0; c.prev[key] == "" && i < 500; i++ {
		c.render(fmt.Sprintf("later post %d with some words to render", i))
	}
	if c.prev[key] == "" {
		t.Fatal("the first post never reached the previous generation")
	}
	c.render(first)
	if c.cur[key] == "" {
		t.Error("a post read from the previous generation is not kept in the current one")
	}
}

func TestNotificationsBadge(t *testing.T) {
	for n, want := range map[int]string{1: "1", 42: "42", discussion.MaxUnreadCounted - 1: "99", discussion.MaxUnreadCounted: "99+"} {
		if got := (kit.ActivityBase{UnreadNotifications: n}).NotificationsBadge(); got != want {
			t.Errorf("badge of %d: %q, want %q", n, got, want)
		}
	}
}
