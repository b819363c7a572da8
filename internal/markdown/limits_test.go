package markdown

import (
	"errors"
	"fmt"
	"html/template"
	"strings"
	"testing"
)

// tableBomb is the post of the review: a header of n columns, its
// delimiter row, then lines of a lone "|" that each become a row of n
// cells, cut to size characters.
func tableBomb(n, size int) string {
	s := "|" + strings.Repeat("a|", n) + "\n|" + strings.Repeat("-|", n) + "\n" + strings.Repeat("|\n", size)
	return s[:size]
}

// bombs are texts of at most 20,000 characters (the longest post) that
// ask goldmark for much more than their size: output, nesting or
// quadratic work.
var bombs = func() map[string]string {
	const n = 20000
	cut := func(s string) string { return s[:min(len(s), n)] }
	nestedLists := func() string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(strings.Repeat("  ", i) + "- x\n")
		}
		return b.String()
	}
	return map[string]string{
		"1,500-column table":            tableBomb(1500, 9000),
		"1,500-column table, longer":    tableBomb(1500, n),
		"two-column table, 10,000 rows": cut("|a|b|\n|-|-|\n" + strings.Repeat("|\n", n)),
		"many ten-column tables":        cut(strings.Repeat("|a|b|c|d|e|f|g|h|i|j|\n|-|-|-|-|-|-|-|-|-|-|\n|\n|\n|\n|\n\n", 300)),
		"quotes 20,000 deep":            strings.Repeat(">", n),
		"quote lines 100 deep":          cut(strings.Repeat(strings.Repeat(">", 100)+" x\n", 200)),
		"lists nested on one line":      cut(strings.Repeat("+ ", n/2) + "x"),
		"lists nested by indentation":   cut(nestedLists()),
		"link reference repeated":       cut("[a]: https://example.com/" + strings.Repeat("x", 1000) + "\n\n" + strings.Repeat("[a]", n)),
		"unclosed links":                cut(strings.Repeat("[a](", n/4)),
		"open brackets":                 strings.Repeat("[", n),
		"images opened":                 cut(strings.Repeat("![", n/2)),
		"nested brackets":               cut(strings.Repeat("[", n/3) + strings.Repeat("](x)", n/6)),
		"mismatched emphasis":           cut(strings.Repeat("a*_", n/3)),
		"nested emphasis":               cut(strings.Repeat("*_", n/4) + "x" + strings.Repeat("_*", n/4)),
		"strikethrough":                 cut(strings.Repeat("~~a ", n/4)),
		"reference definitions":         cut(strings.Repeat("[a]: b\n", n)),
		"web addresses":                 cut(strings.Repeat("www.a.a ", n)),
		"autolinks":                     cut(strings.Repeat("<http://a>", n)),
		"mentions":                      cut(strings.Repeat("@a ", n)),
		"quotation marks":               strings.Repeat(`"`, n),
		"angle brackets":                strings.Repeat("<", n),
		"external images":               cut(strings.Repeat("![](https://tracker.example/p.gif?u=1)", n)),
	}
}()

// ordinary is a post of the longest length as people write them: prose
// with some emphasis and links, a list, a small table, a quote and code.
var ordinary = func() string {
	var b strings.Builder
	for i := 0; b.Len() < 20000; i++ {
		fmt.Fprintf(&b, "Paragraph %d: the *quick* brown fox reads [the notes](https://example.com/notes/%d) and asks @alice about it, "+
			"because the **second** exercise is not clear to everyone in the cohort yet.\n\n", i, i)
		if i%8 == 0 {
			b.WriteString("- one point\n- another point\n  - a detail\n\n| step | what | why |\n|---|---|---|\n| 1 | read | to know |\n| 2 | try | to learn |\n\n" +
				"> a quote\n> > of a quote\n\n```go\nfmt.Println(\"<hello>\")\n```\n\n")
		}
	}
	return b.String()[:20000]
}()

// bound is the most Render returns.
const bound = MaxHTML + len(TooLargeNote)

func TestBombsAreRefusedAndRenderBounded(t *testing.T) {
	for name, src := range bombs {
		if len(src) > 20000 {
			t.Fatalf("%s: %d characters, more than a post may have", name, len(src))
		}
		var le *LimitError
		if err := Check(src); !errors.As(err, &le) || le.Error() == "" {
			t.Errorf("%s: Check = %v, want a limit", name, err)
		}
		out, r := render(src)
		if len(out) > bound || r.fellBack || !r.limited || !strings.HasSuffix(string(out), TooLargeNote) {
			t.Errorf("%s: %d bytes of HTML (at most %d), fell back %v, limited %v", name, len(out), bound, r.fellBack, r.limited)
		}
	}
}

func TestTableBombNamesTheColumnLimit(t *testing.T) {
	src := tableBomb(1500, 9000)
	var le *LimitError
	if err := Check(src); !errors.As(err, &le) || le.Limit != "columns" || !strings.Contains(le.Error(), "at most 30 columns") || !strings.Contains(le.Error(), "1500") {
		t.Fatalf("Check = %v", err)
	}
	// Stored before the limits, it shows as the text it is: no table, no
	// 2,250,000 cells (22 MB).
	out := string(Render(src))
	if strings.Contains(out, "<table") || strings.Count(out, "<td") > 0 || len(out) > 2*len(src) {
		t.Errorf("the table bomb rendered %d bytes, %d cells", len(out), strings.Count(out, "<td"))
	}
	// A table within the limits is a table.
	if out := string(Render("|a|b|\n|-|-|\n|1|2|")); !strings.Contains(out, "<td>1</td>") {
		t.Errorf("a small table: %s", out)
	}
	// The cells of all the tables count: the 101st table of 20 cells is text.
	many := strings.Repeat("|a|b|\n|-|-|\n|1|2|\n|3|4|\n|5|6|\n|7|8|\n|9|0|\n|1|2|\n|3|4|\n|5|6|\n|7|8|\n\n", 101)
	if err := Check(many); !errors.As(err, &le) || le.Limit != "cells" {
		t.Errorf("101 tables of 20 cells: %v", err)
	}
	if n := strings.Count(string(Render(many)), "<table"); n != MaxTableCells/20 {
		t.Errorf("%d tables rendered, want %d", n, MaxTableCells/20)
	}
}

func TestNestingStopsAtMaxDepth(t *testing.T) {
	for name, src := range map[string]string{
		"quotes":            strings.Repeat(">", 20000),
		"lists on one line": strings.Repeat("+ ", 5000) + "x",
		"quotes of lists":   strings.Repeat("> + ", 3000) + "x",
	} {
		var le *LimitError
		if err := Check(src); !errors.As(err, &le) || le.Limit != "depth" || !strings.Contains(le.Error(), "16 deep") {
			t.Errorf("%s: Check = %v", name, err)
		}
		out := string(Render(src))
		if depth := strings.Count(out, "<blockquote>") + strings.Count(out, "<ul>"); depth != MaxDepth || len(out) > bound {
			t.Errorf("%s: nested %d deep in %d bytes", name, depth, len(out))
		}
	}
	if err := Check(strings.Repeat(">", MaxDepth) + " deep enough"); err != nil {
		t.Errorf("%d quotes: %v", MaxDepth, err)
	}
}

func TestOrdinaryPostsAreNotLimited(t *testing.T) {
	for name, src := range map[string]string{
		"longest ordinary post": ordinary,
		"150 links":             strings.Repeat("See [the guide](https://example.com/guide?a=1&b=2) and https://example.org/x.\n\n", 75),
		"a wide table":          "|" + strings.Repeat(" head |", MaxTableColumns) + "\n|" + strings.Repeat("---|", MaxTableColumns) + "\n" + strings.Repeat("|"+strings.Repeat(" cell |", MaxTableColumns)+"\n", 60),
		"code":                  "```html\n" + strings.Repeat(`<div class="card" id='x'>a &amp; b</div>`+"\n", 450) + "```",
		"quotes of quotes":      strings.Repeat("> ", 10) + "deep but fine\n",
	} {
		if err := Check(src); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		out, r := render(src)
		if r.limited || r.fellBack || strings.Contains(string(out), "too-large") {
			t.Errorf("%s: shown limited (%d bytes)", name, len(out))
		}
	}
	if out := Render(ordinary); len(out) > MaxHTML*3/4 {
		t.Errorf("an ordinary post of 20,000 characters made %d bytes", len(out))
	}
}

func TestCutKeepsWhatFitsAndSaysSo(t *testing.T) {
	src := strings.Repeat("> Read *this*: "+strings.Repeat(`"<&>" `, 10)+"[link](https://example.com/page).\n\n", 240)[:20000]
	out, r := render(src)
	s, ok := strings.CutSuffix(string(out), TooLargeNote)
	if !r.limited || r.fellBack || len(out) > bound || !strings.HasPrefix(s, "<blockquote>\n<p>Read <em>this</em>: &#34;&lt;&amp;&gt;&#34;") || !ok {
		t.Fatalf("cut: limited %v, fell back %v, %d bytes:\n%.300s", r.limited, r.fellBack, len(out), out)
	}
	for _, tag := range []string{"p", "a", "em", "blockquote"} {
		if strings.Count(s, "<"+tag+">")+strings.Count(s, "<"+tag+" ") != strings.Count(s, "</"+tag+">") {
			t.Errorf("the cut left a %s open: ...%s", tag, s[len(s)-300:])
		}
	}
	if len(s) < MaxHTML*3/4 {
		t.Errorf("the cut kept %d bytes of %d", len(s), MaxHTML)
	}
	var le *LimitError
	if err := Check(src); !errors.As(err, &le) || le.Limit != "size" || !strings.Contains(le.Error(), "at most 48 KB") {
		t.Errorf("Check = %v", err)
	}
}

func TestImagesAreShownAsLinks(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"Roundtable's own path", "![x](/a/LINK/notifications)",
			`<a href="/a/LINK/notifications" class="external-image" rel="nofollow ugc noopener">x (external image)</a>`},
		{"an outside tracker", "![diagram](https://tracker.example/p.gif?u=1)",
			`<a href="https://tracker.example/p.gif?u=1" class="external-image" rel="nofollow ugc noopener" target="_blank">diagram (external image)</a>`},
		{"no alt text", "![](https://example.com/a.png)", `>https://example.com/a.png (external image)</a>`},
		{"in a link", "[![logo](https://example.com/l.png)](https://example.com)", `<a href="https://example.com" rel="nofollow ugc noopener" target="_blank">logo (image)</a>`},
		{"a reference", "![pic][p]\n\n[p]: https://example.com/p.png", `>pic (external image)</a>`},
	}
	for _, c := range cases {
		got := string(Render(c.src))
		if strings.Contains(strings.ToLower(got), "<img") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %s\nwant %s", c.name, got, c.want)
		}
	}
}

// BenchmarkRender renders, afresh each time, an ordinary post of the
// longest length and each of the bombs, reporting the HTML's size: what
// the first view of a post costs in a process (later views take it from
// the web server's cache).
//
//	go test ./markdown -run '^$' -bench Render
func BenchmarkRender(b *testing.B) {
	cases := map[string]string{"ordinary post": ordinary}
	for name, src := range bombs {
		cases[name] = src
	}
	for name, src := range cases {
		b.Run(strings.ReplaceAll(name, " ", "-"), func(b *testing.B) {
			var out template.HTML
			for b.Loop() {
				out = Render(src)
			}
			b.ReportMetric(float64(len(out)), "html-bytes")
		})
	}
}
