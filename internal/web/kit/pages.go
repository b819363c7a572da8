package kit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/static"
)

// Layout is what every page's layout needs. Each page struct embeds it as L.
type Layout struct {
	Title string
	Lang  string
	// SessionToken is set when the session came from a link token and
	// the session cookie did not come back with it: every link and form
	// on the page must carry it. When the cookie works it is empty, and
	// links and forms carry no token.
	SessionToken string
	// TokenRefresh is where the page's script asks for a fresh session
	// token before this one expires (see static/js/session.js).
	TokenRefresh string
	// SessionCookie is set when the session cookie carried the page's
	// session: its script takes a token out of the page's address (the
	// first page after a launch has one).
	SessionCookie bool
	// SessionEnded marks the page that refuses a request whose session
	// has ended: its script may find the session again from the history
	// entry the address was cleaned in.
	SessionEnded bool
	// LiveSrc, when set (see liveURL), is the URL of the page's live event
	// stream: the layout then loads live.js and a live region for it.
	LiveSrc string
	// Scripts are the page's own scripts (static asset names), loaded
	// after the ones every page loads.
	Scripts []string
	assets  *assets
}

// TokenRefreshEvery is, in milliseconds, how often a page asks for a fresh
// session token.
func (Layout) TokenRefreshEvery() int64 { return session.RefreshEvery.Milliseconds() }

// Asset returns the content-hashed URL of a static file.
func (l Layout) Asset(name string) string { return l.assets.url(name) }

// URL adds the session token to a same-site path when the page needs it.
func (l Layout) URL(p string) string {
	if l.SessionToken == "" {
		return p
	}
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	return p + sep + "rt=" + url.QueryEscape(l.SessionToken)
}

// RenderPage writes a page made of templ components (see layout.templ),
// or a fragment of one, straight into a pooled buffer. Every page is
// written with templ: typed, compiled, escaped by context.
func (s *Base) RenderPage(c echo.Context, status int, page templ.Component) error {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledPage {
			buf.Reset()
			pageBuffers.Put(buf)
		}
	}()
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// pageBuffers keep the buffers pages render into: a 100-post thread is
// 240 KB of HTML, and growing a new buffer to that size for every view
// was half of the page's allocations.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledPage bounds the buffers kept, so one huge page does not stay.
const maxPooledPage = 1 << 20

// Layout returns the layout for a page title.
func (s *Base) Layout(title string) Layout {
	return Layout{Title: title, Lang: "en", assets: s.assets}
}

// assets serves the embedded static files with content-hashed URLs, so a
// browser may cache them for good.
type assets struct {
	hashes map[string]string
}

func newAssets() (*assets, error) {
	as := &assets{hashes: map[string]string{}}
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		as.hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return as, err
}

func (as *assets) url(name string) string {
	return "/static/" + name + "?v=" + as.hashes[name]
}

// Favicon answers the browsers that ask for /favicon.ico on their own (a
// page opened in a new window) with Roundtable's icon.
func (s *Base) Favicon(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	b, err := fs.ReadFile(static.FS, FaviconAsset)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}

// FaviconAsset is the icon every page names and /favicon.ico serves.
const FaviconAsset = "img/roundtable.svg"

func (s *Base) Static(c echo.Context) error {
	name := c.Param("*")
	hash, ok := s.assets.hashes[name]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No such file.")
	}
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return err
	}
	if c.QueryParam("v") == hash {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ct, b)
}
