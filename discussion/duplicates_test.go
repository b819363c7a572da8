package discussion_test

import (
	"context"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Staff look for a duplicate's original by words of its title: any case,
// LIKE's wildcards taken as typed, within the viewer's space only.
func TestDuplicateCandidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, ines, olga := viewer("alice", "A", false), viewer("ines", "A", true), viewer("olga", "B", true)
		newThread := func(v discussion.Viewer, title string) string {
			t.Helper()
			id, err := s.CreateThread(ctx, v, discussion.ThreadInput{Kind: discussion.Question, Title: title, Body: "Body of " + title})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		original := newThread(alice, "Merge conflicts in week 2")
		percent := newThread(alice, "Is 100% of the grade the exam?")
		current := newThread(alice, "Another merge conflict")
		newThread(olga, "Merge conflicts elsewhere")
		titles := func(q string) []string {
			t.Helper()
			found, err := s.DuplicateCandidates(ctx, ines, current, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, f := range found {
				out = append(out, f.ID)
			}
			return out
		}
		if got := titles("MERGE"); len(got) != 1 || got[0] != original {
			t.Errorf("merge finds %v, want only the original", got)
		}
		if got := titles("100%"); len(got) != 1 || got[0] != percent {
			t.Errorf("100%% finds %v", got)
		}
		if got := titles("e_c"); len(got) != 0 {
			t.Errorf("an underscore is a wildcard: %v", got)
		}
		if got := titles("m"); len(got) != 0 {
			t.Errorf("one letter lists %v", got)
		}
		if _, err := s.DuplicateCandidates(ctx, alice, current, "merge"); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("a learner searches for duplicates: %v", err)
		}
	})
}
