package peerreview_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// A rubric's errors name the builder's row they are about, as its
// legend numbers it, when rows above it are blank: from reading the form
// and from validating what was read alike.
func TestRubricErrorsNameTheFormRow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits string
		field string
		want  string
	}{
		{"one level", "crit_title_1=Middle\ncrit_levels_1=5 only", "crit_levels_1", "Criterion 2 needs between 2 and"},
		{"no points", "crit_title_1=Middle\ncrit_levels_1=Thin", "crit_levels_1", "Criterion 2: each level starts with its points"},
		{"bad comment rule", "crit_title_1=Middle\ncrit_comment_1=sometimes", "crit_comment_1", "Choose whether reviewers comment on criterion 2"},
		{"shortest comment", "crit_title_1=Middle\ncrit_min_1=-3", "crit_min_1", "Criterion 2's shortest comment"},
		{"title too long", "crit_title_2=" + strings.Repeat("t", 201), "crit_title_2", "Criterion 3 needs a title"},
		{"not a number", "crit_title_1=Middle\ncrit_min_1=many", "crit_min_1", "Criterion 2's shortest comment must be a whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := formOf("crit_title_0=\ncrit_levels_0=\n" + tc.edits)
			read, err := peerreview.Defaults().ReadForm(form)
			if err == nil {
				err = read.(peerreview.Options).Validate(true)
			}
			var bad *activity.InvalidSetting
			if !errors.As(err, &bad) || bad.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (field %v), want %s naming %q", err, bad, tc.field, tc.want)
			}
		})
	}
}

// Levels are sorted in time proportional to their lines, not their
// square: a levels box of many lines in reverse order is read at once.
func TestParseLevelsManyLinesInReverse(t *testing.T) {
	var b strings.Builder
	for i := 60000; i > 0; i-- {
		fmt.Fprintf(&b, "%d Level %d\n", i, i)
	}
	start := time.Now()
	levels, err := peerreview.ParseLevels(b.String())
	if err != nil || len(levels) != 60000 {
		t.Fatalf("%d levels, %v", len(levels), err)
	}
	for i := range levels {
		if levels[i].Points != float64(i+1) || levels[i].Label != fmt.Sprintf("Level %d", i+1) {
			t.Fatalf("level %d is %+v", i, levels[i])
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("reading 60000 levels took %s", took)
	}
	// Levels of equal points keep the order they were typed in.
	levels, _ = peerreview.ParseLevels("2 b\n1 a\n2 c\n0 z")
	if got := fmt.Sprint(levels); got != "[{0 z} {1 a} {2 b} {2 c}]" {
		t.Errorf("equal points reordered: %s", got)
	}
}
