package ltiplatform_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// dlTool is the deep-linking half of a tool: an RSA key published in a
// JWKS, and responses signed with it.
type dlTool struct {
	key *rsa.PrivateKey
	kid string
	srv *httptest.Server
}

func newDLTool(t *testing.T, e *env) *dlTool {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	dt := &dlTool{key: key, kid: "tool-key-1"}
	dt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": dt.kid, "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(dt.srv.Close)
	must(t, e.p.AddTool(ltiplatform.Tool{
		ClientID: clientID, DeploymentID: deploymentID, LoginURL: e.tool.URL("/lti/login"),
		RedirectURIs: []string{e.tool.URL("/lti/launch")}, JWKSURL: dt.srv.URL + "/jwks", Name: "Fake tool",
	}))
	return dt
}

// sign makes an RS256 compact JWS with the standard library only.
func signWith(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	hb, err := json.Marshal(header)
	must(t, err)
	cb, err := json.Marshal(claims)
	must(t, err)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	must(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (dt *dlTool) sign(t *testing.T, claims map[string]any) string {
	return signWith(t, dt.key, map[string]any{"alg": "RS256", "kid": dt.kid, "typ": "JWT"}, claims)
}

// deepLink starts a deep linking launch as Ana (an instructor) and returns
// the settings the tool received.
func deepLink(t *testing.T, e *env, s *ltiplatform.DeepLinkSettings) lti.DeepLinkingSettingsClaim {
	t.Helper()
	res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, ltiplatform.LaunchRequest{
		ClientID: clientID, UserID: "u-ana", CourseID: "c-101", MessageType: lti.MessageDeepLinking, DeepLinking: s})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("deep linking launch: %v %+v", err, res)
	}
	raw, _ := json.Marshal(e.tool.lastLaunch()[lti.ClaimDeepLinkingSettings])
	var claim lti.DeepLinkingSettingsClaim
	must(t, json.Unmarshal(raw, &claim))
	return claim
}

// response is a valid LtiDeepLinkingResponse to settings, with one item.
func response(e *env, s lti.DeepLinkingSettingsClaim, items ...map[string]any) map[string]any {
	if items == nil {
		items = []map[string]any{{
			"type": "ltiResourceLink", "title": "Week 5 debate", "text": "Argue one side.",
			"url": e.tool.URL("/lti/launch?activity=debate"), "custom": map[string]any{"rt_placement": "p-77"},
			"lineItem": map[string]any{"scoreMaximum": 25, "label": "Week 5 debate", "resourceId": "p-77", "tag": "roundtable"},
		}}
	}
	now := time.Now()
	return map[string]any{
		"iss": clientID, "aud": e.p.Issuer(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce":                     rand.Text(),
		lti.ClaimDeploymentID:       deploymentID,
		lti.ClaimMessageType:        lti.MessageDeepLinkingResponse,
		lti.ClaimVersion:            lti.Version,
		lti.ClaimDeepLinkingData:    s.Data,
		lti.ClaimDeepLinkingMsg:     "Placed Week 5 debate.",
		lti.ClaimDeepLinkingContent: items,
	}
}

func postJWT(t *testing.T, b *ltiplatform.Browser, returnURL, jwt string) *ltiplatform.Result {
	t.Helper()
	res, err := b.PostForm(t.Context(), returnURL, url.Values{"JWT": {jwt}})
	must(t, err)
	return res
}

func page(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	must(t, err)
	return d
}

func TestDeepLinkingRequestSettings(t *testing.T) {
	e := newEnv(t)
	newDLTool(t, e)
	s := deepLink(t, e, &ltiplatform.DeepLinkSettings{AcceptTypes: []string{"link", "ltiResourceLink"},
		AcceptPresentationDocumentTargets: []string{"window"}, AcceptMultiple: false, AutoCreate: true,
		Title: "Pick one", Text: "For week 5", Data: "csrf-and-context"})
	if !strings.HasPrefix(s.DeepLinkReturnURL, e.p.URL("/deep-linking/return/")) || len(s.DeepLinkReturnURL) <= len(e.p.URL("/deep-linking/return/")) {
		t.Errorf("return URL %q", s.DeepLinkReturnURL)
	}
	want := lti.DeepLinkingSettingsClaim{DeepLinkReturnURL: s.DeepLinkReturnURL, AcceptTypes: []string{"link", "ltiResourceLink"},
		AcceptPresentationDocumentTargets: []string{"window"}, AcceptLineItem: true, AutoCreate: true,
		Title: "Pick one", Text: "For week 5", Data: "csrf-and-context"}
	if got, _ := json.Marshal(s); string(got) != string(must2(json.Marshal(want))) {
		t.Errorf("settings %s, want %s", got, must2(json.Marshal(want)))
	}
	// Defaults: resource links only, iframe or window, several at once,
	// created at once, and a random data value.
	d := deepLink(t, e, nil)
	if strings.Join(d.AcceptTypes, ",") != "ltiResourceLink" || strings.Join(d.AcceptPresentationDocumentTargets, ",") != "iframe,window" ||
		!d.AcceptMultiple || !d.AutoCreate || len(d.Data) < 16 || d.DeepLinkReturnURL == s.DeepLinkReturnURL {
		t.Errorf("defaults %+v", d)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimMessageType] != lti.MessageDeepLinking || c[lti.ClaimContext] == nil {
		t.Errorf("claims %v", c)
	}
}

func must2(b []byte, err error) string {
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The tool's answer creates the resource link it describes, which then
// launches with the item's url and custom parameters.
func TestDeepLinkingReturnCreatesTheLink(t *testing.T) {
	e := newEnv(t)
	dt := newDLTool(t, e)
	s := deepLink(t, e, nil)
	before := len(e.p.Links("c-101"))
	b := ltiplatform.NewBrowser()
	jwt := dt.sign(t, response(e, s))
	res := postJWT(t, b, s.DeepLinkReturnURL, jwt)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("return: %d %s", res.StatusCode, res.Body)
	}
	doc := page(t, res.Body)
	if got := doc.Find(".msg").Text(); got != "Placed Week 5 debate." {
		t.Errorf("msg %q", got)
	}
	if got := doc.Find(".added-title").Text(); got != "Week 5 debate" {
		t.Errorf("added %q", got)
	}
	href, _ := doc.Find("#back-to-course").Attr("href")
	if !strings.HasPrefix(href, "/courses/c-101?deep_link=") {
		t.Errorf("back link %q", href)
	}
	links := e.p.Links("c-101")
	if len(links) != before+1 {
		t.Fatalf("%d links, want %d", len(links), before+1)
	}
	l := links[len(links)-1]
	if l.Title != "Week 5 debate" || l.Description != "Argue one side." || l.ClientID != clientID ||
		l.URL != e.tool.URL("/lti/launch?activity=debate") || l.Custom["rt_placement"] != "p-77" {
		t.Errorf("link %+v", l)
	}
	it, ok := e.p.DeepLinkedItem(l.ID)
	if !ok || it.LineItem == nil || *it.LineItem != (lti.LineItemSpec{ScoreMaximum: 25, Label: "Week 5 debate", ResourceID: "p-77", Tag: "roundtable"}) {
		t.Errorf("line item %+v", it.LineItem)
	}
	// The gradebook column was created with the link.
	li, ok := e.p.LinkLineItem(l.ID)
	if !ok || li.ScoreMaximum != 25 || li.Label != "Week 5 debate" || li.ResourceID != "p-77" || li.Tag != "roundtable" || li.ClientID != clientID {
		t.Errorf("gradebook line item %+v (%v)", li, ok)
	}

	// The course page shows the outcome and the new activity.
	cp, err := b.Get(t.Context(), e.p.URL(href))
	must(t, err)
	cd := page(t, cp.Body)
	if cd.Find(".deep-link-result .msg").Text() != "Placed Week 5 debate." || cd.Find(".deep-link-result .added-title").Text() != "Week 5 debate" {
		t.Errorf("course page banner %q", cd.Find(".deep-link-result").Text())
	}
	if cd.Find(`article.activity[data-link="`+l.ID+`"] a.open-as`).Length() == 0 {
		t.Error("the new activity has no Open as links")
	}

	// Launching it sends the item's url and custom parameters.
	if _, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, e.launch("u-ben", l.ID)); err != nil {
		t.Fatal(err)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimTargetLinkURI] != l.URL || c[lti.ClaimCustom].(map[string]any)["rt_placement"] != "p-77" {
		t.Errorf("launch of the placed link: target %v custom %v", c[lti.ClaimTargetLinkURI], c[lti.ClaimCustom])
	}

	// The same answer cannot be posted twice.
	if res := postJWT(t, b, s.DeepLinkReturnURL, jwt); res.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed answer: %d", res.StatusCode)
	}
	if len(e.p.Links("c-101")) != before+1 {
		t.Error("a replay added a link")
	}
}

// Certification-style forgeries: each is refused, adds nothing, and
// leaves the request answerable by the genuine response.
func TestDeepLinkingReturnRefusesForgedResponses(t *testing.T) {
	e := newEnv(t)
	dt := newDLTool(t, e)
	s := deepLink(t, e, &ltiplatform.DeepLinkSettings{AcceptTypes: []string{"ltiResourceLink"}, AutoCreate: true, Data: "d-1"})
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	edited := func(edit func(c map[string]any)) string {
		c := response(e, s)
		edit(c)
		return dt.sign(t, c)
	}
	usedNonce := response(e, s)["nonce"]
	two := []map[string]any{{"type": "ltiResourceLink", "title": "A"}, {"type": "ltiResourceLink", "title": "B"}}
	for name, jwt := range map[string]string{
		"NoJWT":            "",
		"NotAJWS":          "abc.def",
		"WrongKey":         signWith(t, foreign, map[string]any{"alg": "RS256", "kid": dt.kid}, response(e, s)),
		"UnknownKID":       signWith(t, dt.key, map[string]any{"alg": "RS256", "kid": "other"}, response(e, s)),
		"NoKID":            signWith(t, dt.key, map[string]any{"alg": "RS256"}, response(e, s)),
		"AlgNone":          strings.Join(strings.Split(dt.sign(t, response(e, s)), ".")[:2], ".") + ".",
		"TamperedPayload":  tamperPayload(t, dt.sign(t, response(e, s))),
		"WrongAudience":    edited(func(c map[string]any) { c["aud"] = "https://other-lms.example.edu" }),
		"AudienceMissing":  edited(func(c map[string]any) { delete(c, "aud") }),
		"WrongIssuer":      edited(func(c map[string]any) { c["iss"] = "another-client" }),
		"NonceMissing":     edited(func(c map[string]any) { delete(c, "nonce") }),
		"Expired":          edited(func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() }),
		"IssuedInFuture":   edited(func(c map[string]any) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() }),
		"NoExp":            edited(func(c map[string]any) { delete(c, "exp") }),
		"WrongDeployment":  edited(func(c map[string]any) { c[lti.ClaimDeploymentID] = "dep-9" }),
		"WrongMessageType": edited(func(c map[string]any) { c[lti.ClaimMessageType] = lti.MessageDeepLinking }),
		"WrongVersion":     edited(func(c map[string]any) { c[lti.ClaimVersion] = "1.1" }),
		"DataChanged":      edited(func(c map[string]any) { c[lti.ClaimDeepLinkingData] = "d-2" }),
		"DataMissing":      edited(func(c map[string]any) { delete(c, lti.ClaimDeepLinkingData) }),
		"TypeNotAccepted": edited(func(c map[string]any) {
			c[lti.ClaimDeepLinkingContent] = []any{map[string]any{"type": "file", "url": "https://x"}}
		}),
		"MultipleNotWanted": edited(func(c map[string]any) { c[lti.ClaimDeepLinkingContent] = two }),
		"ZeroScoreMaximum": edited(func(c map[string]any) {
			c[lti.ClaimDeepLinkingContent] = []any{map[string]any{"type": "ltiResourceLink", "lineItem": map[string]any{"scoreMaximum": 0}}}
		}),
	} {
		res := postJWT(t, ltiplatform.NewBrowser(), s.DeepLinkReturnURL, jwt)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "nothing was added") {
			t.Errorf("%s: %d %.200s", name, res.StatusCode, res.Body)
		}
	}
	if n := len(e.p.Links("c-101")); n != 2 {
		t.Fatalf("%d links after forgeries, want the 2 seeded", n)
	}
	// The genuine answer still works; then its nonce cannot be reused for
	// another request.
	genuine := response(e, s)
	genuine["nonce"] = usedNonce
	if res := postJWT(t, ltiplatform.NewBrowser(), s.DeepLinkReturnURL, dt.sign(t, genuine)); res.StatusCode != http.StatusOK {
		t.Fatalf("genuine: %d %s", res.StatusCode, res.Body)
	}
	s2 := deepLink(t, e, &ltiplatform.DeepLinkSettings{AutoCreate: true, Data: "d-1"})
	replay := response(e, s2)
	replay["nonce"] = usedNonce
	if res := postJWT(t, ltiplatform.NewBrowser(), s2.DeepLinkReturnURL, dt.sign(t, replay)); res.StatusCode != http.StatusBadRequest {
		t.Errorf("nonce replay: %d", res.StatusCode)
	}
	if n := len(e.p.Links("c-101")); n != 3 {
		t.Errorf("%d links, want 3", n)
	}
}

func tamperPayload(t *testing.T, jwt string) string {
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	b = []byte(strings.Replace(string(b), "Week 5 debate", "Week 6 debate", 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// A cancel: no items, an error message for the person.
func TestDeepLinkingReturnWithoutItemsShowsTheMessage(t *testing.T) {
	e := newEnv(t)
	dt := newDLTool(t, e)
	s := deepLink(t, e, nil)
	c := response(e, s)
	c[lti.ClaimDeepLinkingContent] = []any{}
	delete(c, lti.ClaimDeepLinkingMsg)
	c[lti.ClaimDeepLinkingErrorMsg] = "No activity was placed."
	res := postJWT(t, ltiplatform.NewBrowser(), s.DeepLinkReturnURL, dt.sign(t, c))
	doc := page(t, res.Body)
	if res.StatusCode != http.StatusOK || doc.Find(".errormsg").Text() != "No activity was placed." || doc.Find(".none").Length() != 1 {
		t.Errorf("%d %s", res.StatusCode, res.Body)
	}
	if len(e.p.Links("c-101")) != 2 {
		t.Error("a link was added")
	}
}

// Without auto_create the person confirms before the links are created.
func TestDeepLinkingWithoutAutoCreateAsksFirst(t *testing.T) {
	e := newEnv(t)
	dt := newDLTool(t, e)
	s := deepLink(t, e, &ltiplatform.DeepLinkSettings{AcceptMultiple: true})
	b := ltiplatform.NewBrowser()
	res := postJWT(t, b, s.DeepLinkReturnURL, dt.sign(t, response(e, s)))
	form, err := ltiplatform.ParseForm(res.Body, must3(url.Parse(s.DeepLinkReturnURL)))
	must(t, err)
	if len(e.p.Links("c-101")) != 2 {
		t.Fatal("created before confirmation")
	}
	if res, err := b.PostForm(t.Context(), form.Action, form.Fields); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %v %+v", err, res)
	}
	if links := e.p.Links("c-101"); len(links) != 3 || links[2].Title != "Week 5 debate" {
		t.Errorf("links after confirming %+v", links)
	}
	if res, _ := b.PostForm(t.Context(), form.Action, form.Fields); res.StatusCode != http.StatusNotFound || len(e.p.Links("c-101")) != 3 {
		t.Errorf("second confirmation: %d", res.StatusCode)
	}
}

func must3(u *url.URL, err error) *url.URL {
	if err != nil {
		panic(err)
	}
	return u
}

// The course page offers "Add activity" to staff only; the page it opens
// frames a deep linking launch.
func TestAddActivityPage(t *testing.T) {
	e := newEnv(t)
	b := ltiplatform.NewBrowser()
	res, err := b.Get(t.Context(), e.p.URL("/courses/c-101"))
	must(t, err)
	doc := page(t, res.Body)
	adds := doc.Find("a.add-as")
	if adds.Length() != 1 || adds.AttrOr("data-user", "") != "u-ana" {
		t.Fatalf("Add activity buttons for %d people", adds.Length())
	}
	res, err = b.Get(t.Context(), e.p.URL(adds.AttrOr("href", "")))
	must(t, err)
	src, ok := page(t, res.Body).Find("iframe#activity").Attr("src")
	if res.StatusCode != http.StatusOK || !ok || !strings.HasPrefix(src, e.tool.URL("/lti/login?")) {
		t.Fatalf("add page: %d src %q", res.StatusCode, src)
	}
	ar, err := b.Login(t.Context(), src)
	must(t, err)
	if _, err := b.PostForm(t.Context(), ar.Action, ar.Fields); err != nil {
		t.Fatal(err)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimMessageType] != lti.MessageDeepLinking || c["sub"] != "u-ana" {
		t.Errorf("launch from the add page: %v", c)
	}
	for _, user := range []string{"u-ben", "u-cy", "nobody"} {
		res, err := b.Get(t.Context(), e.p.URL(ltiplatform.AddActivityPath("c-101", user)))
		must(t, err)
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
			t.Errorf("%s may add activities: %d", user, res.StatusCode)
		}
	}
}
