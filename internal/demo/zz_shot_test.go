package demo_test

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestZZShot(t *testing.T) {
	path := os.Getenv("SHOT_PATH")
	if path == "" {
		t.Skip()
	}
	d := startDemo(t)
	s := laptop
	if os.Getenv("SHOT_PHONE") != "" {
		s = phone
	}
	w := openOn(t, d, s, os.Getenv("SHOT_USER"))
	if path != "/" {
		w.value(`(document.location.href = ` + path + `, "")`)
		w.try("loaded", `document.readyState === "complete"`)
	}
	w.settle()
	png, err := chromedp.Run(w.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/shots/zz.png", png, 0o644)
}
