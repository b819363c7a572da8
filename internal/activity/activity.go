// Package activity holds the kinds of activity instructors place in a
// course (discussion, question board; peer review and playlists next).
// A kind owns its settings (Options: read from the settings form,
// validated, stored as a typed JSON document beside the settings every
// activity shares), its completion measure (what a learner has done and
// still owes) and the score that gives. The deep-linking chooser, the
// settings page, the progress panel and grade computation ask the kind;
// adding a kind is writing one and registering it:
//
//   - a Kind and its Options type (a plain struct, JSON-encoded) in the
//     kind's package (peer review: package peerreview), passed to
//     Register when Roundtable starts;
//   - its settings fields as templ components in the web layer
//     (internal/web/kind_<form>.templ): its own fieldsets and its fields
//     inside the grading fieldset, either optional, registered by its
//     form's name beside them (registerKindForm);
//   - tables of its own for what is not a setting (a rubric's criteria,
//     submissions, reviews), read by its Measure.
//
// Options are a document rather than a table per kind because they travel
// with the settings every activity has in the one-row reads of a launch,
// of every activity page and of a score's recomputation, and are copied
// whole from a deep-linking placement to the link that adopts it; a table
// per kind would add a read (or a join per kind) to each of those.
package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// Kind is one kind of activity instructors can place.
type Kind interface {
	// Name is the kind's stored name (the settings' kind column and the
	// forms' kind value).
	Name() string
	// Label is the choice's text in the settings fields and the chooser.
	Label() string
	// DefaultTitle names a new activity of this kind in the chooser.
	DefaultTitle() string
	// Form names the kind's own fields on the settings form, a template
	// of the web layer; kinds with the same fields share a name.
	Form() string
	// Options are the options of an activity that becomes of this kind
	// and had prev (nil for a new activity): prev when this kind's
	// options are of its type, else this kind's defaults.
	Options(prev Options) Options
	// Decode reads options stored as doc (their JSON encoding; empty or
	// "{}" for the defaults).
	Decode(doc []byte) (Options, error)
}

// Options are a kind's own settings. Their JSON encoding is what is
// stored; they are values, copied with the settings that hold them.
type Options interface {
	// ReadForm returns the options with the kind's fields of the settings
	// form read in. Every field is read even when one is in error (an
	// *InvalidSetting), so the form can show back what was sent.
	ReadForm(f Form) (Options, error)
	// Validate checks the options as staff set them, knowing whether the
	// activity is graded; the error is an *InvalidSetting.
	Validate(graded bool) error
	// Grading says what completes the activity and how it scores.
	Grading() Grading
	// Learners lists those who did something the completion measure
	// counts in the activity, the ones a change of settings may re-score.
	Learners(ctx context.Context, db *gorm.DB, a Ref) ([]string, error)
	// Measure is a learner's standing against the completion measure,
	// from the activity as it stands; one statement.
	Measure(ctx context.Context, db *gorm.DB, a Ref, userID string) (Progress, error)
	// Owe is the score a learner's progress earns of points.
	Owe(points int, p Progress) Owed
}

// Form is what a settings form sends: echo.Context and *http.Request
// read one value of it so.
type Form interface {
	FormValue(name string) string
}

// Ref names an activity: its LMS platform and resource link.
type Ref struct {
	OrgID  string
	LinkID string
}

// Grading is how an activity's options grade, for the pages that explain
// it to instructors and learners.
type Grading struct {
	// Needs says in words what completes the activity, for instance "1
	// thread started and 2 replies"; empty when the options ask nothing,
	// and the activity then has no completion measure and is never scored.
	Needs string
	// Proportional gives points in proportion to the share of the measure
	// met; otherwise all the points come on completion.
	Proportional bool
}

// Measured reports whether the activity has a completion measure.
func (g Grading) Measured() bool { return g.Needs != "" }

// Progress is a learner's standing against an activity's completion
// measure.
type Progress struct {
	// Items lists each part of the measure with what the learner has.
	Items     []Item
	Completed bool
	// Fraction is the share of the measure met, 0 to 1.
	Fraction float64
	// Score is the grade a kind computes itself, 0 to 1, where its grade is
	// more than completion (peer review: the reviews' verdict); Final says
	// the kind's grading of it is over (peer review: results released).
	Score float64
	Final bool
}

// Item is one part of a completion measure: at least Need of Label.
type Item struct {
	Label string
	Have  int
	Need  int
}

// Done reports whether this part is met.
func (i Item) Done() bool { return i.Have >= i.Need }

// AGS progress values.
const (
	ActivityInProgress = "InProgress"
	ActivityCompleted  = "Completed"
	GradingPending     = "Pending"
	GradingFullyGraded = "FullyGraded"
)

// Owed is the score a learner's progress earns: what the LMS gradebook
// should show.
type Owed struct {
	ScoreGiven       float64
	ScoreMaximum     float64
	ActivityProgress string
	GradingProgress  string
	Comment          string
}

// MeasureItems completes p from its items: completed when every one is
// met, and the fraction the mean over them of what is done, each capped
// at its need. No items is no measure: neither complete nor begun.
func MeasureItems(items []Item) Progress {
	p := Progress{Items: items}
	if len(items) == 0 {
		return p
	}
	p.Completed = true
	var sum float64
	for _, it := range items {
		sum += math.Min(float64(it.Have)/float64(it.Need), 1)
		if !it.Done() {
			p.Completed = false
		}
	}
	p.Fraction = sum / float64(len(items))
	return p
}

// CompletionScore is the score of a completion measure: full points on
// completion (0 before), or points in proportion to the share met when
// proportional; Completed and FullyGraded once complete, InProgress and
// Pending before. The comment lists each item.
func CompletionScore(points int, proportional bool, p Progress) Owed {
	o := Owed{ScoreMaximum: float64(points), ActivityProgress: ActivityInProgress, GradingProgress: GradingPending}
	if p.Completed {
		o.ActivityProgress, o.GradingProgress = ActivityCompleted, GradingFullyGraded
	}
	switch {
	case p.Completed:
		o.ScoreGiven = o.ScoreMaximum
	case proportional:
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

// InvalidSetting is a setting staff must correct: the message, and the
// form field it is about.
type InvalidSetting struct {
	Field string
	Err   *roundtable.Error
}

func (e *InvalidSetting) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InvalidSetting) Unwrap() error { return e.Err }

// Invalid is an *InvalidSetting of field with a message for staff.
func Invalid(field, format string, args ...any) error {
	return &InvalidSetting{Field: field, Err: roundtable.Errorf(roundtable.EINVALID, format, args...)}
}

// ReadNumber reads the whole number field of f into n, labelled label in
// the error that says it is not one. A field left empty keeps n. The
// first error is kept in *bad, so a form reports its first field in
// error while every field is still read.
func ReadNumber(f Form, field, label string, n *int, bad *error) {
	raw := strings.TrimSpace(f.FormValue(field))
	if raw == "" {
		return
	}
	v, err := strconv.Atoi(raw)
	if err != nil {
		if *bad == nil {
			*bad = Invalid(field, "%s must be a whole number.", label)
		}
		return
	}
	*n = v
}

// DecodeJSON reads doc into opts, which holds the defaults a missing
// value keeps.
func DecodeJSON[O Options](doc []byte, opts O) (Options, error) {
	if len(doc) == 0 {
		return opts, nil
	}
	if err := json.Unmarshal(doc, &opts); err != nil {
		return nil, fmt.Errorf("read activity options: %w", err)
	}
	return opts, nil
}

// The registry: every kind Roundtable offers, in the order the chooser
// lists them.
var registry = struct {
	sync.RWMutex
	kinds []Kind
}{kinds: []Kind{Discussion, QuestionBoard}}

// Register adds a kind; a second kind of the same name is a programming
// error. It returns a function that withdraws the kind again (tests add
// kinds of their own for a while).
func Register(k Kind) (withdraw func()) {
	registry.Lock()
	defer registry.Unlock()
	for _, have := range registry.kinds {
		if have.Name() == k.Name() {
			panic("activity: kind " + k.Name() + " registered twice")
		}
	}
	registry.kinds = append(registry.kinds, k)
	return func() {
		registry.Lock()
		defer registry.Unlock()
		for i, have := range registry.kinds {
			if have.Name() == k.Name() {
				registry.kinds = append(registry.kinds[:i:i], registry.kinds[i+1:]...)
				return
			}
		}
	}
}

// Lookup is the kind named name.
func Lookup(name string) (Kind, bool) {
	registry.RLock()
	defer registry.RUnlock()
	for _, k := range registry.kinds {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

// Kinds are the registered kinds, in the chooser's order.
func Kinds() []Kind {
	registry.RLock()
	defer registry.RUnlock()
	return append([]Kind(nil), registry.kinds...)
}

// Changer is implemented by options that check a change of settings
// against what the activity already holds (peer review: a rubric that
// reviews have begun with). Change returns the options to keep, given the
// ones before (prev, nil for none) and whether staff confirmed the change;
// an *InvalidSetting asks staff to confirm or correct.
type Changer interface {
	Change(ctx context.Context, db *gorm.DB, a Ref, prev Options, confirmed bool) (Options, error)
}
