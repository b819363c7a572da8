package ltiplatform_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func TestLaunchCarriesEveryClaim(t *testing.T) {
	e := newEnv(t)
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(t.Context(), e.p, e.launch("u-ana", "rl-1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("tool answered %d: %s", res.StatusCode, res.Body)
	}
	c := e.tool.lastLaunch()
	iss := e.p.Issuer()
	want := map[string]any{
		"iss": iss, "sub": "u-ana", "aud": clientID, "azp": clientID,
		"name": "Ana Lima", "given_name": "Ana", "family_name": "Lima", "email": "ana@example.edu",
		"picture": "https://example.edu/ana.png", "locale": "pt-BR",
		lti.ClaimVersion:       lti.Version,
		lti.ClaimMessageType:   lti.MessageResourceLink,
		lti.ClaimDeploymentID:  deploymentID,
		lti.ClaimTargetLinkURI: e.tool.URL("/lti/launch"),
		lti.ClaimRoles:         []any{lti.RoleInstructor},
		lti.ClaimResourceLink:  map[string]any{"id": "rl-1", "title": "Week 1 discussion", "description": "Sources"},
		lti.ClaimContext: map[string]any{"id": "c-101", "label": "HIST 101", "title": "World History",
			"type": []any{ltiplatform.ContextTypeCourseOffering}},
		lti.ClaimToolPlatform: map[string]any{"guid": e.p.GUID(), "name": "Demo LMS",
			"product_family_code": ltiplatform.DefaultProductFamilyCode, "version": "1.0", "url": iss},
		lti.ClaimLaunchPresentation: map[string]any{"document_target": "iframe",
			"return_url": iss + "/courses/c-101", "locale": "pt-BR"},
		lti.ClaimCustom: map[string]any{"uid": "u-ana", "cid": "c-101", "rid": "rl-1",
			"unknown": "$Canvas.course.id", "plain": "hello"},
		lti.ClaimAGSEndpoint: map[string]any{
			"scope":     []any{lti.AGSScopeLineItem, lti.AGSScopeResultReadOnly, lti.AGSScopeScore},
			"lineitems": iss + "/api/lti/courses/c-101/lineitems"},
		lti.ClaimNRPS: map[string]any{"context_memberships_url": iss + "/api/lti/courses/c-101/memberships",
			"service_versions": []any{"2.0"}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("claim %s = %#v, want %#v", k, c[k], v)
		}
	}
	now := float64(e.clock.Now().Unix())
	if c["iat"] != now || c["exp"] != now+300 {
		t.Errorf("iat %v exp %v, want %v and +300", c["iat"], c["exp"], now)
	}
	if c["nonce"] == "" {
		t.Error("no nonce")
	}
}

func TestLaunchRoles(t *testing.T) {
	e := newEnv(t)
	cases := map[string][]any{
		"u-ben": {lti.RoleLearner, lti.RoleMentor}, // multiple, short form expanded
		"u-cy":  {},                                // enrolled without a role: empty but present
	}
	for user, roles := range cases {
		res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, e.launch(user, "rl-2"))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %+v", user, err, res)
		}
		c := e.tool.lastLaunch()
		if got := c[lti.ClaimRoles]; !reflect.DeepEqual(got, roles) {
			t.Errorf("%s roles = %#v, want %#v", user, got, roles)
		}
		if _, ok := c[lti.ClaimCustom]; ok {
			t.Errorf("%s: custom claim without custom parameters", user)
		}
		if _, ok := c["given_name"]; ok {
			t.Errorf("%s: empty given_name sent", user)
		}
	}
}

func TestLaunchWithoutContext(t *testing.T) {
	e := newEnv(t)
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-home", Title: "Dashboard widget",
		Custom: map[string]string{"cid": "$Context.id"}}))
	res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p,
		ltiplatform.LaunchRequest{ClientID: clientID, UserID: "u-ben", ResourceLinkID: "rl-home"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%v %+v", err, res)
	}
	c := e.tool.lastLaunch()
	for _, k := range []string{lti.ClaimContext, lti.ClaimAGSEndpoint, lti.ClaimNRPS} {
		if _, ok := c[k]; ok {
			t.Errorf("claim %s in a launch without context", k)
		}
	}
	if got := c[lti.ClaimRoles]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("roles = %#v", got)
	}
	if got := c[lti.ClaimCustom].(map[string]any)["cid"]; got != "$Context.id" {
		t.Errorf("$Context.id without context = %v, want it literal", got)
	}
	lp := c[lti.ClaimLaunchPresentation].(map[string]any)
	if lp["return_url"] != e.p.Issuer()+"/" || lp["locale"] != "en" {
		t.Errorf("launch_presentation = %v", lp)
	}
}

func TestLaunchStorageTargetAndTargetLink(t *testing.T) {
	e := newEnv(t)
	req := e.launch("u-ben", "rl-1")
	req.StorageTarget = "_parent"
	req.TargetLinkURI = e.tool.URL("/lti/launch?deep=1")
	login, err := e.p.StartLaunch(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lti_storage_target=_parent", "lti_deployment_id=" + deploymentID, "client_id=" + clientID} {
		if !strings.Contains(login, want) {
			t.Errorf("login URL %s lacks %s", login, want)
		}
	}
	b := ltiplatform.NewBrowser()
	ar, err := b.Login(t.Context(), login)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Fields.Get("lti_storage_target") != "_parent" || ar.Action != e.tool.URL("/lti/launch") {
		t.Fatalf("auth response %+v", ar)
	}
	res, err := b.PostForm(t.Context(), ar.Action, ar.Fields)
	if err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `storage &#34;_parent&#34;`) && !strings.Contains(res.Body, `storage "_parent"`) {
		t.Fatalf("%v %+v", err, res)
	}
	if got := e.tool.lastLaunch()[lti.ClaimTargetLinkURI]; got != req.TargetLinkURI {
		t.Errorf("target_link_uri = %v", got)
	}
}

func TestLoginReportsToolPage(t *testing.T) {
	e := newEnv(t)
	login, err := e.p.StartLaunch(e.launch("u-ana", "rl-1"))
	must(t, err)
	// The fake tool refuses a login initiation from another issuer.
	login = strings.Replace(login, "iss=", "iss=x", 1)
	_, err = ltiplatform.NewBrowser().Login(t.Context(), login)
	var pe *ltiplatform.PageError
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusBadRequest || !strings.Contains(pe.Body, "bad login initiation") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartLaunchValidates(t *testing.T) {
	e := newEnv(t)
	must(t, e.p.AddCourse(ltiplatform.Course{ID: "c-202", Title: "Other"}))
	cases := map[string]ltiplatform.LaunchRequest{
		"unknown tool":     {ClientID: "nope", UserID: "u-ana", CourseID: "c-101", ResourceLinkID: "rl-1"},
		"unknown user":     {ClientID: clientID, UserID: "nobody", CourseID: "c-101", ResourceLinkID: "rl-1"},
		"no user":          {ClientID: clientID, CourseID: "c-101", ResourceLinkID: "rl-1"},
		"unknown course":   {ClientID: clientID, UserID: "u-ana", CourseID: "c-999", ResourceLinkID: "rl-1"},
		"unknown link":     {ClientID: clientID, UserID: "u-ana", CourseID: "c-101", ResourceLinkID: "rl-9"},
		"link elsewhere":   {ClientID: clientID, UserID: "u-ana", CourseID: "c-202", ResourceLinkID: "rl-1"},
		"bad message type": {ClientID: clientID, UserID: "u-ana", CourseID: "c-101", ResourceLinkID: "rl-1", MessageType: "LtiNope"},
	}
	for name, req := range cases {
		if _, err := e.p.StartLaunch(req); !errors.Is(err, ltiplatform.ErrNotFound) && !errors.Is(err, ltiplatform.ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestDeepLinkingRequest(t *testing.T) {
	e := newEnv(t)
	res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, ltiplatform.LaunchRequest{
		ClientID: clientID, UserID: "u-ana", CourseID: "c-101", MessageType: lti.MessageDeepLinking})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%v %+v", err, res)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimMessageType] != lti.MessageDeepLinking || c[lti.ClaimDeepLinkingSettings] == nil {
		t.Errorf("claims %v", c)
	}
	if _, ok := c[lti.ClaimResourceLink]; ok {
		t.Error("resource_link in a deep linking request")
	}
}

func TestDataModel(t *testing.T) {
	e := newEnv(t)
	members, err := e.p.Users("c-101")
	must(t, err)
	var ids []string
	for _, m := range members {
		ids = append(ids, m.ID)
	}
	if !reflect.DeepEqual(ids, []string{"u-ana", "u-ben", "u-cy"}) {
		t.Errorf("members %v", ids)
	}
	must(t, e.p.Enroll("c-101", "u-cy", "Instructor#TeachingAssistant"))
	members, _ = e.p.Users("c-101")
	if !reflect.DeepEqual(members[2].Roles, []string{lti.RoleTeachingAssistant}) {
		t.Errorf("re-enrolment roles %v", members[2].Roles)
	}
	if err := e.p.Enroll("c-101", "ghost"); !errors.Is(err, ltiplatform.ErrNotFound) {
		t.Errorf("enrol unknown user: %v", err)
	}
	if links := e.p.Links("c-101"); len(links) != 2 || links[0].ID != "rl-1" {
		t.Errorf("links %v", links)
	}
	if err := e.p.AddTool(ltiplatform.Tool{ClientID: "x", DeploymentID: "1", LoginURL: "not a url"}); !errors.Is(err, ltiplatform.ErrInvalid) {
		t.Errorf("bad tool accepted: %v", err)
	}
	for in, want := range map[string]string{
		"Learner":                    lti.RoleLearner,
		"TeachingAssistant":          lti.RoleTeachingAssistant,
		lti.RoleInstitutionAdmin:     lti.RoleInstitutionAdmin,
		"urn:lti:role:ims/lis/Other": "urn:lti:role:ims/lis/Other",
	} {
		if got := ltiplatform.FullRole(in); got != want {
			t.Errorf("FullRole(%q) = %q", in, got)
		}
	}
}

// A tool's own custom parameters come with every launch of it, under the
// link's, and $Context.id.history names the courses a course was copied
// from.
func TestToolCustomParametersAndCourseHistory(t *testing.T) {
	e := newEnv(t)
	tool, err := e.p.Tool(clientID)
	must(t, err)
	tool.Custom = map[string]string{"history": "$Context.id.history", "who": "tool", "site": "example"}
	must(t, e.p.AddTool(tool))
	must(t, e.p.AddCourse(ltiplatform.Course{ID: "c-101-2027", Title: "World History (2027)", History: []string{"c-101-2026", "c-101"}}))
	must(t, e.p.Enroll("c-101-2027", "u-ben", lti.RoleLearner))
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-copy", CourseID: "c-101-2027", Custom: map[string]string{"who": "link"}}))
	for _, tc := range []struct {
		course, link string
		want         map[string]any
	}{
		{"c-101-2027", "rl-copy", map[string]any{"history": "c-101-2026,c-101", "who": "link", "site": "example"}},
		{"c-101", "rl-2", map[string]any{"history": "", "who": "tool", "site": "example"}},
	} {
		req := e.launch("u-ben", tc.link)
		req.CourseID = tc.course
		res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %+v", tc.link, err, res)
		}
		if got := e.tool.lastLaunch()[lti.ClaimCustom]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: custom %v, want %v", tc.link, got, tc.want)
		}
	}
}

func TestSubmissionReviewLaunch(t *testing.T) {
	e := newEnv(t)
	req := e.launch("u-ana", "rl-1")
	req.MessageType, req.ForUserID = lti.MessageSubmissionReview, "u-ben"
	res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%v %+v", err, res)
	}
	c := e.tool.lastLaunch()
	want := map[string]any{
		"sub":                 "u-ana",
		lti.ClaimMessageType:  lti.MessageSubmissionReview,
		lti.ClaimResourceLink: map[string]any{"id": "rl-1", "title": "Week 1 discussion", "description": "Sources"},
		lti.ClaimForUser: map[string]any{"user_id": "u-ben", "name": "Ben Okafor", "email": "ben@example.edu",
			"roles": []any{lti.RoleLearner, lti.RoleMentor}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("claim %s = %#v, want %#v", k, c[k], v)
		}
	}
	if _, ok := c[lti.ClaimAGSEndpoint]; !ok {
		t.Error("no AGS endpoint claim")
	}

	for name, forUser := range map[string]string{"no learner": "", "unknown learner": "nobody"} {
		req.ForUserID = forUser
		if _, err := e.p.StartLaunch(req); !errors.Is(err, ltiplatform.ErrNotFound) && !errors.Is(err, ltiplatform.ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestReviewPageStartsASubmissionReview(t *testing.T) {
	e := newEnv(t)
	b := ltiplatform.NewBrowser()
	res, err := b.Get(t.Context(), e.p.URL(ltiplatform.ReviewPagePath("c-101", "rl-1", "u-ana", "u-ben")))
	must(t, err)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("review page: %d %s", res.StatusCode, res.Body)
	}
	src := parseHTML(t, res.Body).one(t, "iframe").attr("src")
	ar, err := b.Login(t.Context(), src)
	must(t, err)
	if res, err = b.PostForm(t.Context(), ar.Action, ar.Fields); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch from the review page: %v %+v", err, res)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimMessageType] != lti.MessageSubmissionReview || c["sub"] != "u-ana" {
		t.Fatalf("launch %v as %v", c[lti.ClaimMessageType], c["sub"])
	}
	if fu, _ := c[lti.ClaimForUser].(map[string]any); fu["user_id"] != "u-ben" {
		t.Fatalf("for_user %#v", c[lti.ClaimForUser])
	}
	res, err = b.Get(t.Context(), e.p.URL(ltiplatform.ReviewPagePath("c-101", "rl-1", "u-ana", "nobody")))
	must(t, err)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("review of nobody: %d", res.StatusCode)
	}
}

// A line item may advertise submission reviews: its url is where they
// launch and its custom parameters come with them.
func TestSubmissionReviewOfALineItemThatNamesItsURL(t *testing.T) {
	e := newEnv(t)
	review := &ltiplatform.SubmissionReview{ReviewableStatus: []string{"Submitted", "Completed"},
		URL: e.tool.URL("/lti/review"), Custom: map[string]string{"view": "review", "plain": "overridden"}}
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-graded", CourseID: "c-101", Title: "Essay",
		Custom:   map[string]string{"plain": "hello"},
		LineItem: &ltiplatform.LineItemSpec{ScoreMaximum: 10, SubmissionReview: review}}))
	li, ok := e.p.LinkLineItem("rl-graded")
	if !ok || !reflect.DeepEqual(li.SubmissionReview, review) {
		t.Fatalf("line item %+v", li)
	}
	req := e.launch("u-ana", "rl-graded")
	req.MessageType, req.ForUserID = lti.MessageSubmissionReview, "u-ben"
	if res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%v %+v", err, res)
	}
	c := e.tool.lastLaunch()
	if c[lti.ClaimTargetLinkURI] != review.URL {
		t.Errorf("target_link_uri %v, want %s", c[lti.ClaimTargetLinkURI], review.URL)
	}
	if want := map[string]any{"view": "review", "plain": "overridden"}; !reflect.DeepEqual(c[lti.ClaimCustom], want) {
		t.Errorf("custom %#v, want %#v", c[lti.ClaimCustom], want)
	}
	// An ordinary launch of the link keeps its own.
	if res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, e.launch("u-ben", "rl-graded")); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%v %+v", err, res)
	}
	c = e.tool.lastLaunch()
	if c[lti.ClaimTargetLinkURI] == review.URL || !reflect.DeepEqual(c[lti.ClaimCustom], map[string]any{"plain": "hello"}) {
		t.Errorf("resource link launch to %v with custom %#v", c[lti.ClaimTargetLinkURI], c[lti.ClaimCustom])
	}
}
