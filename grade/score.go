// Package grade turns what learners do in an activity into the score the
// LMS gradebook shows, and delivers it without loss: the score owed is
// written with the action that causes it, and a durable job (River, on the
// same database) delivers it through LTI Assignment and Grade Services with
// backoff, one delivery at a time per LMS, until it lands or a person sees
// why it cannot.
package grade

import (
	"fmt"
	"math"
	"strings"

	"github.com/roundtable-lms/roundtable/course"
)

// AGS progress values.
const (
	ActivityInProgress = "InProgress"
	ActivityCompleted  = "Completed"
	GradingPending     = "Pending"
	GradingFullyGraded = "FullyGraded"
)

// Counts is what a learner has done in an activity that a completion rule
// can ask for, from the current state of the discussion: removed posts,
// posts moderators hid (and every post of a hidden thread), withdrawn
// votes, un-accepted answers and answers to one's own question do not
// count.
type Counts struct {
	Threads  int
	Replies  int
	Accepted int
	Upvotes  int
}

// Progress is a learner's standing against an activity's completion rule.
type Progress struct {
	Counts Counts
	Rule   course.CompletionRule
	// Items lists each minimum of the rule with what the learner has.
	Items     []ProgressItem
	Completed bool
	// Fraction is the share of the rule met, 0 to 1: the mean over the
	// rule's minimums of what is done, each capped at its minimum.
	Fraction float64
}

// ProgressItem is one minimum of a rule.
type ProgressItem struct {
	Label string
	Have  int
	Need  int
}

// Done reports whether this minimum is met.
func (i ProgressItem) Done() bool { return i.Have >= i.Need }

// Measure compares counts with a rule.
func Measure(rule course.CompletionRule, c Counts) Progress {
	p := Progress{Counts: c, Rule: rule}
	add := func(label string, have, need int) {
		if need > 0 {
			p.Items = append(p.Items, ProgressItem{Label: label, Have: have, Need: need})
		}
	}
	add("threads started", c.Threads, rule.MinThreads)
	add("replies", c.Replies, rule.MinReplies)
	add("accepted answers", c.Accepted, rule.MinAccepted)
	add("upvotes received", c.Upvotes, rule.MinUpvotes)
	if len(p.Items) == 0 {
		return p
	}
	p.Completed = true
	var sum float64
	for _, it := range p.Items {
		sum += math.Min(float64(it.Have)/float64(it.Need), 1)
		if !it.Done() {
			p.Completed = false
		}
	}
	p.Fraction = sum / float64(len(p.Items))
	return p
}

// Owed is the score an activity's settings give a learner's progress.
type Owed struct {
	ScoreGiven       float64
	ScoreMaximum     float64
	ActivityProgress string
	GradingProgress  string
	Comment          string
}

// Score is what the gradebook should show for p under st: full points on
// completion (0 before), or points in proportion to the share of the rule
// met; Completed and FullyGraded once the rule is met, InProgress and
// Pending before.
func Score(st course.Settings, p Progress) Owed {
	o := Owed{ScoreMaximum: float64(st.Points), ActivityProgress: ActivityInProgress, GradingProgress: GradingPending}
	if p.Completed {
		o.ActivityProgress, o.GradingProgress = ActivityCompleted, GradingFullyGraded
	}
	switch {
	case p.Completed:
		o.ScoreGiven = o.ScoreMaximum
	case st.Credit == course.CreditProportional:
		// Two decimals: gradebooks show no more, and equal inputs must
		// give equal scores so unchanged progress sends nothing.
		o.ScoreGiven = math.Round(o.ScoreMaximum*p.Fraction*100) / 100
	}
	parts := make([]string, len(p.Items))
	for i, it := range p.Items {
		parts[i] = fmt.Sprintf("%d of %d %s", min(it.Have, it.Need), it.Need, it.Label)
	}
	o.Comment = "Roundtable: " + strings.Join(parts, ", ")
	if p.Completed {
		o.Comment += " (complete)"
	}
	return o
}
