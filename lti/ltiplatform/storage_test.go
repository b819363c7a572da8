package ltiplatform_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// storageProbe is a tool page that exercises the launch page's platform
// storage through postMessage and reports what it got back.
const storageProbe = `<!doctype html><title>probe</title><script>
const origin = new URL(new URLSearchParams(location.search).get("iss")).origin;
function ask(msg) {
  return new Promise(resolve => {
    msg.message_id = Math.random().toString(36).slice(2);
    const h = e => {
      if (e.origin === origin && e.data && e.data.message_id === msg.message_id) {
        removeEventListener("message", h); resolve(e.data);
      }
    };
    addEventListener("message", h);
    parent.postMessage(msg, origin);
  });
}
(async () => {
  const out = {};
  out.capabilities = await ask({subject: "lti.capabilities"});
  out.put = await ask({subject: "lti.put_data", key: "state_abc", value: "nonce-1"});
  out.get = await ask({subject: "lti.get_data", key: "state_abc"});
  out.missing = await ask({subject: "lti.get_data", key: "nope"});
  parent.postMessage({subject: "lti.frameResize", height: 321}, origin);
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

// browserContext starts a headless Chromium: skipped without one locally,
// a failure under CI.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t)
}

// In a real browser the launch page's iframe goes through login
// initiation, the auto-posted id_token and the tool's launch.
func TestLaunchPageLaunchesInBrowser(t *testing.T) {
	bctx := browserContext(t)
	e := newEnv(t)
	must(t, chromedp.Do(bctx, chromedp.Navigate(e.p.URL(ltiplatform.LaunchPagePath("c-101", "rl-1", "u-ben")))))
	for range 100 {
		if c := e.tool.lastLaunch(); c != nil {
			if c["sub"] != "u-ben" {
				t.Errorf("sub %v", c["sub"])
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the tool never received the launch")
}

func TestLaunchPageOffersPlatformStorage(t *testing.T) {
	bctx := browserContext(t)

	results := make(chan map[string]any, 1)
	tool := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/result" {
			var out map[string]any
			body, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(body, &out)
			results <- out
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, storageProbe)
	}))
	defer tool.Close()

	srv := httptest.NewUnstartedServer(nil)
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + srv.Listener.Addr().String(),
		Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	srv.Config.Handler = p.Handler()
	srv.Start()
	defer srv.Close()
	must(t, p.AddTool(ltiplatform.Tool{ClientID: "c", DeploymentID: "d", LoginURL: tool.URL + "/login",
		RedirectURIs: []string{tool.URL + "/launch"}}))
	must(t, p.AddUser(ltiplatform.User{ID: "u", Name: "Una"}))
	must(t, p.AddCourse(ltiplatform.Course{ID: "c1", Title: "Course"}))
	must(t, p.Enroll("c1", "u", "Learner"))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: "l1", CourseID: "c1", Title: "Activity"}))

	if err := chromedp.Do(bctx, chromedp.Navigate(p.URL(ltiplatform.LaunchPagePath("c1", "l1", "u")))); err != nil {
		t.Fatal(err)
	}

	var out map[string]any
	select {
	case out = <-results:
	case <-bctx.Done():
		t.Fatal("the probe never reported")
	}
	caps, _ := out["capabilities"].(map[string]any)
	if caps["subject"] != "lti.capabilities.response" {
		t.Errorf("capabilities %v", caps)
	}
	subjects := map[any]bool{}
	for _, m := range caps["supported_messages"].([]any) {
		subjects[m.(map[string]any)["subject"]] = true
	}
	if !subjects["lti.put_data"] || !subjects["lti.get_data"] {
		t.Errorf("supported_messages %v", caps["supported_messages"])
	}
	if put := out["put"].(map[string]any); put["subject"] != "lti.put_data.response" || put["key"] != "state_abc" || put["value"] != "nonce-1" {
		t.Errorf("put %v", put)
	}
	if get := out["get"].(map[string]any); get["subject"] != "lti.get_data.response" || get["value"] != "nonce-1" {
		t.Errorf("get %v", get)
	}
	miss := out["missing"].(map[string]any)
	if e, _ := miss["error"].(map[string]any); miss["subject"] != "lti.get_data.response" || e["code"] != "bad_request" {
		t.Errorf("missing key %v", miss)
	}

	var height string
	for range 50 {
		height, err = chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("activity").style.height`))
		must(t, err)
		if height == "321px" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if height != "321px" {
		t.Errorf("iframe height %q after lti.frameResize", height)
	}
}
