package course_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func addPlatform(t *testing.T, db *store.DB, id string) {
	t.Helper()
	storetest.AddPlatform(t, db, id, "https://"+id+".example")
}

func openRequest(t *testing.T, db *store.DB, cs *course.Store, r course.PlacementRequest) string {
	t.Helper()
	var secret string
	err := db.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		secret, err = cs.OpenPlacementRequest(context.Background(), tx, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func graded() course.Settings {
	st := course.DefaultSettings("", "")
	st.Kind, st.Graded, st.Points, st.Options, st.Instructions = activity.KindQuestionBoard, true, 20, activity.DiscussionOptions{AllowAnonymous: true,
		Credit: activity.CreditFull, Rule: activity.CompletionRule{MinReplies: 2}}, "Ask one question."
	return st
}

func TestPlacementRequestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addPlatform(t, db, "p1")
		addPlatform(t, db, "p2")
		cs := course.NewStore(db)
		req := course.PlacementRequest{PlatformID: "p1", DeploymentID: "d1", ContextKey: "ctx-1", ContextTitle: "History", Subject: "ines",
			UserName: "Ines", ReturnURL: "https://p1.example/return", Data: "opaque", AcceptTypes: []string{"ltiResourceLink", "link"},
			AcceptTargets: []string{"iframe"}, AcceptMultiple: true, AcceptLineItem: true, AutoCreate: true, Title: "Pick", Text: "Week 2"}
		secret := openRequest(t, db, cs, req)
		got, err := cs.PlacementRequest(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if got.ReturnURL != req.ReturnURL || got.Data != "opaque" || len(got.AcceptTypes) != 2 || got.AcceptTargets[0] != "iframe" ||
			!got.AcceptMultiple || !got.AcceptLineItem || !got.AutoCreate || got.Subject != "ines" || got.ContextTitle != "History" || len(got.Placed) != 0 {
			t.Fatalf("request %+v", got)
		}
		if _, err := cs.PlacementRequest(ctx, "made-up"); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("made-up secret: %v", err)
		}

		// Invalid choices are refused with a message and store nothing.
		for _, bad := range []course.Placement{
			{Title: "  ", Settings: course.DefaultSettings("", "")},
			{Title: "Graded without a rule", Settings: func() course.Settings { s := graded(); s.Options = activity.DefaultDiscussion; return s }()},
			{Title: "Unknown kind", Settings: func() course.Settings { s := graded(); s.Kind = "quiz"; return s }()},
		} {
			if _, err := cs.AddPlacement(ctx, secret, bad); roundtable.ErrorCode(err) != roundtable.EINVALID {
				t.Errorf("%q: %v", bad.Title, err)
			}
		}

		first, err := cs.AddPlacement(ctx, secret, course.Placement{Title: " Week 2 questions ", Settings: graded()})
		if err != nil {
			t.Fatal(err)
		}
		second, err := cs.AddPlacement(ctx, secret, course.Placement{Title: "Week 2 discussion", Settings: course.DefaultSettings("", "")})
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == "" || first.ID == second.ID || first.Title != "Week 2 questions" || first.CreatedBy != "ines" || first.PlatformID != "p1" {
			t.Fatalf("placements %+v %+v", first, second)
		}
		p, err := cs.Placement(ctx, "p1", first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Settings.Kind != activity.KindQuestionBoard || !p.Settings.Graded || p.Settings.Points != 20 || p.Settings.Options.(activity.DiscussionOptions).Rule.MinReplies != 2 ||
			p.Settings.Instructions != "Ask one question." || p.ContextKey != "ctx-1" || p.DeploymentID != "d1" {
			t.Errorf("stored placement %+v", p)
		}
		// Scoped to its platform.
		if _, err := cs.Placement(ctx, "p2", first.ID); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("another platform reads the placement: %v", err)
		}

		done, placed, err := cs.FinishPlacementRequest(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if done.ReturnURL != req.ReturnURL || len(placed) != 2 || placed[0].ID != first.ID || placed[1].ID != second.ID {
			t.Fatalf("finished %+v with %+v", done, placed)
		}
		// Single use.
		if _, _, err := cs.FinishPlacementRequest(ctx, secret); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("finished twice: %v", err)
		}
		if _, err := cs.AddPlacement(ctx, secret, course.Placement{Title: "Late", Settings: graded()}); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("placed after finishing: %v", err)
		}
		if err := cs.DeletePlacements(ctx, "p1", []string{second.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Placement(ctx, "p1", second.ID); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("deleted placement still read: %v", err)
		}
	})
}

// A request that takes one item keeps the latest choice only, and an
// expired request is gone.
func TestPlacementRequestSingleItemAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addPlatform(t, db, "p1")
		cs := course.NewStore(db)
		now := time.Now()
		cs.Now = func() time.Time { return now }
		secret := openRequest(t, db, cs, course.PlacementRequest{PlatformID: "p1", DeploymentID: "d1", Subject: "ines", ReturnURL: "https://p1.example/r"})
		cs.AddPlacement(ctx, secret, course.Placement{Title: "One", Settings: course.DefaultSettings("", "")})
		two, err := cs.AddPlacement(ctx, secret, course.Placement{Title: "Two", Settings: course.DefaultSettings("", "")})
		if err != nil {
			t.Fatal(err)
		}
		r, err := cs.PlacementRequest(ctx, secret)
		if err != nil || len(r.Placed) != 1 || r.Placed[0] != two.ID {
			t.Fatalf("placed %v %v", r.Placed, err)
		}
		now = now.Add(course.PlacementRequestTTL + time.Second)
		if _, err := cs.PlacementRequest(ctx, secret); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Errorf("expired request: %v", err)
		}
		if n, err := cs.DeleteExpiredPlacementRequests(ctx); err != nil || n != 1 {
			t.Errorf("deleted %d, %v", n, err)
		}
		var missing course.PlacementRequest
		if err := db.Tx(ctx, func(tx *gorm.DB) error { _, err := cs.OpenPlacementRequest(ctx, tx, missing); return err }); roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Errorf("empty request stored: %v", err)
		}
	})
}

// Choices added at the same moment are all kept.
func TestAddPlacementConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addPlatform(t, db, "p1")
		cs := course.NewStore(db)
		secret := openRequest(t, db, cs, course.PlacementRequest{PlatformID: "p1", DeploymentID: "d1", Subject: "ines",
			ReturnURL: "https://p1.example/r", AcceptMultiple: true})
		const n = 6
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := cs.AddPlacement(ctx, secret, course.Placement{Title: "Activity " + string(rune('A'+i)), Settings: course.DefaultSettings("", "")})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		_, placed, err := cs.FinishPlacementRequest(ctx, secret)
		if err != nil || len(placed) != n {
			t.Fatalf("%d placements kept of %d (%v)", len(placed), n, err)
		}
	})
}

// A placement is adopted only in its deployment, and there only in its own
// course or one the LMS says was copied from it; an LMS that says nothing
// of copies leaves every course of the deployment a possible copy.
func TestPlacementAdoptableOnlyWhereItWasMade(t *testing.T) {
	p := course.Placement{DeploymentID: "d1", ContextKey: "course-a"}
	launch := func(deployment, context string, custom map[string]string) course.LaunchInput {
		return course.LaunchInput{DeploymentID: deployment, ContextID: context, Custom: custom}
	}
	history := func(v string) map[string]string { return map[string]string{course.ContextHistoryParam: v} }
	for _, tc := range []struct {
		name string
		in   course.LaunchInput
		want bool
	}{
		{"its course", launch("d1", "course-a", nil), true},
		{"its course, history sent", launch("d1", "course-a", history("")), true},
		{"another deployment", launch("d2", "course-a", nil), false},
		{"another deployment, history naming it", launch("d2", "course-b", history("course-a")), false},
		{"a copy the LMS reports", launch("d1", "course-b", history("course-a")), true},
		{"a copy of a copy", launch("d1", "course-c", history(" course-b , course-a ")), true},
		{"another course, the LMS reports no copy", launch("d1", "course-b", history("")), false},
		{"another course copied from elsewhere", launch("d1", "course-b", history("course-x,course-y")), false},
		{"a history the LMS cut short", launch("d1", "course-b", history("course-x,truncated")), true},
		{"an LMS that does not substitute the variable", launch("d1", "course-b", history("$Context.id.history")), true},
		{"an LMS that sends no history", launch("d1", "course-b", nil), true},
		{"no course at all", launch("d1", "", history("")), false},
	} {
		if got := p.AdoptableBy(tc.in); got != tc.want {
			t.Errorf("%s: adoptable %v, want %v", tc.name, got, tc.want)
		}
	}
}
