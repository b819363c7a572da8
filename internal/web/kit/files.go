package kit

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// FileCSP is the policy a file people uploaded is served under: whatever
// its bytes hold, they run nothing and load nothing.
const FileCSP = "default-src 'none'; sandbox"

// ServeFile answers with a file people uploaded, read in a session:
// its type as sniffed when it was stored, never sniffed again by the
// browser; shown in place when an image or a PDF, else downloaded under
// name; under csp; kept by no shared cache.
func ServeFile(c echo.Context, content io.ReadSeeker, contentType, name string, modified time.Time, csp string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, csp)
	h.Set("Cache-Control", "private, max-age=3600")
	disposition := "attachment"
	if strings.HasPrefix(contentType, "image/") || contentType == "application/pdf" {
		disposition = "inline"
	}
	h.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(name))
	http.ServeContent(c.Response(), c.Request(), "", modified, content)
}
