package discuss

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The composer's helpers: the preview of a post being written (a form's
// Preview button, or composer.js's Preview tab) and the completion of
// @names and #tags.

// Each preview renders Markdown and each completion reads the cohort, so
// one person gets a bounded number a minute: plenty for someone writing,
// too few for a script to load the server.
const (
	previewsPerMinute    = 60
	completionsPerMinute = 120
	// maxPreviewRequest bounds a preview's request: a body of
	// discussion.MaxBody characters of up to 4 bytes, form-encoded (3
	// bytes each), with room for the other fields.
	maxPreviewRequest = discussion.MaxBody*4*3 + 4<<10
)

// composerLimits are each person's previews and completions.
type composerLimits struct {
	previews, completions *writeLimiter
}

func newComposerLimits() composerLimits {
	return composerLimits{
		previews:    &writeLimiter{perMinute: previewsPerMinute, people: map[string]*writeBucket{}},
		completions: &writeLimiter{perMinute: completionsPerMinute, people: map[string]*writeBucket{}},
	}
}

// allowComposer takes one of the person's turns on l, or refuses them
// with ELIMITED and a Retry-After.
func (s *Handlers) allowComposer(c echo.Context, l *writeLimiter, what string) error {
	sess := c.Get(kit.CtxSession).(session.Session)
	if l.allow(sess.OrgID+"/"+sess.UserID, s.Now()) {
		return nil
	}
	c.Response().Header().Set("Retry-After", "2")
	s.Logger.InfoContext(context.WithoutCancel(c.Request().Context()), "composer limit reached", slog.String("kind", what),
		slog.String("platform", sess.PlatformID), slog.String("user", sess.UserID))
	return roundtable.Errorf(roundtable.ELIMITED, "Too many %s in a minute: wait a few seconds, then try again.", what)
}

// LimitPreviewBody refuses a preview request larger than any post could
// make, before the session and CSRF checks read its form. It runs first
// on the preview's routes: the body is read once, here, bounded.
func LimitPreviewBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		tooLarge := roundtable.Errorf(roundtable.ETOOLARGE, "A post has at most %d characters: there is nothing to preview past that.", discussion.MaxBody)
		if r.ContentLength > maxPreviewRequest {
			return tooLarge
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxPreviewRequest))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		if err != nil {
			return roundtable.Errorf(roundtable.EINVALID, "The text to preview could not be read.")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(c)
	}
}

// previewOf renders body as its post would show it, counting one of the
// person's previews; nothing is stored.
func (s *Handlers) previewOf(c echo.Context, b kit.ActivityBase, body string) (template.HTML, error) {
	if err := s.allowComposer(c, s.composer.previews, "previews"); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(body) > discussion.MaxBody {
		return "", roundtable.Errorf(roundtable.ETOOLARGE, "A post has at most %d characters; this text has %d.", discussion.MaxBody, utf8.RuneCountInString(body))
	}
	// Not through renderedPosts: a draft's every version would fill it.
	// Its files show from this discussion, as the post's will.
	return localFiles(b.Base, b.L, markdown.Render(body)), nil
}

// Preview answers composer.js's Preview tab: the HTML of ?body as its
// post would show it, sanitised as posts are.
func (s *Handlers) Preview(c echo.Context) error {
	b, _ := s.ActivityBase(c, "")
	html, err := s.previewOf(c, b, c.FormValue("body"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, []byte(html))
}

// completion is one candidate of a completion: what the list shows, and
// what is written.
type completion struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Complete answers composer.js with the candidates for what is being
// typed: ?for=mention lists members of the viewer's cohort (?q= the
// start of a name), ?for=tag the tags of its threads.
func (s *Handlers) Complete(c echo.Context) error {
	sess := c.Get(kit.CtxSession).(session.Session)
	if err := s.allowComposer(c, s.composer.completions, "completions"); err != nil {
		return err
	}
	v, q := kit.ViewerOf(c, sess), c.QueryParam("q")
	items := []completion{}
	switch c.QueryParam("for") {
	case "mention":
		people, err := s.Discussions.MentionCandidates(c.Request().Context(), v, q, discussion.MaxCompletions)
		if err != nil {
			return err
		}
		for _, p := range people {
			items = append(items, completion{Label: p.Name, Value: "@" + p.Handle})
		}
	case "tag":
		tags, err := s.Discussions.TagCandidates(c.Request().Context(), v, q, discussion.MaxCompletions)
		if err != nil {
			return err
		}
		for _, t := range tags {
			items = append(items, completion{Label: "#" + t, Value: t})
		}
	default:
		return roundtable.Errorf(roundtable.EINVALID, "Say what to complete: ?for=mention or ?for=tag.")
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.JSON(http.StatusOK, struct {
		Items []completion `json:"items"`
	}{items})
}

// composerView is what a form's composer needs: where its script
// previews and completes, the draft's name in the browser, and the
// preview the form was sent back with.
type composerView struct {
	PreviewURL, CompleteURL, DraftKey string
	Preview                           template.HTML
	// Previewed is true when the form came back to show Preview.
	Previewed bool
	// Anonymous keeps the reply's anonymous box as it was sent.
	Anonymous bool
	// DraftOver lets a draft replace the text the box opens with: the
	// post's own text, on the edit form first opened (a form sent back
	// keeps what was sent).
	DraftOver bool
}

// composerURLs are what a page's composers call: the preview and the
// completions of its space.
func composerURLs(b kit.ActivityBase) (preview, complete string) {
	return b.URL(b.Base + "/preview"), b.URL(b.Base + "/complete")
}

// draftKey names a composer's draft in the browser's storage: the space's
// path and what is written (a new thread, a reply under a post, an edit).
func draftKey(b kit.ActivityBase, what string) string {
	return "roundtable-draft:" + b.Base + ":" + what
}

// composerAttrs are the attributes by which composer.js finds a
// textarea and what it calls.
func composerAttrs(cv composerView) templ.OrderedAttributes {
	return templ.OrderedAttributes{{Key: "data-composer", Value: true}, {Key: "data-preview-url", Value: cv.PreviewURL},
		{Key: "data-complete-url", Value: cv.CompleteURL}, {Key: "data-draft-key", Value: cv.DraftKey}, {Key: "data-draft-over", Value: cv.DraftOver}}
}
