package peerreview_test

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/internal/peerreview"
)

// FuzzParseLevels: any text of the rubric builder's levels box is read
// without a panic, into levels sorted by points, none NaN, one per line
// that is not blank, each label within its bound; or refused.
func FuzzParseLevels(f *testing.F) {
	for _, s := range []string{"", "3 Excellent\n2: Good\n1 - Weak", "0 Missing\r\n2 Partial\r\n4 Convincing", "Thin\n3 Solid",
		"NaN x", "Inf big", "-Inf small", "1e400 huge", "0x1p-2 hex", "1_000 under", "2.5:half", "3\n3\n3", "  \n\t\n", "1 " + strings.Repeat("é", 300),
		"5 –dash", "-1 below", "+2 plus", "1.\n2-\n3:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		levels, err := peerreview.ParseLevels(text)
		if err != nil {
			if levels != nil {
				t.Errorf("refused %q yet returned %v", text, levels)
			}
			return
		}
		lines := 0
		for line := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
			if strings.TrimSpace(line) != "" {
				lines++
			}
		}
		if len(levels) != lines {
			t.Errorf("%q: %d levels from %d lines", text, len(levels), lines)
		}
		for i, l := range levels {
			if math.IsNaN(l.Points) {
				t.Errorf("%q: a level of NaN points", text)
			}
			if i > 0 && l.Points < levels[i-1].Points {
				t.Errorf("%q: levels not sorted: %v", text, levels)
			}
			if utf8.RuneCountInString(l.Label) > 200 || l.Label != strings.TrimSpace(l.Label) {
				t.Errorf("%q: a label %q out of bounds", text, l.Label)
			}
		}
		// A rubric of them is valid only with points in bounds.
		c := peerreview.Criterion{ID: "c1", Title: "Content", Levels: levels, Comment: peerreview.CommentOptional}
		o := peerreview.Defaults()
		o.SubmitText = true
		o.Rubric = peerreview.Rubric{Version: 1, Criteria: []peerreview.Criterion{c}}
		if o.Validate(false) == nil {
			for _, l := range levels {
				if l.Points < 0 || l.Points > 1000 || math.IsInf(l.Points, 0) {
					t.Errorf("%q: a valid rubric with a level of %v points", text, l.Points)
				}
			}
		}
	})
}

// mapForm is a settings form from a map.
type mapForm map[string]string

func (m mapForm) FormValue(name string) string { return m[name] }

// formOf reads fuzzed lines "key=value" (a value's "\n" written "\\n")
// over a form that is valid as it stands.
func formOf(lines string) mapForm {
	m := mapForm{"submit_text": "1", "submit_files": "1", "max_file_mb": "2", "max_files": "3", "file_types": "any", "reviewers": "2",
		"anonymity": "double_blind", "release": "manual", "submission_weight": "80", "aggregation": "median", "reviewing_basis": "completion",
		"time_zone": "UTC", "crit_rows": "3", "crit_title_0": "Content", "crit_levels_0": "0 Missing\n3 Excellent", "crit_comment_0": "optional",
		"crit_title_1": "", "crit_title_2": "Advice", "crit_comment_2": "required", "crit_min_2": "20"}
	for line := range strings.SplitSeq(lines, "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = strings.ReplaceAll(v, `\n`, "\n")
	}
	return m
}

// FuzzReadForm: any settings form is read and validated without a panic;
// what Validate accepts keeps the bounds the rest of the peer review
// relies on.
func FuzzReadForm(f *testing.F) {
	for _, s := range []string{"", "crit_rows=-1", "crit_rows=99999999999999999999", "crit_rows=12\ncrit_title_11=Last\ncrit_levels_11=1 a\\n2 b",
		"crit_id_0=c2\ncrit_id_2=c2", "crit_id_0=" + strings.Repeat("x", 40), "time_zone=../../etc/passwd", "time_zone=Local", "time_zone=Europe/Paris\ndue=2027-03-01T17:00\nopens=2027-03-02T17:00",
		"release=date", "release=date\nrelease_at=2027-13-01T00:00", "late_until=2027-03-01T17:00", "reviewers=0", "max_file_mb=99999",
		"crit_levels_0=NaN x\\n1 y", "crit_levels_0=Inf x\\n1 y", "crit_min_2=-5", "crit_comment_0=none\ncrit_levels_0=", "anonymity=", "file_types=exe",
		"crit_rows=0", "submit_text=\nsubmit_files=", "crit_title_1=Middle\ncrit_levels_1=5 only"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lines string) {
		prev := peerreview.Defaults()
		read, err := prev.ReadForm(formOf(lines))
		o, ok := read.(peerreview.Options)
		if !ok {
			t.Fatalf("ReadForm returned %T", read)
		}
		verr := o.Validate(true)
		if err != nil || verr != nil {
			return
		}
		if len(o.Rubric.Criteria) == 0 || len(o.Rubric.Criteria) > peerreview.MaxCriteria || !o.Rubric.Scored() {
			t.Errorf("a valid rubric of %d criteria", len(o.Rubric.Criteria))
		}
		ids := map[string]bool{}
		for _, c := range o.Rubric.Criteria {
			if c.ID == "" || ids[c.ID] || len(c.ID) > 16 {
				t.Errorf("criterion id %q (ids %v)", c.ID, ids)
			}
			ids[c.ID] = true
			for _, l := range c.Levels {
				if math.IsNaN(l.Points) || math.IsInf(l.Points, 0) || l.Points < 0 || l.Points > 1000 {
					t.Errorf("a valid level of %v points", l.Points)
				}
			}
		}
		if o.Reviewers < 1 || o.Reviewers > peerreview.MaxReviewers || o.SubmissionWeight < 10 || o.SubmissionWeight > 100 {
			t.Errorf("valid options out of bounds: %+v", o)
		}
		if o.Location() == nil {
			t.Error("no location")
		}
	})
}

// FuzzCheckAssessment: any assessment is checked against the default
// rubric without a panic; one accepted as final assesses every scored
// criterion at one of its levels, and keeps only the rubric's criteria.
func FuzzCheckAssessment(f *testing.F) {
	f.Add("c1", 3, "Good", "c2", 2, "", "c3", -1, "Clear structure; more sources needed.", 0, "note", "overall", true)
	f.Add("c9", 7, "", "c2", -2, "x", "", 0, "", -1, "", "", false)
	f.Add("c1", 4, strings.Repeat("a", 5001), "c3", 0, "", "c2", 1, "", 999, "n", "", true)
	r := peerreview.Defaults().Rubric
	f.Fuzz(func(t *testing.T, id1 string, l1 int, c1, id2 string, l2 int, c2, id3 string, l3 int, c3 string, para int, note, comment string, final bool) {
		a := peerreview.Assessment{Criteria: map[string]peerreview.Answer{id1: {Level: l1, Comment: c1}, id2: {Level: l2, Comment: c2},
			id3: {Level: l3, Comment: c3}}, Comment: comment}
		if note != "" {
			a.Notes = []peerreview.Note{{Paragraph: para, Text: note}}
		}
		err := peerreview.CheckAssessment(r, a, final)
		if err != nil {
			return
		}
		for id, ans := range a.Criteria {
			c, ok := r.Criterion(id)
			if !ok {
				t.Errorf("an accepted assessment keeps criterion %q, not the rubric's", id)
				continue
			}
			if ans.Level < -1 || ans.Level >= len(c.Levels) {
				t.Errorf("criterion %q accepted at level %d of %d", id, ans.Level, len(c.Levels))
			}
		}
		for _, n := range a.Notes {
			if n.Paragraph < 0 {
				t.Errorf("a note on paragraph %d accepted", n.Paragraph)
			}
		}
		if final {
			for _, c := range r.Criteria {
				ans, ok := a.Criteria[c.ID]
				if c.Scored() && (!ok || ans.Level < 0 || ans.Level >= len(c.Levels)) {
					t.Errorf("a final assessment without a level for %q: %+v", c.ID, a)
				}
				if c.Comment == peerreview.CommentRequired && utf8.RuneCountInString(strings.TrimSpace(ans.Comment)) < max(c.MinComment, 1) {
					t.Errorf("a final assessment without the comment %q requires", c.ID)
				}
			}
		}
	})
}
