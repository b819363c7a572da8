package markdown

import (
	"strings"
	"testing"
)

func TestOwnFileImagesShowInPlace(t *testing.T) {
	id := strings.Repeat("a", 26)
	got := string(Render("![a chart](/files/" + id + "/chart.png) and ![x](https://evil.example/x.png) and ![y](/files/../etc/x.png)"))
	if !strings.Contains(got, `<img src="/files/`+id+`/chart.png" alt="a chart"`) {
		t.Errorf("own image not shown in place: %s", got)
	}
	if strings.Contains(got, `src="https://evil.example`) || !strings.Contains(got, `href="https://evil.example/x.png"`) {
		t.Errorf("external image not a link: %s", got)
	}
	if strings.Count(got, "<img") != 1 {
		t.Errorf("only the file store's images are shown: %s", got)
	}
	for _, dest := range []string{"/files/" + id + "/a.png", "/files/" + id + "/r%C3%A9sum%C3%A9.png"} {
		if !ownImage([]byte(dest)) {
			t.Errorf("ownImage(%q) = false", dest)
		}
	}
	for _, dest := range []string{"/files/" + id + "/a/b.png", "/files/" + id + "/a.png?x=1", "//files/" + id + "/a.png", "/files/short/a.png", "/a/l/files/" + id + "/a.png", "https://x/files/" + id + "/a.png"} {
		if ownImage([]byte(dest)) {
			t.Errorf("ownImage(%q) = true", dest)
		}
	}
}
