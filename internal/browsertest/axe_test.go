package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

// Axe finds what it should on a page built to fail: an unlabelled field,
// grey-on-white text and an image without a text alternative; and finds
// nothing serious on the same page fixed.
func TestAxeReportsViolations(t *testing.T) {
	axeJS := browsertest.AxeJS(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>`+
			`<p style="color:#bbb;background:#fff">Faint text</p><input id="q" type="text"><img src="/x.png"></main></body></html>`)
	})
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>Good</title></head><body><main><h1>Good</h1>`+
			`<p style="color:#333;background:#fff">Clear text</p><label for="q">Query</label><input id="q" type="text"><img src="/x.png" alt="A chart"></main></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	vs, err := browsertest.Axe(ctx, axeJS)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, v := range vs {
		if v.Serious() {
			found[v.ID] = v.String()
		}
	}
	for _, id := range []string{"color-contrast", "label", "image-alt"} {
		if found[id] == "" {
			t.Errorf("axe did not report %s; it found %v", id, vs)
		}
	}
	if s := found["label"]; !strings.Contains(s, "#q") {
		t.Errorf("the label violation does not name the field: %s", s)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	vs, err = browsertest.Axe(ctx, axeJS)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Serious() {
			t.Errorf("fixed page: %s", v)
		}
	}
}
