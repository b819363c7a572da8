package kit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A request whose browser disconnected is logged as closed by the client
// (499, at info), not as a server failure; one that failed while the
// browser waited is still a 500 at error.
func TestAbandonedRequestIsNotAServerFailure(t *testing.T) {
	for _, c := range []struct {
		name       string
		gone       bool
		wantStatus int
		wantLevel  string
	}{
		{"browser gone", true, statusClientClosed, "level=INFO"},
		{"browser waiting", false, http.StatusInternalServerError, "level=ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &Base{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			ctx, cancel := context.WithCancel(context.Background())
			if c.gone {
				cancel()
			} else {
				defer cancel()
			}
			req := httptest.NewRequest(http.MethodHead, "/a/link/t/thread", nil).WithContext(ctx)
			rec := httptest.NewRecorder()
			s.HandleError(errors.New("interrupted (9)"), echo.New().NewContext(req, rec))
			if rec.Code != c.wantStatus || !strings.Contains(logs.String(), c.wantLevel) {
				t.Errorf("status %d, log %q; want %d at %s", rec.Code, logs.String(), c.wantStatus, c.wantLevel)
			}
		})
	}
}
