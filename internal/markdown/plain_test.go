package markdown

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainTextDropsMarkup(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"Ask **one question** about the _reading_.", "Ask one question about the reading."},
		{"# Week 3\n\nRead `chapter 2`, then\nask.\n\n- one\n- two", "Week 3 Read chapter 2, then ask. one two"},
		{"See [the guide](https://example.org/guide) ![chart](https://example.org/c.png)", "See the guide chart (external image)"},
		{"Hi <b>there</b>", "Hi there"},
		{"<script>alert(1)</script>\n\nHi", "Hi"},
		{"```\ncode line\n```\nafter", "code line after"},
		{"> quoted\n\ntext", "quoted text"},
		{"", ""},
	} {
		if got := PlainText(c.src, 0); got != c.want {
			t.Errorf("PlainText(%q) = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestPlainTextIsCut(t *testing.T) {
	got := PlainText(strings.Repeat("word ", 200), 50)
	if n := utf8.RuneCountInString(got); n > 50 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to %d runes: %q", n, got)
	}
}

func FuzzPlainText(f *testing.F) {
	f.Add("**a** _b_ `c`\n\n- d\n> e", 20)
	f.Fuzz(func(t *testing.T, src string, max int) {
		if max < 0 || max > 1000 {
			return
		}
		got := PlainText(src, max)
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Errorf("%d runes, max %d", utf8.RuneCountInString(got), max)
		}
		if strings.ContainsAny(got, "\n\t") {
			t.Errorf("white space not folded: %q", got)
		}
	})
}
