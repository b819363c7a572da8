package discussion_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// A word finds its other forms, both ways, on both databases.
func TestSearchFindsAWordsOtherForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice := viewer("alice", "A", false)
		posts := map[string]string{}
		for _, body := range []string{"How do I merge two branches?", "Merging broke my build.", "I merged it yesterday.", "Nothing to see."} {
			id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Git question " + strings.Fields(body)[0], Body: body})
			if err != nil {
				t.Fatal(err)
			}
			posts[body] = id
		}
		want := []string{posts["How do I merge two branches?"], posts["Merging broke my build."], posts["I merged it yesterday."]}
		slices.Sort(want)
		for _, q := range []string{"merge", "merging", "merged", "MERGES"} {
			res, err := s.Search(ctx, alice, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				got = append(got, r.ThreadID)
				if !strings.Contains(marked(r.Snippet), "[") {
					t.Errorf("%q: the match is not marked in %q", q, marked(r.Snippet))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("search %q found %v, want the three posts with a form of merge %v", q, got, want)
			}
		}
		// Common words are no words to search for: they neither narrow
		// a search nor match alone.
		if res, err := s.Search(ctx, alice, "the merging", 10); err != nil || len(res) != 3 {
			t.Errorf("search with a common word: %d results, %v", len(res), err)
		}
		if res, err := s.Search(ctx, alice, "the it", 10); err != nil || len(res) != 0 {
			t.Errorf("search for common words alone: %+v, %v", res, err)
		}
	})
}

// Excerpts are the text readers see, not the Markdown that wrote it, and
// the markup is not searched.
func TestSearchExcerptsArePlainText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice := viewer("alice", "A", false)
		body := "**bold** [x](http://e.x) and `inline` code\n\n```go\nfenced := true\n```\n\n> quoted _emphasis_ here"
		th, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Formatting in posts", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Search(ctx, alice, "bold", 10)
		if err != nil || len(res) != 1 || res[0].ThreadID != th {
			t.Fatalf("search: %+v %v", res, err)
		}
		snippet := marked(res[0].Snippet)
		if !strings.Contains(snippet, "[bold] x and inline code") {
			t.Errorf("excerpt %q lacks the plain text", snippet)
		}
		for _, markup := range []string{"**", "](", "```", "`", "> ", "_emphasis_", "http://e.x"} {
			if strings.Contains(snippet, markup) {
				t.Errorf("excerpt %q shows the markup %q", snippet, markup)
			}
		}
		// The text of a fence and a quote is there; a link's address is not.
		for q, want := range map[string]int{"fenced": 1, "emphasis": 1, "http": 0} {
			if res, err := s.Search(ctx, alice, q, 10); err != nil || len(res) != want {
				t.Errorf("search %q: %d results, want %d (%v)", q, len(res), want, err)
			}
		}
		// An edit writes the new text; removing a post removes its text.
		if err := s.Edit(ctx, alice, mustOpening(t, s, alice, th), "", "__Renamed__ words"); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Search(ctx, alice, "renamed", 10); len(res) != 1 || strings.Contains(marked(res[0].Snippet), "__") {
			t.Errorf("after the edit: %+v", res)
		}
		if res, _ := s.Search(ctx, alice, "bold", 10); len(res) != 0 {
			t.Errorf("the text before the edit is still found: %+v", res)
		}
	})
}

// Posts written before Roundtable kept their text are searched by their
// Markdown until FillBodyText writes it, once.
func TestFillBodyText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice := viewer("alice", "A", false)
		th, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Older post", Body: "**Merging** [notes](http://e.x)"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Newer post", Body: "Plain words"}); err != nil {
			t.Fatal(err)
		}
		// As migration 00032 leaves a post written before it.
		if err := db.Exec(`UPDATE posts SET body_text = NULL WHERE id = ?`, mustOpening(t, s, alice, th)).Error; err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Search(ctx, alice, "merge", 10); len(res) != 1 || !strings.Contains(marked(res[0].Snippet), "**") {
			t.Fatalf("before the fill, the Markdown stands in: %+v", res)
		}
		n, err := s.FillBodyText(ctx)
		if err != nil || n != 1 {
			t.Fatalf("fill: %d posts, %v; want 1", n, err)
		}
		res, _ := s.Search(ctx, alice, "merge", 10)
		if len(res) != 1 || marked(res[0].Snippet) != "[Merging] notes" {
			t.Errorf("after the fill: %+v", res)
		}
		if n, err := s.FillBodyText(ctx); err != nil || n != 0 {
			t.Errorf("a second fill wrote %d posts, %v", n, err)
		}
	})
}

// Suggestions while someone writes a question: questions only, sharing at
// least half of its words that are not common ones, answered first.
func TestSimilarQuestions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice, bob := viewer("alice", "A", false), viewer("bob", "A", false)
		create := func(kind, title, body string) string {
			t.Helper()
			id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: kind, Title: title, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		// The unanswered question shares more words than the answered one,
		// which still comes first.
		unanswered := create(discussion.Question, "Merge conflict in my lab notebook", "How do I resolve it? Git says both modified.")
		answered := create(discussion.Question, "Resolving a merging conflict", "Git stopped me.")
		// One word in common out of six.
		create(discussion.Question, "Notebook kernel keeps dying", "It restarts every minute.")
		// The same words, but not a question.
		create(discussion.Discussion, "Merge conflicts in notebooks: share your stories", "Resolve them together.")
		create(discussion.Question, "Exam date", "When is it?")
		reply, err := s.Reply(ctx, bob, answered, discussion.ReplyInput{Body: "Open the file and pick a side."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(ctx, alice, reply); err != nil {
			t.Fatal(err)
		}

		got, err := s.Similar(ctx, bob, "How do I resolve a merge conflict in my notebook?", 5)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if want := []string{answered, unanswered}; !slices.Equal(ids, want) {
			t.Errorf("suggested %v (%+v), want the answered question then the other %v", ids, got, want)
		}
		if len(got) == 2 && (!got[0].Answered || got[1].Answered || got[0].Kind != discussion.Question) {
			t.Errorf("suggestions: %+v", got)
		}
		// While the last word is being typed.
		if got, _ := s.Similar(ctx, bob, "merge confl", 5); len(got) != 2 {
			t.Errorf("a half-typed title suggests %+v", got)
		}
		// Common words alone suggest nothing.
		if got, _ := s.Similar(ctx, bob, "how do I do it", 5); len(got) != 0 {
			t.Errorf("common words suggest %+v", got)
		}
	})
}
