package demo_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

// screenshots is where TestScreenshotsForTheReadme writes the README's
// pictures: go test ./internal/demo -run Screenshots -args -screenshots=$PWD/docs/img
var screenshots = flag.String("screenshots", "", "directory to write the README's screenshots to")

// screen is a browser window's size.
type screen struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	laptop = screen{"1280×900", 1280, 900, false}
	phone  = screen{"390×844", 390, 844, true}
)

// openOn opens the demo discussion as user in a window of the given size,
// and waits for the LMS to have fitted its frame to the page.
func openOn(t *testing.T, d *demo.Demo, s screen, user string) *window {
	t.Helper()
	ctx := browsertest.New(t)
	opts := []chromedp.EmulateViewportOption{}
	if s.mobile {
		opts = append(opts, chromedp.EmulateScale(3), chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.width, s.height, opts...)); err != nil {
		t.Fatal(err)
	}
	w := openAs(t, ctx, d, user)
	w.settle()
	return w
}

// settle waits until the frame's height has held still for a moment: the
// demo LMS resizes it to the page as the page asks.
func (w *window) settle() {
	w.t.Helper()
	last, still := -1.0, 0
	for deadline := time.Now().Add(stepWait); time.Now().Before(deadline) && still < 4; {
		h, err := chromedp.Run(w.ctx, chromedp.Evaluate[float64](`document.querySelector("iframe#activity").getBoundingClientRect().height`))
		if err != nil {
			w.t.Fatal(err)
		}
		if h == last {
			still++
		} else {
			last, still = h, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// threadsOnFirstScreen counts the list's threads the person sees whole
// without scrolling: inside the frame, and inside the LMS page's window.
func (w *window) threadsOnFirstScreen() int {
	w.t.Helper()
	frame, err := chromedp.Run(w.ctx, chromedp.Evaluate[struct{ Top, Bottom, Window float64 }](`(function () {
		var r = document.querySelector("iframe#activity").getBoundingClientRect();
		return {Top: r.top + window.scrollY, Bottom: r.bottom + window.scrollY, Window: window.innerHeight};
	})()`))
	if err != nil {
		w.t.Fatal(err)
	}
	bottoms, err := frameJS[[]float64](w.ctx, `Array.prototype.map.call(document.querySelectorAll("[data-testid=thread]"), function (el) { return el.getBoundingClientRect().bottom; })`)
	if err != nil {
		w.t.Fatal(err)
	}
	seen := 0
	for _, b := range bottoms {
		if frame.Top+b <= min(frame.Window, frame.Bottom) {
			seen++
		}
	}
	return seen
}

// The first screen shows the discussion, not its furniture: inside the
// demo LMS's frame a learner sees at least ten threads and an instructor
// at least eight on a 1280×900 screen, and a phone shows the first thread
// without scrolling. The learner has opened the activity before, so its
// description is folded away.
func TestFirstScreenShowsTheThreads(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	for _, c := range []struct {
		screen screen
		user   string
		want   int
	}{
		{laptop, "aisha.rahman", 10},
		{laptop, "maya.chen", 8},
		{phone, "aisha.rahman", 1},
		{phone, "maya.chen", 1},
	} {
		w := openOn(t, d, c.screen, c.user)
		got := w.threadsOnFirstScreen()
		t.Logf("%s at %s sees %d threads on the first screen", c.user, c.screen.name, got)
		if got < c.want {
			t.Errorf("%s at %s sees %d threads on the first screen, want at least %d", c.user, c.screen.name, got, c.want)
		}
	}
}

// TestScreenshotsForTheReadme writes the README's pictures when asked to
// (-screenshots): the learner's list, a thread with an accepted answer,
// and the instructor's view, each in the demo LMS's frame.
func TestScreenshotsForTheReadme(t *testing.T) {
	if *screenshots == "" {
		t.Skip("pass -screenshots=DIR to write the README's screenshots")
	}
	d := startDemo(t)
	shoot := func(w *window, name string) {
		w.settle()
		png, err := chromedp.Run(w.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	learner := openOn(t, d, laptop, "aisha.rahman")
	shoot(learner, "learner-list.png")
	learner.click("open the answered question", `Array.prototype.filter.call(document.querySelectorAll("[data-testid=thread-link]"), function (a) { return a.textContent.indexOf("delivery dates") >= 0; })[0]`)
	learner.try("the thread shows its accepted answer", `document.querySelector(".post.accepted")`)
	learner.settle()
	// The page scrolled to the question's title, the accepted answer below.
	top, err := frameJS[float64](learner.ctx, `document.getElementById("thread-title").getBoundingClientRect().top`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(learner.ctx, chromedp.Evaluate[any](`window.scrollTo(0, document.querySelector("iframe#activity").getBoundingClientRect().top + window.scrollY + `+strconv.FormatFloat(top, 'f', 0, 64)+` - 16); 1`)); err != nil {
		t.Fatal(err)
	}
	shoot(learner, "thread-accepted.png")
	shoot(openOn(t, d, laptop, "maya.chen"), "instructor-list.png")
}
