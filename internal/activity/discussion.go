package activity

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// The discussion kinds: a cohort's discussion, and a question board (the
// same engine offering questions only). Both have the options of
// DiscussionOptions. They live here, not in package discussion, because
// every activity nobody has set up yet is a discussion: the course model
// needs their defaults without depending on the discussion engine.

// Names of the discussion kinds.
const (
	KindDiscussion    = "discussion"
	KindQuestionBoard = "question_board"
)

// Credit says how a graded discussion's score follows its completion rule.
const (
	CreditFull         = "full"
	CreditProportional = "proportional"
)

// MaxRuleMinimum bounds each minimum of a completion rule.
const MaxRuleMinimum = 100

// The discussion kinds, registered from the start.
var (
	Discussion Kind = discussionKind{name: KindDiscussion,
		label: "A discussion: learners start questions and discussions", title: "Cohort discussion"}
	QuestionBoard Kind = discussionKind{name: KindQuestionBoard,
		label: "A question board: learners ask questions others answer", title: "Questions and answers"}
)

type discussionKind struct{ name, label, title string }

func (k discussionKind) Name() string         { return k.name }
func (k discussionKind) Label() string        { return k.label }
func (k discussionKind) DefaultTitle() string { return k.title }
func (discussionKind) Form() string           { return "discussion" }

func (discussionKind) Options(prev Options) Options {
	if d, ok := prev.(DiscussionOptions); ok {
		return d
	}
	return DefaultDiscussion
}

func (discussionKind) Decode(doc []byte) (Options, error) { return DecodeJSON(doc, DefaultDiscussion) }

// DiscussionOptions are a discussion's own settings. The discussion engine
// reads post_first and allow_anonymous from the stored document in its
// queries (package discussion, rules.go).
type DiscussionOptions struct {
	// AllowAnonymous lets learners post anonymously to each other.
	AllowAnonymous bool `json:"allow_anonymous"`
	// PostFirst hides others' threads from a learner until they have
	// posted one of their own (reflection prompts).
	PostFirst bool           `json:"post_first"`
	Rule      CompletionRule `json:"rule"`
	Credit    string         `json:"credit"`
}

// DefaultDiscussion are the options of a discussion nobody set up:
// anonymity allowed, no completion rule, full points on completion.
var DefaultDiscussion = DiscussionOptions{AllowAnonymous: true, Credit: CreditFull}

// RuleField is one minimum of a completion rule on the settings form: its
// field name and label.
type RuleField struct{ Name, Label string }

// RuleFields are the completion rule's minimums, in the form's order.
var RuleFields = []RuleField{{"min_threads", "Threads or questions started"}, {"min_replies", "Replies"},
	{"min_accepted", "Accepted answers"}, {"min_upvotes", "Upvotes received"}}

func (r *CompletionRule) minimum(field string) *int {
	switch field {
	case "min_threads":
		return &r.MinThreads
	case "min_replies":
		return &r.MinReplies
	case "min_accepted":
		return &r.MinAccepted
	}
	return &r.MinUpvotes
}

// Minimum is the rule's minimum of a form field (min_threads,
// min_replies, min_accepted or min_upvotes), for the form to show.
func (d DiscussionOptions) Minimum(field string) int { return *d.Rule.minimum(field) }

// ReadForm reads the posting checkboxes, the rule's minimums and the
// credit. An unticked checkbox is false; an empty minimum keeps its value.
func (d DiscussionOptions) ReadForm(f Form) (Options, error) {
	d.AllowAnonymous = f.FormValue("allow_anonymous") == "1"
	d.PostFirst = f.FormValue("post_first") == "1"
	d.Credit = f.FormValue("credit")
	var bad error
	for _, m := range RuleFields {
		ReadNumber(f, m.Name, m.Label, d.Rule.minimum(m.Name), &bad)
	}
	return d, bad
}

// Validate checks the credit and the rule, which a graded discussion needs.
func (d DiscussionOptions) Validate(graded bool) error {
	if d.Credit != CreditFull && d.Credit != CreditProportional {
		return Invalid("credit", "Choose full points on completion or proportional credit.")
	}
	for _, m := range RuleFields {
		if n := *d.Rule.minimum(m.Name); n < 0 || n > MaxRuleMinimum {
			return Invalid(m.Name, "Each completion minimum must be between 0 and %d.", MaxRuleMinimum)
		}
	}
	if graded && d.Rule.Empty() {
		return Invalid("min_threads", "A graded activity needs a completion rule: ask for at least one thread, reply, accepted answer or upvote.")
	}
	return nil
}

func (d DiscussionOptions) Grading() Grading {
	return Grading{Needs: d.Rule.Describe(), Proportional: d.Credit == CreditProportional}
}

// CompletionRule is what a learner must do to complete a discussion; every
// non-zero minimum must be met. A rule of all zeros asks nothing.
type CompletionRule struct {
	MinThreads  int `json:"min_threads"`
	MinReplies  int `json:"min_replies"`
	MinAccepted int `json:"min_accepted"`
	MinUpvotes  int `json:"min_upvotes"`
}

// Empty reports whether the rule asks for nothing.
func (r CompletionRule) Empty() bool {
	return r.MinThreads == 0 && r.MinReplies == 0 && r.MinAccepted == 0 && r.MinUpvotes == 0
}

// Describe says what the rule asks in words, for instance "1 thread
// started, 2 replies and 1 accepted answer"; empty for an empty rule.
func (r CompletionRule) Describe() string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(r.MinThreads, "thread started", "threads started")
	add(r.MinReplies, "reply", "replies")
	add(r.MinAccepted, "accepted answer", "accepted answers")
	add(r.MinUpvotes, "upvote received", "upvotes received")
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// What counts toward a discussion's completion, as conditions on a post p
// joined with its thread t: the discussion as it stands. The participation
// table (package discussion), learners' progress and the scores sent to
// the LMS all count with them, so they never disagree.
const (
	// Counted is a post neither removed nor hidden by moderators, in a
	// thread that is not hidden: it counts as a thread (opening) or a
	// reply, and its upvotes count.
	Counted = `(p.deleted = FALSE AND p.hidden = FALSE AND t.hidden = FALSE)`
	// AcceptedAnswer is a post that is its question's accepted answer and
	// was given by someone other than the person who asked.
	AcceptedAnswer = `(t.accepted_post_id = p.id AND p.author_id <> t.author_id)`
)

// DiscussionCounts is what a learner has done in a discussion that a
// completion rule can ask for: removed posts, posts moderators hid (and
// every post of a hidden thread), withdrawn votes, un-accepted answers and
// answers to one's own question do not count.
type DiscussionCounts struct {
	Threads  int
	Replies  int
	Accepted int
	Upvotes  int
}

// CountDiscussion reads what a learner did in a discussion, in one
// statement.
func CountDiscussion(ctx context.Context, db *gorm.DB, a Ref, userID string) (DiscussionCounts, error) {
	var c DiscussionCounts
	err := db.WithContext(ctx).Raw(`SELECT
			COALESCE(SUM(CASE WHEN p.opening THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN p.opening THEN 0 ELSE 1 END), 0),
			COALESCE(SUM(CASE WHEN `+AcceptedAnswer+` THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(p.vote_count), 0)
		FROM posts p JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
		WHERE p.org_id = ? AND p.author_id = ? AND p.link_id = ? AND `+Counted, a.OrgID, userID, a.LinkID).Row().
		Scan(&c.Threads, &c.Replies, &c.Accepted, &c.Upvotes)
	if err != nil {
		return c, fmt.Errorf("count participation: %w", err)
	}
	return c, nil
}

// Progress compares counts with the rule: one item per minimum it asks.
func (r CompletionRule) Progress(c DiscussionCounts) Progress {
	var items []Item
	add := func(label string, have, need int) {
		if need > 0 {
			items = append(items, Item{Label: label, Have: have, Need: need})
		}
	}
	add("threads started", c.Threads, r.MinThreads)
	add("replies", c.Replies, r.MinReplies)
	add("accepted answers", c.Accepted, r.MinAccepted)
	add("upvotes received", c.Upvotes, r.MinUpvotes)
	return MeasureItems(items)
}

// Learners are those who posted in the discussion.
func (d DiscussionOptions) Learners(ctx context.Context, db *gorm.DB, a Ref) ([]string, error) {
	var users []string
	err := db.WithContext(ctx).Raw(`SELECT DISTINCT author_id FROM posts WHERE org_id = ? AND link_id = ?`, a.OrgID, a.LinkID).
		Scan(&users).Error
	if err != nil {
		return nil, fmt.Errorf("list the discussion's authors: %w", err)
	}
	return users, nil
}

func (d DiscussionOptions) Measure(ctx context.Context, db *gorm.DB, a Ref, userID string) (Progress, error) {
	c, err := CountDiscussion(ctx, db, a, userID)
	if err != nil {
		return Progress{}, err
	}
	return d.Rule.Progress(c), nil
}

func (d DiscussionOptions) Owe(points int, p Progress) Owed {
	return CompletionScore(points, d.Credit == CreditProportional, p)
}
