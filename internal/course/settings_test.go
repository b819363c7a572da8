package course_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestSettingsDefaultsSaveAndValidate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		cs := course.NewStore(db)
		var rec course.Recorded
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			rec, err = cs.RecordLaunch(ctx, tx, course.LaunchInput{OrgID: "p1", PlatformID: "p1", Issuer: "https://lms.example", DeploymentID: "d1", Subject: "s1",
				ContextID: "ctx", ResourceLinkID: "rl1", Roles: course.Roles{course.Instructor}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		st, err := cs.Settings(ctx, "p1", rec.Link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Configured || st.Kind != activity.KindDiscussion || st.CohortPolicy != course.CohortCourse || !st.Options.(activity.DiscussionOptions).AllowAnonymous || st.Graded {
			t.Fatalf("defaults = %+v", st)
		}

		bad := st
		bad.Graded = true
		err = db.Tx(ctx, func(tx *gorm.DB) error { return cs.SaveSettings(ctx, tx, bad) })
		if roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Fatalf("graded without a rule: err = %v, want EINVALID", err)
		}

		rule := activity.CompletionRule{MinThreads: 1, MinReplies: 2}
		st.Graded, st.Points = true, 20
		st.CohortPolicy, st.GroupSize = course.CohortGroups, 8
		st.Options = activity.DiscussionOptions{AllowAnonymous: false, PostFirst: true, Credit: activity.CreditProportional, Rule: rule}
		st.UpdatedBy = rec.User.ID
		if err := db.Tx(ctx, func(tx *gorm.DB) error { return cs.SaveSettings(ctx, tx, st) }); err != nil {
			t.Fatal(err)
		}
		got, err := cs.Settings(ctx, "p1", rec.Link.ID)
		if err != nil {
			t.Fatal(err)
		}
		opts := got.Options.(activity.DiscussionOptions)
		if !got.Configured || !got.Graded || got.Points != 20 || opts.Rule != rule || got.CohortPolicy != course.CohortGroups ||
			got.GroupSize != 8 || opts.AllowAnonymous || !opts.PostFirst || opts.Credit != activity.CreditProportional {
			t.Fatalf("saved = %+v", got)
		}
	})
}
