package activity_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/activity"
)

func TestDiscussionOptionsReadEveryFieldAndReportTheFirstInError(t *testing.T) {
	form := url.Values{"allow_anonymous": {"1"}, "credit": {"proportional"}, "min_threads": {"x"}, "min_replies": {"3"}, "min_upvotes": {"y"}}
	opts, err := activity.DefaultDiscussion.ReadForm(formValues(form))
	var bad *activity.InvalidSetting
	if !errors.As(err, &bad) || bad.Field != "min_threads" || bad.Err.Message != "Threads or questions started must be a whole number." {
		t.Fatalf("err = %v", err)
	}
	want := activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinReplies: 3}}
	if opts != want {
		t.Errorf("read %+v, want %+v", opts, want)
	}
}

func TestDiscussionOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		opts   activity.DiscussionOptions
		graded bool
		field  string
	}{
		{activity.DefaultDiscussion, false, ""},
		{activity.DefaultDiscussion, true, "min_threads"},
		{activity.DiscussionOptions{Credit: "all"}, false, "credit"},
		{activity.DiscussionOptions{Credit: activity.CreditFull, Rule: activity.CompletionRule{MinAccepted: 101}}, true, "min_accepted"},
		{activity.DiscussionOptions{Credit: activity.CreditFull, Rule: activity.CompletionRule{MinUpvotes: 2}}, true, ""},
	} {
		err := c.opts.Validate(c.graded)
		var bad *activity.InvalidSetting
		if got := ""; errors.As(err, &bad) {
			got = bad.Field
			if got != c.field {
				t.Errorf("%+v graded=%v: field %q, want %q", c.opts, c.graded, got, c.field)
			}
		} else if err != nil || c.field != "" {
			t.Errorf("%+v graded=%v: err %v, want field %q", c.opts, c.graded, err, c.field)
		}
	}
}

func TestStoredOptionsKeepDefaultsForWhatTheyDoNotSay(t *testing.T) {
	for doc, want := range map[string]activity.DiscussionOptions{
		"":                     activity.DefaultDiscussion,
		"{}":                   activity.DefaultDiscussion,
		`{"post_first": true}`: {AllowAnonymous: true, PostFirst: true, Credit: activity.CreditFull},
		`{"rule": {"min_replies": 2}, "credit": "proportional", "allow_anonymous": false}`: {Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinReplies: 2}},
	} {
		got, err := activity.Discussion.Decode([]byte(doc))
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", doc, got, err, want)
		}
	}
	if _, err := activity.Discussion.Decode([]byte("not json")); err == nil {
		t.Error("a document that is not JSON was read")
	}
}

func TestCompletionScore(t *testing.T) {
	rule := activity.CompletionRule{MinThreads: 1, MinReplies: 3}
	p := rule.Progress(activity.DiscussionCounts{Threads: 1, Replies: 1})
	full := activity.CompletionScore(10, false, p)
	part := activity.CompletionScore(10, true, p)
	if full.ScoreGiven != 0 || part.ScoreGiven != 6.67 || part.ActivityProgress != activity.ActivityInProgress ||
		part.Comment != "Roundtable: 1 of 1 threads started, 1 of 3 replies" {
		t.Errorf("in progress: full %+v, proportional %+v", full, part)
	}
	done := activity.CompletionScore(10, false, rule.Progress(activity.DiscussionCounts{Threads: 2, Replies: 3}))
	if done.ScoreGiven != 10 || done.GradingProgress != activity.GradingFullyGraded || done.Comment != "Roundtable: 1 of 1 threads started, 3 of 3 replies (complete)" {
		t.Errorf("complete: %+v", done)
	}
}

func TestRegistry(t *testing.T) {
	if k, ok := activity.Lookup(activity.KindQuestionBoard); !ok || k.DefaultTitle() != "Questions and answers" {
		t.Fatalf("question board: %v %v", k, ok)
	}
	withdraw := activity.Register(fakeKind{})
	if ks := activity.Kinds(); len(ks) != 3 || ks[2].Name() != "fake" {
		t.Errorf("kinds after registering: %v", ks)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a kind registered twice")
			}
		}()
		activity.Register(fakeKind{})
	}()
	withdraw()
	if _, ok := activity.Lookup("fake"); ok || len(activity.Kinds()) != 2 {
		t.Error("the withdrawn kind is still offered")
	}
}

// formValues are a form's values as a settings form reads them.
type formValues url.Values

func (f formValues) FormValue(name string) string { return url.Values(f).Get(name) }

type fakeKind struct{ activity.Kind }

func (fakeKind) Name() string { return "fake" }

// A launch and every activity page read the kind's options with the
// settings: their decoding is on that path.
func BenchmarkDecodeDiscussionOptions(b *testing.B) {
	doc := []byte(`{"allow_anonymous": false, "post_first": true, "rule": {"min_threads": 1, "min_replies": 2, "min_accepted": 0, "min_upvotes": 0}, "credit": "full"}`)
	for b.Loop() {
		if _, err := activity.Discussion.Decode(doc); err != nil {
			b.Fatal(err)
		}
	}
}
