package markdown

import (
	"regexp"
	"strings"
	"testing"
)

func TestRenderFeatures(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"emphasis", "**bold** and *it*", "<strong>bold</strong>"},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", "<table>"},
		{"strikethrough", "~~gone~~", "<del>gone</del>"},
		{"autolink", "see https://example.com/x", `<a href="https://example.com/x" rel="nofollow ugc noopener" target="_blank">`},
		{"link", "[docs](https://example.com)", `rel="nofollow ugc noopener"`},
		{"code block", "```go\nfmt.Println(\"<b>\")\n```", `<pre><code class="language-go">fmt.Println(&#34;&lt;b&gt;&#34;)`},
		{"mention", "thanks @aisha.rahman!", `<span class="mention">@aisha.rahman</span>`},
	}
	for _, c := range cases {
		got := string(Render(c.src))
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: %q lacks %q", c.name, got, c.want)
		}
	}
	if got := string(Render("`@notme` and [x @y](https://e.com)")); strings.Contains(got, "mention") {
		t.Errorf("mention inside code or a link: %q", got)
	}
}

var xss = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`[click](javascript:alert(1))`,
	`[click](JaVaScRiPt:alert(1))`,
	`[click](&#106;avascript:alert(1))`,
	`[click](java&#x09;script:alert(1))`,
	`[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`![x](javascript:alert(1))`,
	`<a href="javascript:alert(1)">x</a>`,
	`<iframe src="https://evil.example"></iframe>`,
	`<svg onload=alert(1)>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	`<<script>script>alert(1)<</script>/script>`,
	`[a](https://ok.example "title\" onmouseover=\"alert(1)")`,
	"<details open ontoggle=alert(1)>",
	"@<script>alert(1)</script>",
}

var (
	scriptTag   = regexp.MustCompile(`(?i)<script`)
	badURL      = regexp.MustCompile(`(?i)<[^>]*\s(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):`)
	onAttribute = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
)

func assertSafe(t *testing.T, src, got string) {
	t.Helper()
	if scriptTag.MatchString(got) || badURL.MatchString(got) || onAttribute.MatchString(got) || strings.Contains(strings.ToLower(got), "<iframe") {
		t.Errorf("unsafe output for %q:\n%s", src, got)
	}
}

func TestRenderNeutralisesXSS(t *testing.T) {
	for _, src := range xss {
		assertSafe(t, src, string(Render(src)))
	}
}

// FuzzRender renders any text: never a panic, never unsafe HTML, never
// more than the bound; the estimate errs high (the plain-text fallback
// never shows), and a text that Check accepts renders in full.
func FuzzRender(f *testing.F) {
	for _, s := range xss {
		f.Add(s)
	}
	f.Add("# title\n\n- [ ] task\n\n| a |\n|---|\n| <b>x</b> |")
	f.Add(ordinary[:3000])
	for _, s := range bombs {
		f.Add(s[:min(len(s), 3000)])
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, r := render(src)
		assertSafe(t, src, string(out))
		if len(out) > bound || r.fellBack {
			t.Fatalf("%d bytes of HTML (at most %d), fell back %v, for %q", len(out), bound, r.fellBack, src)
		}
		if err := Check(src); err == nil && r.limited {
			t.Fatalf("Check accepts %q, but it renders limited", src)
		}
	})
}
