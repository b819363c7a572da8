package web_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// chooser runs a deep linking launch as user and returns the browser and
// the page it ended on.
func chooser(t *testing.T, env *apptest.Env, user string, s *ltiplatform.DeepLinkSettings) (*ltiplatform.Browser, *ltiplatform.Result) {
	t.Helper()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
		ClientID: apptest.ClientID, UserID: user, CourseID: apptest.CourseID, MessageType: lti.MessageDeepLinking, DeepLinking: s})
	if err != nil {
		t.Fatalf("deep linking launch as %s: %v", user, err)
	}
	return b, res
}

// submit fills the first form of page with fields (over its own values)
// and posts it, as the button named action.
func submit(t *testing.T, b *ltiplatform.Browser, page *ltiplatform.Result, fields url.Values, action string) *ltiplatform.Result {
	t.Helper()
	return submitForm(t, b, page, "form", fields, action)
}

// submitForm is submit for the first form matching sel. Like a browser, it
// sends the checked radio buttons and boxes only.
func submitForm(t testing.TB, b *ltiplatform.Browser, page *ltiplatform.Result, sel string, fields url.Values, action string) *ltiplatform.Result {
	t.Helper()
	form := doc(t, page.Body).Find(sel).First()
	if form.Length() == 0 {
		t.Fatalf("no form %s on %s\n%.500s", sel, page.URL, page.Body)
	}
	base, _ := url.Parse(page.URL)
	target, err := base.Parse(form.AttrOr("action", ""))
	if err != nil {
		t.Fatal(err)
	}
	values := url.Values{}
	form.Find("input, textarea").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		if name == "" {
			return
		}
		if (typ == "radio" || typ == "checkbox") && s.AttrOr("checked", "none") == "none" {
			return
		}
		v := s.AttrOr("value", "")
		if goquery.NodeName(s) == "textarea" {
			v = s.Text()
		}
		values.Add(name, v)
	})
	for k, v := range fields {
		values[k] = v
	}
	if action != "" {
		values.Set("action", action)
	}
	res, err := b.PostForm(context.Background(), target.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// responseJWT reads the form that posts the deep linking response, checks
// its signature against the tool's published JWKS and returns its action,
// header and claims.
func responseJWT(t *testing.T, env *apptest.Env, res *ltiplatform.Result) (string, string, map[string]any, map[string]any) {
	t.Helper()
	d := doc(t, res.Body)
	form := d.Find("form[data-testid=deep-link-return]")
	action, _ := form.Attr("action")
	jwt, _ := form.Find("input[name=JWT]").Attr("value")
	if res.StatusCode != http.StatusOK || action == "" || jwt == "" {
		t.Fatalf("no deep linking response: %d %s\n%.800s", res.StatusCode, res.URL, res.Body)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q", jwt)
	}
	var hdr, claims map[string]any
	for i, v := range []*map[string]any{&hdr, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	pub := toolPublicKey(t, env, hdr["kid"].(string))
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("response signature: %v", err)
	}
	return action, jwt, hdr, claims
}

func toolPublicKey(t *testing.T, env *apptest.Env, kid string) *rsa.PublicKey {
	t.Helper()
	// The registration's own JWKS, which its LMS holds.
	resp, err := http.Get(env.App.Web.JWKSURL(env.Registered.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, Alg, N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid && k.Kty == "RSA" {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	t.Fatalf("kid %q not in the tool's JWKS", kid)
	return nil
}

// The full round trip: an instructor opens the chooser from the LMS,
// places a graded question board, the LMS verifies the signed answer and
// adds the link with its line item, and the link's first launch takes the
// chosen settings.
func TestDeepLinkingPlacesAGradedActivity(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, &ltiplatform.DeepLinkSettings{AcceptTypes: []string{"ltiResourceLink"},
			AcceptPresentationDocumentTargets: []string{"iframe"}, AcceptMultiple: false, AutoCreate: true, Data: "lms-state-7"})
		d := doc(t, res.Body)
		if res.StatusCode != http.StatusOK || d.Find("form[data-testid=chooser]").Length() != 1 {
			t.Fatalf("chooser: %d %s\n%.600s", res.StatusCode, res.URL, res.Body)
		}
		if strings.Contains(res.Body, "lms-state-7") || strings.Contains(res.Body, "/deep-linking/return/") {
			t.Error("the chooser page carries the request's data or return URL")
		}
		if d.Find("[data-testid=add-another]").Length() != 0 {
			t.Error("Add another offered though the LMS takes one item")
		}
		if n := d.Find("input[name=kind]").Length(); n != len(activity.Kinds()) {
			t.Errorf("%d kinds offered", n)
		}
		choice := res
		res = submit(t, b, res, url.Values{"kind": {activity.KindQuestionBoard}, "title": {"Week 3 questions"},
			"instructions": {"Ask about **the week's reading**.\n\n- One question each."}, "cohort_policy": {"section"},
			"graded": {"1"}, "points": {"15"}, "min_threads": {"1"}, "min_replies": {"2"}, "credit": {"proportional"},
			"allow_anonymous": nil, "post_first": {"1"}}, "place")
		returnURL, jwt, hdr, c := responseJWT(t, env, res)
		if !strings.HasPrefix(returnURL, env.Platform.URL("/deep-linking/return/")) {
			t.Errorf("posted to %q", returnURL)
		}
		signing, err := env.App.Keys.Signing(context.Background(), env.Registered.ID)
		if err != nil {
			t.Fatal(err)
		}
		if hdr["alg"] != "RS256" || hdr["kid"] != signing.KeyID() {
			t.Errorf("header %v, want RS256 and kid %s", hdr, signing.KeyID())
		}
		now := float64(time.Now().Unix())
		iat, _ := c["iat"].(float64)
		exp, _ := c["exp"].(float64)
		if iat < now-60 || iat > now+5 || exp <= iat || exp > iat+600 {
			t.Errorf("iat %v exp %v", iat, exp)
		}
		if n, _ := c["nonce"].(string); len(n) < 16 {
			t.Errorf("nonce %v", c["nonce"])
		}
		for claim, want := range map[string]any{
			"iss": apptest.ClientID, "aud": env.Platform.Issuer(),
			lti.ClaimDeploymentID:    apptest.DeploymentID,
			lti.ClaimMessageType:     lti.MessageDeepLinkingResponse,
			lti.ClaimVersion:         lti.Version,
			lti.ClaimDeepLinkingData: "lms-state-7",
		} {
			if c[claim] != want {
				t.Errorf("%s = %v, want %v", claim, c[claim], want)
			}
		}
		// The LMS confirms what it added; a msg of ours would say it twice.
		if m, ok := c[lti.ClaimDeepLinkingMsg]; ok {
			t.Errorf("msg %v sent with the placed items", m)
		}
		items, _ := c[lti.ClaimDeepLinkingContent].([]any)
		if len(items) != 1 {
			t.Fatalf("content_items %v", c[lti.ClaimDeepLinkingContent])
		}
		it := items[0].(map[string]any)
		custom, _ := it["custom"].(map[string]any)
		pid, _ := custom["rt_placement"].(string)
		if pid == "" || len(custom) != 1 {
			t.Fatalf("custom %v", it["custom"])
		}
		wantItem := map[string]any{"type": "ltiResourceLink", "title": "Week 3 questions", "text": "Ask about the week's reading. One question each.",
			"url": env.App.URL("/lti/launch?rt_placement=" + pid), "custom": map[string]any{"rt_placement": pid},
			"lineItem": map[string]any{"scoreMaximum": float64(15), "label": "Week 3 questions", "resourceId": pid, "tag": "roundtable"}}
		if got, want := mustJSON(t, it), mustJSON(t, wantItem); got != want {
			t.Errorf("content item\n got %s\nwant %s", got, want)
		}
		p, err := env.App.Courses.Placement(context.Background(), env.Registered.ID, pid)
		if err != nil {
			t.Fatal(err)
		}
		st, opts := p.Settings, p.Settings.Options.(activity.DiscussionOptions)
		if p.Title != "Week 3 questions" || st.Kind != activity.KindQuestionBoard || st.CohortPolicy != course.CohortSection || !st.Graded ||
			st.Points != 15 || opts.Rule.MinThreads != 1 || opts.Rule.MinReplies != 2 || opts.Credit != activity.CreditProportional ||
			opts.AllowAnonymous || !opts.PostFirst || p.CreatedBy != apptest.Instructor || p.ContextKey != apptest.CourseID {
			t.Errorf("placement %+v", p)
		}

		// The LMS verifies the answer and adds the link.
		before := len(env.Platform.Links(apptest.CourseID))
		back, err := b.PostForm(context.Background(), returnURL, url.Values{"JWT": {jwt}})
		if err != nil || back.StatusCode != http.StatusOK {
			t.Fatalf("platform return: %v %+v", err, back)
		}
		links := env.Platform.Links(apptest.CourseID)
		if len(links) != before+1 {
			t.Fatalf("%d links in the course, want %d", len(links), before+1)
		}
		link := links[len(links)-1]
		if link.Title != "Week 3 questions" || link.Custom["rt_placement"] != pid {
			t.Errorf("link %+v", link)
		}
		placed, _ := env.Platform.DeepLinkedItem(link.ID)
		if placed.LineItem == nil || placed.LineItem.ScoreMaximum != 15 || placed.LineItem.ResourceID != pid || placed.LineItem.Tag != "roundtable" {
			t.Errorf("line item the LMS received: %+v", placed.LineItem)
		}
		if li, ok := env.Platform.LinkLineItem(link.ID); !ok || li.ScoreMaximum != 15 || li.Label != "Week 3 questions" || li.ResourceID != pid {
			t.Errorf("gradebook column: %+v (%v)", li, ok)
		}
		// The request is used up.
		if again := submit(t, b, choice, url.Values{"title": {"Again"}}, "place"); again.StatusCode != http.StatusNotFound {
			t.Errorf("the used request answered again: %d", again.StatusCode)
		}
		if n := env.Count(t, "placements"); n != 1 {
			t.Errorf("%d placements", n)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With accept_multiple an instructor adds several activities in one go.
func TestDeepLinkingPlacesSeveral(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Assistant, nil)
		res = submit(t, b, res, url.Values{"kind": {activity.KindDiscussion}, "title": {"Introductions"}}, "add")
		d := doc(t, res.Body)
		if res.StatusCode != http.StatusOK || text(d, "[data-testid=placed]") != "Introductions" {
			t.Fatalf("after Add another: %d\n%.600s", res.StatusCode, res.Body)
		}
		// A title left empty is the kind's.
		res = submit(t, b, res, url.Values{"kind": {activity.KindQuestionBoard}, "title": {""}}, "place")
		_, jwt, _, c := responseJWT(t, env, res)
		items, _ := c[lti.ClaimDeepLinkingContent].([]any)
		if len(items) != 2 || items[0].(map[string]any)["title"] != "Introductions" || items[1].(map[string]any)["title"] != "Questions and answers" {
			t.Fatalf("items %v", items)
		}
		for _, it := range items {
			if _, graded := it.(map[string]any)["lineItem"]; graded {
				t.Error("an ungraded placement asks for a line item")
			}
		}
		action, _ := doc(t, res.Body).Find("form").Attr("action")
		if back, err := b.PostForm(context.Background(), action, url.Values{"JWT": {jwt}}); err != nil || back.StatusCode != http.StatusOK {
			t.Fatalf("platform return: %v %+v", err, back)
		}
		if n := len(env.Platform.Links(apptest.CourseID)); n != 3 {
			t.Errorf("%d links, want the seeded one and two placed", n)
		}
	})
}

// An invalid choice shows the chooser again with the message and what was
// typed; nothing is sent to the LMS.
func TestDeepLinkingChooserValidates(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, nil)
		res = submit(t, b, res, url.Values{"kind": {activity.KindDiscussion}, "title": {"Graded, no rule"}, "graded": {"1"}, "points": {"10"}}, "place")
		d := doc(t, res.Body)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(text(d, "[data-testid=form-error]"), "completion rule") {
			t.Fatalf("invalid choice: %d %q", res.StatusCode, text(d, "[data-testid=form-error]"))
		}
		if v, _ := d.Find("#title").Attr("value"); v != "Graded, no rule" {
			t.Errorf("title kept as %q", v)
		}
		if d.Find("form[data-testid=deep-link-return]").Length() != 0 {
			t.Error("a response was sent")
		}
		res = submit(t, b, res, url.Values{"points": {"ten"}}, "place")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("points %q: %d", "ten", res.StatusCode)
		}
		// The same request still places once fixed.
		res = submit(t, b, res, url.Values{"graded": nil, "points": {"10"}}, "place")
		if _, _, _, c := responseJWT(t, env, res); len(c[lti.ClaimDeepLinkingContent].([]any)) != 1 {
			t.Errorf("items %v", c[lti.ClaimDeepLinkingContent])
		}
	})
}

// Cancel answers the LMS with a message and no items.
func TestDeepLinkingCancel(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, nil)
		res = submit(t, b, res, url.Values{"title": {"Staged"}}, "add")
		res = submit(t, b, res, nil, "cancel")
		action, jwt, _, c := responseJWT(t, env, res)
		if items, ok := c[lti.ClaimDeepLinkingContent].([]any); !ok || len(items) != 0 {
			t.Errorf("content_items %v", c[lti.ClaimDeepLinkingContent])
		}
		if c[lti.ClaimDeepLinkingMsg] != "No Roundtable activity was added." {
			t.Errorf("msg %v", c[lti.ClaimDeepLinkingMsg])
		}
		if n := env.Count(t, "placements"); n != 0 {
			t.Errorf("%d placements kept after cancel", n)
		}
		back, err := b.PostForm(context.Background(), action, url.Values{"JWT": {jwt}})
		if err != nil || back.StatusCode != http.StatusOK || !strings.Contains(back.Body, "No Roundtable activity was added.") {
			t.Fatalf("platform return: %v %+v", err, back)
		}
		if n := len(env.Platform.Links(apptest.CourseID)); n != 1 {
			t.Errorf("%d links after cancel", n)
		}
	})
}

// An LMS screen that takes no LTI links gets an answer with errormsg, after
// a page that tells the instructor why.
func TestDeepLinkingWithoutResourceLinks(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, &ltiplatform.DeepLinkSettings{AcceptTypes: []string{"link", "file"}, AutoCreate: true})
		d := doc(t, res.Body)
		if !strings.Contains(text(d, "[data-testid=deep-link-message]"), "only takes other kinds of content") {
			t.Errorf("page %q", text(d, "[data-testid=deep-link-message]"))
		}
		if _, auto := d.Find("form").Attr("data-autopost"); auto {
			t.Error("the page posts before the instructor can read it")
		}
		action, jwt, _, c := responseJWT(t, env, res)
		if items, _ := c[lti.ClaimDeepLinkingContent].([]any); len(items) != 0 {
			t.Errorf("items %v", items)
		}
		if m, _ := c[lti.ClaimDeepLinkingErrorMsg].(string); !strings.Contains(m, "cannot be added") {
			t.Errorf("errormsg %q", m)
		}
		back, err := b.PostForm(context.Background(), action, url.Values{"JWT": {jwt}})
		if err != nil || back.StatusCode != http.StatusOK || !strings.Contains(back.Body, "cannot be added") {
			t.Fatalf("platform return: %v %+v", err, back)
		}
		if env.Count(t, "deep_link_requests") != 0 {
			t.Error("rows left behind")
		}
		if n := env.Count(t, "used_login_states"); n != 1 {
			t.Errorf("%d spent login states, want the launch's", n)
		}
	})
}

// A learner's deep linking launch is refused with a page, and stores
// nothing.
func TestDeepLinkingRefusedToLearners(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		_, res := chooser(t, env, apptest.Learner, nil)
		d := doc(t, res.Body)
		if res.StatusCode != http.StatusForbidden || text(d, "h1") != "Only instructors can add activities" {
			t.Fatalf("learner: %d %q", res.StatusCode, text(d, "h1"))
		}
		if d.Find("form").Length() != 0 {
			t.Error("a form on the learner's page")
		}
		for _, table := range []string{"deep_link_requests", "placements", "sessions"} {
			if n := env.Count(t, table); n != 0 {
				t.Errorf("%d rows in %s", n, table)
			}
		}
		// Its login state is spent all the same: it cannot be replayed.
		if n := env.Count(t, "used_login_states"); n != 1 {
			t.Errorf("%d spent login states, want the launch's", n)
		}
	})
}

// The chooser and its form need the request's secret.
func TestDeepLinkingChooserNeedsItsSecret(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b := ltiplatform.NewBrowser()
		for _, u := range []string{"/lti/deep-link", "/lti/deep-link?dl=made-up"} {
			res, err := b.Get(context.Background(), env.App.URL(u))
			if err != nil || res.StatusCode != http.StatusNotFound || !strings.Contains(res.Body, "expired or was already used") {
				t.Errorf("%s: %v %+v", u, err, res)
			}
		}
		res, err := b.PostForm(context.Background(), env.App.URL("/lti/deep-link"), url.Values{"dl": {"made-up"}, "action": {"place"}, "title": {"x"}})
		if err != nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("post: %v %+v", err, res)
		}
		if env.Count(t, "placements") != 0 {
			t.Error("a placement without a request")
		}
	})
}

// place runs the chooser as the instructor with fields and returns the
// LMS's new link, added from the verified answer.
func place(t *testing.T, env *apptest.Env, fields url.Values) ltiplatform.ResourceLink {
	t.Helper()
	b, res := chooser(t, env, apptest.Instructor, nil)
	res = submit(t, b, res, fields, "place")
	action, jwt, _, _ := responseJWT(t, env, res)
	back, err := b.PostForm(context.Background(), action, url.Values{"JWT": {jwt}})
	if err != nil || back.StatusCode != http.StatusOK {
		t.Fatalf("platform return: %v %+v", err, back)
	}
	links := env.Platform.Links(apptest.CourseID)
	return links[len(links)-1]
}

// launchLinkAs launches a link of a course and returns our link id.
func launchLinkAs(t *testing.T, env *apptest.Env, user, courseID, linkID string) string {
	t.Helper()
	res, err := ltiplatform.NewBrowser().Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
		ClientID: apptest.ClientID, UserID: user, CourseID: courseID, ResourceLinkID: linkID})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch %s as %s: %v %+v", linkID, user, err, res)
	}
	u, _ := url.Parse(res.URL)
	parts := strings.Split(strings.TrimPrefix(u.Path, "/a/"), "/")
	if !strings.HasPrefix(u.Path, "/a/") || parts[0] == "" {
		t.Fatalf("launch ended at %s", res.URL)
	}
	return parts[0]
}

// The placed link's first launch takes the placement's settings, and so
// does the same link in a copy of the course; a link naming an unknown or
// another platform's placement keeps the defaults.
func TestPlacedLinkAdoptsItsSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		link := place(t, env, url.Values{"kind": {activity.KindQuestionBoard}, "title": {"Ask the cohort"}, "cohort_policy": {"groups"},
			"group_size": {"4"}, "graded": {"1"}, "points": {"30"}, "min_accepted": {"1"}, "allow_anonymous": nil})
		pid := link.Custom["rt_placement"]
		ours := launchLinkAs(t, env, apptest.Learner, apptest.CourseID, link.ID)
		st, err := env.App.Courses.Settings(ctx, env.Registered.ID, ours)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Configured || st.Kind != activity.KindQuestionBoard || st.CohortPolicy != course.CohortGroups || st.GroupSize != 4 ||
			!st.Graded || st.Points != 30 || st.Options.(activity.DiscussionOptions).Rule.MinAccepted != 1 || st.Options.(activity.DiscussionOptions).AllowAnonymous {
			t.Errorf("settings after the first launch %+v", st)
		}

		// A course copy: new course, new link id, same custom parameter.
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(env.Platform.AddCourse(ltiplatform.Course{ID: "course-copy", Label: "SAFE-101 (2027)", Title: "Workplace Safety Essentials, 2027"}))
		must(env.Platform.Enroll("course-copy", apptest.Learner2, lti.RoleLearner))
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "copied-link", CourseID: "course-copy", Title: link.Title,
			Custom: map[string]string{"rt_placement": pid}}))
		copied := launchLinkAs(t, env, apptest.Learner2, "course-copy", "copied-link")
		if copied == ours {
			t.Fatal("the copy launched the original link")
		}
		cst, err := env.App.Courses.Settings(ctx, env.Registered.ID, copied)
		if err != nil {
			t.Fatal(err)
		}
		if !cst.Configured || cst.Kind != st.Kind || cst.Points != 30 || cst.CohortPolicy != course.CohortGroups {
			t.Errorf("copied link's settings %+v", cst)
		}

		// Only the URL names the placement (an LMS that drops custom values).
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "url-only", CourseID: apptest.CourseID, Title: "By URL",
			URL: env.App.URL("/lti/launch?rt_placement=" + pid)}))
		byURL := launchLinkAs(t, env, apptest.Learner, apptest.CourseID, "url-only")
		if ust, _ := env.App.Courses.Settings(ctx, env.Registered.ID, byURL); !ust.Configured || ust.Points != 30 {
			t.Errorf("link named by URL: %+v", ust)
		}

		// Unknown, and another platform's, placements are ignored.
		other, err := env.App.Registry.Add(ctx, tenant.Platform{Name: "Other LMS", Issuer: "https://other-lms.example.edu", ClientID: "other",
			AuthURL: "https://other-lms.example.edu/auth", JWKSURL: "https://other-lms.example.edu/jwks", Deployments: []string{"d"}})
		must(err)
		must(env.DB.Exec(`INSERT INTO placements (platform_id, id, deployment_id, context_key, title, kind, instructions, cohort_policy, group_size,
			graded, points, options, created_by, created_at)
			VALUES (?, 'foreign-placement', 'd', 'c', 'Theirs', 'discussion', '', 'course', 12, TRUE, 99, '{"rule": {"min_threads": 1}}', 'x', ?)`,
			other.ID, time.Now().UTC()).Error)
		for _, id := range []string{"no-such-placement", "foreign-placement"} {
			must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-" + id, CourseID: apptest.CourseID, Title: id,
				Custom: map[string]string{"rt_placement": id}}))
			l := launchLinkAs(t, env, apptest.Learner, apptest.CourseID, "link-"+id)
			if ist, _ := env.App.Courses.Settings(ctx, env.Registered.ID, l); ist.Configured || ist.Points == 99 {
				t.Errorf("%s adopted: %+v", id, ist)
			}
		}
	})
}

// The LMS gets the instructions as plain text for its description (Moodle
// shows it and sends it back in every launch), and the activity page does
// not show that description again above the instructions it repeats.
func TestPlacedInstructionsAreShownOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		link := place(t, env, url.Values{"kind": {activity.KindDiscussion}, "title": {"Week 4"}, "cohort_policy": {"course"},
			"instructions": {"Ask **one question** about `pivot tables`.\n\nThen answer _two_."}})
		if link.Description != "Ask one question about pivot tables. Then answer two." {
			t.Errorf("the LMS stored the description %q", link.Description)
		}
		res, err := ltiplatform.NewBrowser().Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: link.ID})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("launch: %v %+v", err, res)
		}
		d := doc(t, res.Body)
		if got := text(d, "[data-testid=instructions] strong"); got != "one question" {
			t.Errorf("instructions rendered as %q", d.Find("[data-testid=instructions]").Text())
		}
		if d.Find("#about-heading").Length() != 0 || strings.Contains(res.Body, "**one question**") {
			t.Errorf("the LMS's description is shown beside the instructions")
		}
	})
}

// What the LMS sends (the request's text) and what the instructor types
// (a title, shown back and in the list of those added) are text on the
// chooser, never markup.
func TestDeepLinkingChooserShowsWhatWasSentAsText(t *testing.T) {
	const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&amp;`
	inert := func(t *testing.T, step string, d *goquery.Document) {
		t.Helper()
		if n := d.Find("main script, main img, [onerror]").Length(); n != 0 {
			h, _ := d.Find("main").Html()
			t.Fatalf("%s: %d elements came from a value:\n%s", step, n, h)
		}
	}
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := chooser(t, env, apptest.Instructor, &ltiplatform.DeepLinkSettings{AcceptTypes: []string{"ltiResourceLink"}, AcceptMultiple: true, Text: hostile})
		d := doc(t, res.Body)
		inert(t, "the chooser", d)
		if got := text(d, "main p.muted"); !strings.Contains(got, ": "+hostile) {
			t.Errorf("the request's text shows as %q", got)
		}
		res = submit(t, b, res, url.Values{"title": {hostile}}, "add")
		d = doc(t, res.Body)
		inert(t, "after adding", d)
		if got := text(d, "[data-testid=placed] li"); got != hostile {
			t.Errorf("the activity added shows as %q", got)
		}
		if got := text(d, "[data-testid=notice]"); !strings.Contains(got, "“"+hostile+"”") {
			t.Errorf("the notice says %q", got)
		}
		res = submit(t, b, res, url.Values{"title": {hostile}, "points": {"ten"}}, "place")
		d = doc(t, res.Body)
		inert(t, "the chooser with an error", d)
		if res.StatusCode != http.StatusBadRequest || d.Find("#title").AttrOr("value", "") != hostile {
			t.Errorf("the title typed comes back as %q (%d)", d.Find("#title").AttrOr("value", ""), res.StatusCode)
		}
	})
}
