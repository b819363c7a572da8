package discussion_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// BenchmarkReads measures the list and thread reads the pages make, on a
// space of 1,000 threads with a 100-post thread among them:
//
//	TEST_DATABASE_URL=... go test ./discussion -run XXX -bench Reads -benchtime 2s
func BenchmarkReads(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			db := storetest.Open(b, kind)
			ctx := context.Background()
			s := discussion.NewStore(db)
			s.PostsPerMinute = 0
			vs := []discussion.Viewer{viewer("a", "A", false), viewer("b", "A", false), viewer("c", "A", false)}
			var big string
			for i := 0; i < 1000; i++ {
				id, err := s.CreateThread(ctx, vs[i%3], discussion.ThreadInput{Kind: discussion.Question, Title: fmt.Sprintf("Thread %d", i), Body: "Some **Markdown** text of a typical length for a question body.", Tags: "x"})
				if err != nil {
					b.Fatal(err)
				}
				if i == 500 {
					big = id
				}
			}
			for i := 0; i < 99; i++ {
				if _, err := s.Reply(ctx, vs[i%3], big, discussion.ReplyInput{Body: "A reply of a typical length, with `code` and a [link](https://example.com)."}); err != nil {
					b.Fatal(err)
				}
			}
			// As autovacuum would, give the planner its statistics.
			if err := db.Exec("ANALYZE").Error; err != nil {
				b.Fatal(err)
			}
			b.Run("list", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.List(ctx, vs[0], discussion.ListQuery{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("thread-100-posts", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Thread(ctx, vs[0], big); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReadsAtScale measures the store's reads, one at a time, on the
// space of a large course (discussiontest.Large: 1,000 threads, 100,000
// posts); the pages' own times, templates included and under concurrent
// load, are web's BenchmarkDiscussionAtScale:
//
//	TEST_DATABASE_URL=... go test ./discussion -run '^$' -bench ReadsAtScale
func BenchmarkReadsAtScale(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			db := storetest.Open(b, kind)
			ctx := context.Background()
			sp, err := discussiontest.NewSpace(ctx, db, 1)
			if err != nil {
				b.Fatal(err)
			}
			f, err := discussiontest.Seed(ctx, db, sp, discussiontest.Large)
			if err != nil {
				b.Fatal(err)
			}
			s := discussion.NewStore(db)
			v := discussion.Viewer{SpaceID: f.Space.SpaceID, OrgID: sp.OrgID, CourseID: sp.CourseID, LinkID: sp.LinkID, CohortID: sp.CohortID, UserID: sp.Viewers[0]}
			for _, r := range []struct {
				name string
				read func() error
			}{
				{"list", func() error { _, err := s.List(ctx, v, discussion.ListQuery{}); return err }},
				{"list-tag", func() error { _, err := s.List(ctx, v, discussion.ListQuery{Tag: f.Tag}); return err }},
				{"thread-100-posts", func() error { _, err := s.Thread(ctx, v, f.Hundred); return err }},
				{"standing", func() error { _, err := s.Standing(ctx, v); return err }},
				{"search", func() error { _, err := s.Search(ctx, v, f.SearchWord, discussion.DefaultSearch); return err }},
				{"similar", func() error { _, err := s.Similar(ctx, v, f.SearchWords, discussion.MaxSimilar); return err }},
			} {
				b.Run(r.name, func(b *testing.B) {
					for b.Loop() {
						if err := r.read(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
