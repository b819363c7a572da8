package advantage_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func TestTokenIsFetchedOnceForManyCalls(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	at := time.Now()
	for i, u := range e.learners {
		must(t, e.client.PublishScore(ctx, e.reg, li.ID, score(u, float64(i), at)))
	}
	if _, err := e.client.Members(ctx, e.reg, e.p.MembershipsURL(courseID), ""); err != nil {
		t.Fatal(err)
	}
	// One token for the line item scope, one for scores, one for members.
	if n := e.tokenRequests(); n != 3 {
		t.Errorf("%d token requests, want 3 (one per scope set)", n)
	}
	for _, u := range e.learners {
		if _, ok := e.p.LatestScore(platformID(t, li.ID), u); !ok {
			t.Errorf("no score for %s", u)
		}
	}
}

func TestTokenConcurrentCallersShareOneFetch(t *testing.T) {
	e := newEnv(t)
	e.sent.tokenDelay = 300 * time.Millisecond
	const callers = 12
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], errs[i] = e.tokens.Token(context.Background(), e.reg, []string{lti.AGSScopeScore})
		}()
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] == "" || tokens[i] != tokens[0] {
			t.Fatalf("caller %d got token %q, caller 0 %q", i, tokens[i], tokens[0])
		}
	}
	if n := e.tokenRequests(); n != 1 {
		t.Errorf("%d token requests for %d concurrent callers, want 1", n, callers)
	}
}

func TestTokenCallerGivingUpDoesNotFailOthers(t *testing.T) {
	e := newEnv(t)
	e.sent.tokenDelay = 300 * time.Millisecond
	impatient, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var patientErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, patientErr = e.tokens.Token(context.Background(), e.reg, []string{lti.AGSScopeScore})
	}()
	_, err := e.tokens.Token(impatient, e.reg, []string{lti.AGSScopeScore})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: %v, want its deadline", err)
	}
	wg.Wait()
	if patientErr != nil {
		t.Errorf("patient caller: %v", patientErr)
	}
}

func TestTokenScopeOrderSharesCacheAndInvalidateRefetches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeScore, lti.AGSScopeLineItem})
	must(t, err)
	b, err := e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeLineItem, lti.AGSScopeScore, lti.AGSScopeScore})
	must(t, err)
	if a != b || e.tokenRequests() != 1 {
		t.Fatalf("same scopes in another order fetched again (%d requests)", e.tokenRequests())
	}
	e.tokens.Invalidate(e.reg, []string{lti.AGSScopeLineItem, lti.AGSScopeScore})
	c, err := e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeScore, lti.AGSScopeLineItem})
	must(t, err)
	if c == a || e.tokenRequests() != 2 {
		t.Errorf("after Invalidate: same token %v, %d requests, want a new one", c == a, e.tokenRequests())
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeScore})
	must(t, err)
	// The platform's tokens last an hour; a minute before, a new one.
	e.clock.Add(58 * time.Minute)
	_, err = e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeScore})
	must(t, err)
	if n := e.tokenRequests(); n != 1 {
		t.Fatalf("%d token requests at 58 minutes, want the cached token", n)
	}
	e.clock.Add(90 * time.Second)
	_, err = e.tokens.Token(ctx, e.reg, []string{lti.AGSScopeScore})
	must(t, err)
	if n := e.tokenRequests(); n != 2 {
		t.Errorf("%d token requests at 59.5 minutes, want a fresh token", n)
	}
}

func TestRejectedTokenIsReplacedAndCallRetriedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	e.p.FailServices(ltiplatform.Fault{Status: http.StatusUnauthorized, Count: 1})
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("amy", 7, time.Now())))
	if got, ok := e.p.LatestScore(platformID(t, li.ID), "amy"); !ok || *got.ScoreGiven != 7 {
		t.Fatalf("score after a refused token: %+v %v", got, ok)
	}
	_, byStatus := e.requests("/api/lti/courses/" + courseID + "/lineitems/" + platformID(t, li.ID) + "/scores")
	if byStatus[401] != 1 || byStatus[204] != 1 {
		t.Errorf("score requests by status %v, want one 401 then one 204", byStatus)
	}
	// lineitem scope, then score scope twice: the refused one and its
	// replacement.
	if n := e.tokenRequests(); n != 3 {
		t.Errorf("%d token requests, want 3", n)
	}

	// A platform that keeps refusing gets one retry, not a loop.
	e.p.FailServices(ltiplatform.Fault{Status: http.StatusUnauthorized})
	err := e.client.PublishScore(ctx, e.reg, li.ID, score("amy", 8, time.Now()))
	var ae *advantage.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || advantage.IsRetryable(err) {
		t.Fatalf("persistent 401: %v, want a non-retryable 401 *Error", err)
	}
	_, byStatus = e.requests("/api/lti/courses/" + courseID + "/lineitems/" + platformID(t, li.ID) + "/scores")
	if byStatus[401] != 3 {
		t.Errorf("score requests by status %v, want 3 refused in all (1 + 2)", byStatus)
	}
}

func TestFindOrCreateLineItemCreatesOnce(t *testing.T) {
	e := newEnv(t)
	first := e.lineItem(t)
	second := e.lineItem(t)
	if first.ID == "" || first.ID != second.ID {
		t.Fatalf("ids %q and %q, want one line item", first.ID, second.ID)
	}
	items := e.p.LineItems(courseID)
	if len(items) != 1 {
		t.Fatalf("%d line items on the platform, want 1", len(items))
	}
	got := items[0]
	if got.Label != "Week 1 discussion" || got.ScoreMaximum != 10 || got.ResourceID != "activity-1" ||
		got.ResourceLinkID != linkID || got.Tag != "participation" || got.ClientID != clientID {
		t.Errorf("line item %+v", got)
	}
	posts := 0
	for _, r := range e.sent.sent() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/lineitems") {
			posts++
			if r.ContentType != advantage.MediaLineItem {
				t.Errorf("line item sent as %q", r.ContentType)
			}
		}
	}
	if posts != 1 {
		t.Errorf("%d line item POSTs, want 1", posts)
	}
}

func TestFindOrCreateLineItemConcurrentCallersCreateOne(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			li, err := e.client.FindOrCreateLineItem(context.Background(), e.reg, e.p.LineItemsURL(courseID),
				advantage.LineItem{Label: "Quiz", ScoreMaximum: 5, ResourceID: "quiz-1"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = li.ID
		}()
	}
	wg.Wait()
	if n := len(e.p.LineItems(courseID)); n != 1 {
		t.Errorf("%d line items from 8 concurrent calls, want 1", n)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("ids differ: %v", ids)
			break
		}
	}
}

func TestFindOrCreateLineItemInCopiedCourseFindsTheCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The LMS copied the course: its link got a new id, the line item came
	// along with its resourceId and tag, bound to the new link.
	must(t, e.p.AddCourse(ltiplatform.Course{ID: "c-1-copy", Title: "Biology (2027)"}))
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-1-copy", CourseID: "c-1-copy", Title: "Week 1 discussion"}))
	copied, err := e.p.AddLineItem(ltiplatform.LineItem{CourseID: "c-1-copy", ClientID: clientID, Label: "Week 1 discussion",
		ScoreMaximum: 10, ResourceID: "activity-1", ResourceLinkID: "rl-1-copy", Tag: "participation"})
	must(t, err)
	// A line item of another tool with the same resourceId is not ours.
	must(t, e.p.AddTool(ltiplatform.Tool{ClientID: "other", DeploymentID: "d-2", LoginURL: "https://other.example/login",
		RedirectURIs: []string{"https://other.example/launch"}}))
	_, err = e.p.AddLineItem(ltiplatform.LineItem{CourseID: "c-1-copy", ClientID: "other", Label: "Theirs",
		ScoreMaximum: 3, ResourceID: "activity-1", Tag: "participation"})
	must(t, err)

	// Roundtable still knows the activity by its resourceId and, before
	// the first launch in the copy, by the original link id.
	for _, want := range []advantage.LineItem{
		{Label: "Week 1 discussion", ScoreMaximum: 10, ResourceID: "activity-1", ResourceLinkID: linkID, Tag: "participation"},
		{Label: "Week 1 discussion", ScoreMaximum: 10, ResourceID: "activity-1", ResourceLinkID: "rl-1-copy", Tag: "participation"},
		{Label: "Week 1 discussion", ScoreMaximum: 10, ResourceID: "activity-1", Tag: "participation"},
	} {
		got, err := e.client.FindOrCreateLineItem(ctx, e.reg, e.p.LineItemsURL("c-1-copy"), want)
		must(t, err)
		if got.ID != e.p.LineItemURL(copied) {
			t.Errorf("want %+v: found %q, want the copied %q", want, got.ID, e.p.LineItemURL(copied))
		}
	}
	if n := len(e.p.LineItems("c-1-copy")); n != 2 {
		t.Errorf("%d line items in the copy, want the 2 that were there", n)
	}
	// Another tag is another column.
	other, err := e.client.FindOrCreateLineItem(ctx, e.reg, e.p.LineItemsURL("c-1-copy"),
		advantage.LineItem{Label: "Originality", ScoreMaximum: 1, ResourceID: "activity-1", Tag: "originality"})
	must(t, err)
	if other.ID == e.p.LineItemURL(copied) || len(e.p.LineItems("c-1-copy")) != 3 {
		t.Errorf("a new tag reused %q", other.ID)
	}
}

func TestFindOrCreateLineItemFollowsPages(t *testing.T) {
	e := newEnv(t)
	e.p.SetServicePageSize(2)
	var target ltiplatform.LineItem
	for i := range 5 {
		li, err := e.p.AddLineItem(ltiplatform.LineItem{CourseID: courseID, ClientID: clientID, Label: "Column",
			ScoreMaximum: 1, Tag: "t", ResourceID: []string{"a", "b", "c", "d", "e"}[i]})
		must(t, err)
		target = li
	}
	// The platform applies resource_id itself; look for one by tag and label.
	got, err := e.client.FindOrCreateLineItem(context.Background(), e.reg, e.p.LineItemsURL(courseID),
		advantage.LineItem{Label: "Column", ScoreMaximum: 1, ResourceID: "e", Tag: "t"})
	must(t, err)
	if got.ID != e.p.LineItemURL(target) {
		t.Errorf("found %q, want %q", got.ID, e.p.LineItemURL(target))
	}
	items, err := e.client.LineItems(context.Background(), e.reg, e.p.LineItemsURL(courseID), nil)
	must(t, err)
	if len(items) != 5 {
		t.Errorf("listed %d line items over pages of 2, want 5", len(items))
	}
}

func TestPublishScoreLandsWithTheScoreMediaType(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	at := time.Date(2026, 11, 29, 9, 30, 15, 123_000_000, time.UTC)
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("bo", 8.5, at)))
	got, ok := e.p.LatestScore(platformID(t, li.ID), "bo")
	if !ok {
		t.Fatal("no score")
	}
	if *got.ScoreGiven != 8.5 || *got.ScoreMaximum != 10 || got.Comment != "thanks" || got.ActivityProgress != "Completed" ||
		got.GradingProgress != "FullyGraded" || !got.Timestamp.Equal(at) || !got.Applied {
		t.Errorf("score %+v", got)
	}
	var scoreReqs []sentRequest
	for _, r := range e.sent.sent() {
		if strings.HasSuffix(r.Path, "/scores") {
			scoreReqs = append(scoreReqs, r)
		}
	}
	if len(scoreReqs) != 1 || scoreReqs[0].Method != http.MethodPost || scoreReqs[0].ContentType != "application/vnd.ims.lis.v1.score+json" {
		t.Errorf("score requests %+v", scoreReqs)
	}
	// Progress without a score: PendingManual for work an instructor grades.
	pending := advantage.Score{UserID: "cai", ActivityProgress: advantage.ActivitySubmitted,
		GradingProgress: advantage.GradingPendingManual, Timestamp: at}
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, pending))
	if got, ok := e.p.LatestScore(platformID(t, li.ID), "cai"); !ok || got.ScoreGiven != nil || got.GradingProgress != "PendingManual" {
		t.Errorf("pending score %+v %v", got, ok)
	}
	results, err := e.client.Results(ctx, e.reg, li.ID)
	must(t, err)
	if len(results) != 2 || results[0].UserID != "bo" || *results[0].ResultScore != 8.5 || results[1].ResultScore != nil {
		t.Errorf("results %+v", results)
	}
}

func TestPublishScoreToLineItemURLWithQuery(t *testing.T) {
	e := newEnv(t)
	li := e.lineItem(t)
	// Moodle's line item URLs carry a query string: /scores goes before it.
	withQuery := li.ID + "?type_id=7"
	must(t, e.client.PublishScore(context.Background(), e.reg, withQuery, score("dee", 3, time.Now())))
	want := "/api/lti/courses/" + courseID + "/lineitems/" + platformID(t, li.ID) + "/scores?type_id=7"
	found := false
	for _, r := range e.sent.sent() {
		found = found || r.Path == want
	}
	if !found {
		t.Errorf("no POST to %s in %+v", want, e.sent.sent())
	}
}

func TestStaleScoreIsNotApplied(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	id := platformID(t, li.ID)
	t2 := time.Now()
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("eli", 9, t2)))
	// An older score arriving late (a retry overtaken by a newer grade).
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("eli", 4, t2.Add(-time.Second))))
	// The same timestamp again is not newer either.
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("eli", 5, t2)))
	got, _ := e.p.LatestScore(id, "eli")
	if *got.ScoreGiven != 9 {
		t.Errorf("latest score %v, want 9: a stale score was applied", *got.ScoreGiven)
	}
	recs := e.p.Scores(id)
	if len(recs) != 3 || !recs[0].Applied || recs[1].Applied || recs[2].Applied {
		t.Errorf("records %+v, want the first applied and the others kept unapplied", recs)
	}
	must(t, e.client.PublishScore(ctx, e.reg, li.ID, score("eli", 10, t2.Add(time.Millisecond))))
	if got, _ := e.p.LatestScore(id, "eli"); *got.ScoreGiven != 10 {
		t.Errorf("newer score not applied: %v", *got.ScoreGiven)
	}
}

func TestPublishScoreRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	// Not a member of the course: the platform refuses, no retry helps.
	err := e.client.PublishScore(ctx, e.reg, li.ID, score("stranger", 1, time.Now()))
	var ae *advantage.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || advantage.IsRetryable(err) || !strings.Contains(ae.Body, "not a member") {
		t.Errorf("stranger's score: %v", err)
	}
	// Caught before sending.
	bad := score("amy", 1, time.Time{})
	if err := e.client.PublishScore(ctx, e.reg, li.ID, bad); err == nil || advantage.IsRetryable(err) {
		t.Errorf("score without timestamp: %v", err)
	}
	gone := li.ID[:strings.LastIndex(li.ID, "/")] + "/li-999"
	err = e.client.PublishScore(ctx, e.reg, gone, score("amy", 1, time.Now()))
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || advantage.IsRetryable(err) {
		t.Errorf("unknown line item: %v", err)
	}
}

func TestMembersAcrossThreePagesWithRlid(t *testing.T) {
	e := newEnv(t)
	e.p.SetServicePageSize(3)
	e.p.SetMemberActive(courseID, "fay", false)
	members, err := e.client.Members(context.Background(), e.reg, e.p.MembershipsURL(courseID), linkID)
	must(t, err)
	want := append([]string{"teacher"}, e.learners...)
	if len(members) != len(want) {
		t.Fatalf("%d members, want %d", len(members), len(want))
	}
	for i, m := range members {
		if m.UserID != want[i] {
			t.Errorf("member %d is %q, want %q", i, m.UserID, want[i])
		}
	}
	if m := members[1]; m.Name != "Amy" || m.Email != "amy@example.edu" || len(m.Roles) != 1 || m.Roles[0] != lti.RoleLearner || !m.IsActive() {
		t.Errorf("amy: %+v", m)
	}
	if fay := members[6]; fay.Status != advantage.MemberInactive || fay.IsActive() {
		t.Errorf("fay: %+v, want Inactive", fay)
	}
	n, byStatus := e.requests("/api/lti/courses/" + courseID + "/memberships")
	if n != 3 || byStatus[200] != 3 {
		t.Errorf("%d membership requests %v, want 3 pages", n, byStatus)
	}
	for _, r := range e.p.ServiceRequests() {
		if strings.Contains(r.Path, "/memberships") && !strings.Contains(r.Path, "rlid="+linkID) {
			t.Errorf("page %s lost rlid", r.Path)
		}
	}
	for _, r := range e.sent.sent() {
		if strings.Contains(r.Path, "/memberships") && r.Accept != advantage.MediaMembershipContainer {
			t.Errorf("membership request accepts %q", r.Accept)
		}
	}
	_, err = e.client.Members(context.Background(), e.reg, e.p.MembershipsURL(courseID), "rl-of-someone-else")
	var ae *advantage.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("unknown rlid: %v", err)
	}
}

func TestFailingPlatformIsSeenAsRetryableErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	publish := func() error { return e.client.PublishScore(ctx, e.reg, li.ID, score("amy", 1, time.Now())) }

	e.p.FailServices(ltiplatform.Fault{Status: http.StatusInternalServerError})
	err := publish()
	var ae *advantage.Error
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Op != "publish score" || !advantage.IsRetryable(err) {
		t.Errorf("500: %v", err)
	}

	e.p.FailServices(ltiplatform.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"})
	err = publish()
	if !errors.As(err, &ae) || ae.Status != 429 || ae.RetryAfter != 7*time.Second || !advantage.IsRetryable(err) {
		t.Errorf("429 with Retry-After 7: %v", err)
	}
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	e.p.FailServices(ltiplatform.Fault{Status: http.StatusTooManyRequests, RetryAfter: date})
	err = publish()
	if !errors.As(err, &ae) || ae.RetryAfter < 80*time.Second || ae.RetryAfter > 91*time.Second {
		t.Errorf("429 with Retry-After %s: %v", date, err)
	}

	// Two failures, then the platform recovers.
	e.p.FailServices(ltiplatform.Fault{Status: http.StatusServiceUnavailable, Count: 2})
	for i := range 2 {
		if err := publish(); !advantage.IsRetryable(err) {
			t.Errorf("attempt %d: %v, want retryable", i, err)
		}
	}
	must(t, publish())
	if _, on := e.p.ServiceFault(); on {
		t.Error("the fault outlived its count")
	}

	// Nobody answering at all.
	dead := e.reg
	dead.TokenURL = "http://127.0.0.1:1/token"
	dead.ID = "reg-dead"
	err = e.client.PublishScore(ctx, dead, li.ID, score("amy", 1, time.Now()))
	if !errors.As(err, &ae) || ae.Op != "token" || ae.Status != 0 || !advantage.IsRetryable(err) {
		t.Errorf("unreachable token endpoint: %v", err)
	}
}

func TestScopeTheToolMayNotUseIsRefused(t *testing.T) {
	e := newEnv(t)
	tool, err := e.p.Tool(clientID)
	must(t, err)
	tool.Scopes = []string{lti.AGSScopeScore}
	must(t, e.p.AddTool(tool))
	_, err = e.client.Members(context.Background(), e.reg, e.p.MembershipsURL(courseID), "")
	var ae *advantage.Error
	if !errors.As(err, &ae) || ae.Op != "token" || ae.Status != http.StatusBadRequest ||
		!strings.Contains(ae.Body, "invalid_scope") || advantage.IsRetryable(err) {
		t.Errorf("members without the NRPS scope: %v", err)
	}
}

func TestScoresToOnePlatformAreSerialWhenSentSerially(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	li := e.lineItem(t)
	e.p.SetServiceLatency(20 * time.Millisecond)
	e.p.ResetServiceStats()
	for _, u := range e.learners {
		must(t, e.client.PublishScore(ctx, e.reg, li.ID, score(u, 2, time.Now())))
	}
	if n := e.p.MaxConcurrentRequests(clientID); n != 1 {
		t.Errorf("high-water mark %d for serial calls, want 1", n)
	}
	var wg sync.WaitGroup
	for _, u := range e.learners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.client.PublishScore(ctx, e.reg, li.ID, score(u, 3, time.Now()))
		}()
	}
	wg.Wait()
	if n := e.p.MaxConcurrentRequests(clientID); n < 2 {
		t.Errorf("high-water mark %d for parallel calls: the platform does not see overlap", n)
	}
}

// What a platform grants shows in its token answer; the token source tells
// whoever listens.
func TestTokenAnswerTellsTheGrantedScopes(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var heard [][]string
	e.tokens.Granted = func(_ context.Context, reg lti.Registration, scopes []string) {
		mu.Lock()
		defer mu.Unlock()
		if reg.ID != e.reg.ID {
			t.Errorf("registration %q", reg.ID)
		}
		heard = append(heard, scopes)
	}
	if _, err := e.client.Members(context.Background(), e.reg, e.p.MembershipsURL(courseID), ""); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 1 || strings.Join(heard[0], " ") != lti.NRPSScopeMembershipReadOnly {
		t.Fatalf("heard %v", heard)
	}
}
