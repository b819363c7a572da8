package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// A browser that asks for /favicon.ico on its own gets Roundtable's icon,
// not a 404 logged as a refusal.
func TestFaviconIsServed(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	resp, err := http.Get(env.App.URL("/favicon.ico"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(body), "<svg") {
		t.Errorf("/favicon.ico: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}
