package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// onePixelPNG is a 1×1 PNG.
var onePixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

type uploaded struct {
	URL, Name, Markdown string
	// the JSON problem of a refusal
	Title, Detail string
	Status        int
}

// multipartBody is a form of fields and files (field name, file name, content).
func multipartBody(t testing.TB, fields url.Values, files ...[3]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f[2]))
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

// upload sends one file to the discussion's upload endpoint from m's
// thread page, as attach.js does.
func (m *member) upload(name string, content []byte) (*http.Response, uploaded) {
	m.t.Helper()
	area := m.page.Find("#reply-body")
	action, ok := area.Attr("data-attach-url")
	if !ok {
		m.t.Fatalf("no data-attach-url on the reply's text on %s", m.res.URL)
	}
	form := fields(m.page.Find("#reply form"))
	res, raw := m.postFiles(action, url.Values{"csrf": {form.Get("csrf")}, "rt": {form.Get("rt")}}, [3]string{"file", name, string(content)})
	var u uploaded
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		m.t.Fatalf("upload answered %d, not JSON: %.500s", res.StatusCode, raw)
	}
	return res, u
}

// postFiles sends fields and files as a multipart form to action, in m's
// browser, and returns the answer with its body read.
func (m *member) postFiles(action string, fields url.Values, files ...[3]string) (*http.Response, string) {
	m.t.Helper()
	body, ctype := multipartBody(m.t, fields, files...)
	req, _ := http.NewRequest(http.MethodPost, m.abs(action), body)
	req.Header.Set("Content-Type", ctype)
	res, err := m.b.HTTPClient().Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res, string(page)
}

// fetch gets a URL in m's browser, without following the page.
func (m *member) fetch(rawURL string) (*http.Response, []byte) {
	m.t.Helper()
	res, err := m.b.HTTPClient().Get(m.abs(rawURL))
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func eachDBSmallUploads(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	t.Parallel()
	eachDBWith(t, func(c *config.Config) {
		c.Uploads = config.Uploads{MaxImage: 1 << 20, MaxFile: 2 << 20, PerDay: 3 << 20}
	}, fn)
}

func TestFilesUploadedShownAndKeptInTheCohort(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "What does this chart show?", "See below.", nil)
		threadURL := strings.Split(alice.res.URL, "?")[0]
		linkA := strings.Split(threadURL[strings.Index(threadURL, "/a/"):], "/")[2]

		res, up := alice.upload("chart.png", onePixelPNG)
		if res.StatusCode != http.StatusCreated || !strings.HasPrefix(up.URL, "/files/") || up.Name != "chart.png" || up.Markdown != "![chart.png]("+up.URL+")" {
			t.Fatalf("upload: %d %+v", res.StatusCode, up)
		}
		if strings.Contains(up.URL, "learner") || strings.Contains(up.URL, linkA) {
			t.Errorf("the file's URL names its uploader or activity: %s", up.URL)
		}

		alice.reply("Here it is:\n\n" + up.Markdown + "\n\nand ![a logo](https://images.example.com/logo.png)")
		img := alice.page.Find("[data-testid=post-body] img")
		src := img.AttrOr("src", "")
		if img.Length() != 1 || !strings.HasPrefix(src, "/a/"+linkA+"/files/") || !strings.Contains(src, "/chart.png") {
			t.Fatalf("the post shows %d images, src %q", img.Length(), src)
		}
		if ext := alice.page.Find("[data-testid=post-body] a.external-image"); ext.AttrOr("href", "") != "https://images.example.com/logo.png" {
			t.Errorf("the external image is not a link: %q", ext.AttrOr("href", ""))
		}

		got, body := alice.fetch(src)
		h := got.Header
		if got.StatusCode != http.StatusOK || !bytes.Equal(body, onePixelPNG) || h.Get("Content-Type") != "image/png" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" ||
			!strings.HasPrefix(h.Get("Content-Disposition"), "inline") || !strings.HasPrefix(h.Get("Cache-Control"), "private") {
			t.Errorf("serving the image: %d %v (%d bytes)", got.StatusCode, h, len(body))
		}

		// A classmate sees it, in their own session.
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bsrc := bob.page.Find("[data-testid=post-body] img").AttrOr("src", "")
		if got, body := bob.fetch(bsrc); got.StatusCode != http.StatusOK || !bytes.Equal(body, onePixelPNG) {
			t.Errorf("a classmate gets %d for %s", got.StatusCode, bsrc)
		}

		// A learner of another course, in their own activity, gets a 404,
		// as for a file that never was.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-303", Label: "BIO-303", Title: "Biology"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-yan", Name: "Yan Other", Email: "yan@example.edu"}))
		must(t, env.Platform.Enroll("course-303", "learner-yan", lti.RoleLearner))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-bio", CourseID: "course-303", Title: "Biology forum"}))
		yb := ltiplatform.NewBrowser()
		yres, err := yb.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-yan", CourseID: "course-303", ResourceLinkID: "link-bio"})
		if err != nil || yres.StatusCode != http.StatusOK {
			t.Fatalf("yan's launch: %v", err)
		}
		yan := &member{t: t, env: env, b: yb, res: yres, page: doc(t, yres.Body)}
		yu, _ := url.Parse(yres.URL)
		linkY := strings.Split(yu.Path, "/")[2]
		own := "/a/" + linkY + up.URL[strings.Index(up.URL, "/files/"):] + "?rt=" + url.QueryEscape(yu.Query().Get("rt"))
		if got, body := yan.fetch(own); got.StatusCode != http.StatusNotFound || bytes.Equal(body, onePixelPNG) {
			t.Errorf("another course's learner gets %d for the file", got.StatusCode)
		}
		if got, _ := yan.fetch(src); got.StatusCode == http.StatusOK {
			t.Errorf("another course's learner gets the file through its activity's URL")
		}
	})
}

func TestFilesRefusedByContentAndSize(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Files that must not go in", "Testing.", nil)
		for _, tc := range []struct{ name, content string }{
			{"logo.png", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`},
			{"page.png", `<!DOCTYPE html><html><body><script>alert(1)</script></body></html>`},
		} {
			res, up := alice.upload(tc.name, []byte(tc.content))
			if res.StatusCode != http.StatusBadRequest || up.Status != http.StatusBadRequest || !strings.Contains(up.Detail, "whatever its name says") {
				t.Errorf("%s disguised: %d %+v", tc.name, res.StatusCode, up)
			}
		}
		big := append(append([]byte{}, onePixelPNG...), make([]byte, 1<<20)...)
		res, up := alice.upload("huge.png", big)
		if res.StatusCode != http.StatusRequestEntityTooLarge || up.Detail != "huge.png is too large: an image may be at most 1 MB." {
			t.Errorf("oversize image: %d %+v", res.StatusCode, up)
		}
		if n := env.Count(t, "attachments"); n != 0 {
			t.Errorf("%d refused files recorded", n)
		}
		// The day's quota: 3 MB, and files of up to 2 MB.
		text := bytes.Repeat([]byte("notes "), (2<<20)/6-10)
		for i, want := range []int{http.StatusCreated, http.StatusTooManyRequests} {
			if res, up := alice.upload("notes.txt", text); res.StatusCode != want {
				t.Errorf("text file %d: %d %+v", i, res.StatusCode, up)
			}
		}
		// Without the form's CSRF token, nothing.
		action := alice.page.Find("#reply-body").AttrOr("data-attach-url", "")
		if res, _ := alice.postFiles(action, url.Values{}, [3]string{"file", "a.png", string(onePixelPNG)}); res.StatusCode != http.StatusForbidden {
			t.Errorf("upload without CSRF: %d", res.StatusCode)
		}
	})
}

// TestFilesAttachedWithoutJavaScript: the reply form's file field stores
// the files as the reply is sent and links them at its end.
func TestFilesAttachedWithoutJavaScript(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "A form with files", "Testing.", nil)
		form := alice.page.Find("#reply form")
		if form.AttrOr("enctype", "") != "multipart/form-data" || form.Find("input[type=file][name=attachment][multiple]").Length() != 1 {
			t.Fatal("the reply form takes no files")
		}
		v := fields(form)
		v.Set("body", "My notes and a picture.")
		res, _ := alice.postFiles(form.AttrOr("action", ""), v, [3]string{"attachment", "pic.png", string(onePixelPNG)}, [3]string{"attachment", "notes.txt", "Some notes."})
		alice.get(strings.Split(alice.res.URL, "?")[0])
		post := postSel(alice.page, "My notes and a picture.")
		if post.Find("img[src*='/files/']").Length() != 1 || post.Find("a[href*='/files/'][href*='notes.txt']").Length() != 1 {
			t.Errorf("the reply does not carry its files: %d %.1500s", res.StatusCode, post.Find("[data-testid=post-body]").Text())
		}
		// A form without files is still bounded to 1 MB.
		v = fields(alice.page.Find("#reply form"))
		v.Set("body", strings.Repeat("a", 1<<20))
		if res, err := alice.b.HTTPClient().PostForm(alice.abs(alice.page.Find("#reply form").AttrOr("action", "")), v); err != nil || res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a 1 MB reply without files: %v %d", err, res.StatusCode)
		}
		// A disguised file leaves the reply unsent, its text in the form.
		v = fields(alice.page.Find("#reply form"))
		v.Set("body", "This one carries a page.")
		res, page := alice.postFiles(alice.page.Find("#reply form").AttrOr("action", ""), v, [3]string{"attachment", "x.png", "<html><script>alert(1)</script></html>"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "whatever its name says") || !strings.Contains(page, "This one carries a page.") {
			t.Errorf("a disguised attachment: %d", res.StatusCode)
		}
	})
}

// A file put in another activity's discussion is read from a session that
// reaches that space (/a/<own>/s/<space>/files/...), and not from the
// session's own space, where it is not.
func TestFilesOfAReachedSpace(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-second", nil)
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-second"})
		ines.visit(pastSetup(t, ines.b, ines.res), nil)
		second := linkIDOf(t, ines.res.URL)
		ines.ask("discussion", "The second activity's chart", "Look.", nil)
		secondThread := pathOf(t, ines.res.URL)
		_, up := ines.upload("chart.png", onePixelPNG)
		ines.reply(up.Markdown)

		alice := join(t, env, apptest.Learner)
		own := linkIDOf(t, alice.res.URL)
		reached := "/a/" + own + "/s/" + cohortSpace(t, env, second, "course")
		alice.visit(alice.b.Get(context.Background(), env.App.URL(reached+secondThread[strings.Index(secondThread, "/t/"):])))
		src := alice.page.Find("[data-testid=post-body] img").AttrOr("src", "")
		if !strings.HasPrefix(src, reached+"/files/") {
			t.Fatalf("the image in the reached space is at %q", src)
		}
		if got, body := alice.fetch(src); got.StatusCode != http.StatusOK || !bytes.Equal(body, onePixelPNG) {
			t.Errorf("the reached space's file: %d", got.StatusCode)
		}
		if got, _ := alice.fetch("/a/" + own + src[len(reached):]); got.StatusCode != http.StatusNotFound {
			t.Errorf("the file from the session's own space: %d, want 404", got.StatusCode)
		}
	})
}

// A photo uploaded from a phone is kept without its EXIF (where and when
// it was taken), turned upright as the phone held it.
func TestPhotosLoseTheirMetadata(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Is this the right ladder?", "Photo below.", nil)
		photo := discussiontest.PhotoWithEXIF(t, 60, 30, 6, "GPS 51.5007 N 0.1246 W, Alice's phone")
		res, up := alice.upload("ladder.jpg", photo)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %+v", res.StatusCode, up)
		}
		alice.reply("Here:\n\n" + up.Markdown)
		src := alice.page.Find("[data-testid=post-body] img").AttrOr("src", "")
		got, body := alice.fetch(src)
		if got.StatusCode != http.StatusOK || got.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("the photo: %d %s", got.StatusCode, got.Header.Get("Content-Type"))
		}
		for _, secret := range []string{"Exif", "51.5007", "Alice's phone"} {
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("the photo served still holds %q", secret)
			}
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 30 || cfg.Height != 60 {
			t.Errorf("the photo served is %+v (%v), want 30×60", cfg, err)
		}
	})
}

// The edit form takes files too, without JavaScript: they are linked at
// the end of the edited text.
func TestFilesAddedByAnEdit(t *testing.T) {
	eachDBSmallUploads(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Which cable is this?", "I will add a photo.", nil)
		threadURL := strings.Split(alice.res.URL, "?")[0]
		alice.follow("[data-testid=edit]")
		form := alice.page.Find("form:has([data-testid=save])")
		if form.AttrOr("enctype", "") != "multipart/form-data" || form.Find("input[type=file][name=attachment]").Length() != 1 {
			t.Fatal("the edit form takes no files")
		}
		v := fields(form)
		v.Set("body", "Here is the photo I promised.")
		res, _ := alice.postFiles(form.AttrOr("action", ""), v, [3]string{"attachment", "cable.png", string(onePixelPNG)})
		alice.get(threadURL)
		post := postSel(alice.page, "Here is the photo I promised.")
		if post.Find("img[src*='/files/'][src*='cable.png']").Length() != 1 {
			t.Errorf("the edited post does not show its file: %d %.800s", res.StatusCode, post.Find("[data-testid=post-body]").Text())
		}
	})
}
