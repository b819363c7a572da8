package peerreview

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/internal/activity"
)

// DateLayout is how the settings form's date fields (datetime-local)
// write a date, in the options' time zone.
const DateLayout = "2006-01-02T15:04"

// FormDate is t as a date field shows it, in the options' time zone.
func (o Options) FormDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(o.Location()).Format(DateLayout)
}

// CriterionRows is how many rows the rubric builder shows: the criteria
// and two blank ones to add (more after a save, or with JavaScript).
func (r Rubric) CriterionRows() int { return min(len(r.Criteria)+2, MaxCriteria) }

// LevelsText writes a criterion's levels as the builder's text area shows
// them: one per line, points then label.
func (c Criterion) LevelsText() string {
	var b strings.Builder
	for i, l := range c.Levels {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strconv.FormatFloat(l.Points, 'f', -1, 64))
		if l.Label != "" {
			b.WriteString(" ")
			b.WriteString(l.Label)
		}
	}
	return b.String()
}

// ParseLevels reads a criterion's levels from the builder's text: one per
// line, points first ("3 Excellent", "2: Good", "1 - Weak"); empty lines
// are skipped. Levels are kept from fewest points to most.
func ParseLevels(text string) ([]Level, error) {
	var levels []Level
	for line := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		num, label, _ := strings.Cut(line, " ")
		num = strings.TrimRight(num, ":.-–")
		p, err := strconv.ParseFloat(num, 64)
		if err != nil || p != p {
			return nil, fmt.Errorf("each level starts with its points, for instance \"3 Excellent\"; %q does not", line)
		}
		label = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(label), ":-–"))
		if len([]rune(label)) > maxTitle {
			return nil, fmt.Errorf("a level's label is at most %d characters", maxTitle)
		}
		levels = append(levels, Level{Points: p, Label: label})
	}
	// Stable: levels of equal points keep their order (Validate refuses
	// them). Not an insertion sort: a text of many lines in reverse would
	// take it quadratic time.
	slices.SortStableFunc(levels, func(a, b Level) int { return cmp.Compare(a.Points, b.Points) })
	return levels, nil
}

// ReadForm reads the peer review's fields of the settings form.
func (o Options) ReadForm(f activity.Form) (activity.Options, error) {
	var bad error
	fail := func(err error) {
		if bad == nil {
			bad = err
		}
	}
	o.SubmitText = f.FormValue("submit_text") == "1"
	o.SubmitLink = f.FormValue("submit_link") == "1"
	o.SubmitFiles = f.FormValue("submit_files") == "1"
	activity.ReadNumber(f, "max_file_mb", "The largest file", &o.MaxFileMB, &bad)
	activity.ReadNumber(f, "max_files", "Files per submission", &o.MaxFiles, &bad)
	if v := f.FormValue("file_types"); v != "" {
		o.FileTypes = v
	}
	activity.ReadNumber(f, "reviewers", "Reviews per submission", &o.Reviewers, &bad)
	if v := f.FormValue("anonymity"); v != "" {
		o.Anonymity = v
	}
	if tz := strings.TrimSpace(f.FormValue("time_zone")); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || len(tz) > 64 {
			fail(activity.Invalid("time_zone", "%q is not a time zone Roundtable knows; use a name like Europe/Paris.", tz))
		} else {
			o.TimeZone = tz
		}
	}
	loc := o.Location()
	for _, d := range []struct {
		field, label string
		t            *time.Time
	}{{"opens", "Submissions open", &o.Opens}, {"due", "Submissions due", &o.Due}, {"late_until", "Late submissions accepted until", &o.LateUntil},
		{"reviews_due", "Reviews due", &o.ReviewsDue}, {"release_at", "Results released", &o.ReleaseAt}} {
		raw := strings.TrimSpace(f.FormValue(d.field))
		if raw == "" {
			*d.t = time.Time{}
			continue
		}
		t, err := time.ParseInLocation(DateLayout, raw, loc)
		if err != nil {
			fail(activity.Invalid(d.field, "%s is not a date and time (for instance 2027-03-01T17:00).", d.label))
			continue
		}
		*d.t = t.UTC()
	}
	if v := f.FormValue("release"); v != "" {
		o.Release = v
	}
	o.SelfAssessment = f.FormValue("self_assessment") == "1"
	o.Calibration = f.FormValue("calibration") == "1"
	o.AcrossCohorts = f.FormValue("across_cohorts") == "1"
	o.OthersReview = f.FormValue("others_review") == "1"
	activity.ReadNumber(f, "submission_weight", "The submission's share", &o.SubmissionWeight, &bad)
	if v := f.FormValue("aggregation"); v != "" {
		o.Aggregation = v
	}
	if v := f.FormValue("reviewing_basis"); v != "" {
		o.ReviewingBasis = v
	}
	if f.FormValue("crit_rows") != "" {
		r, err := readRubric(f, o.Rubric)
		if err != nil {
			fail(err)
		}
		o.Rubric = r
	}
	return o, bad
}

// readRubric reads the rubric builder's rows: a row without a title is
// left out (how a criterion is removed); a row keeps its id, so a
// criterion reworded is the same criterion.
func readRubric(f activity.Form, prev Rubric) (Rubric, error) {
	rows, err := strconv.Atoi(f.FormValue("crit_rows"))
	if err != nil || rows < 0 {
		return prev, activity.Invalid("crit_title_0", "The rubric's form is incomplete; reload the page and try again.")
	}
	rows = min(rows, MaxCriteria+2)
	r := Rubric{Version: prev.Version}
	used := map[string]bool{}
	var bad error
	for i := range rows {
		n := strconv.Itoa(i)
		title := strings.TrimSpace(f.FormValue("crit_title_" + n))
		if title == "" {
			continue
		}
		c := Criterion{ID: strings.TrimSpace(f.FormValue("crit_id_" + n)), Title: title,
			Description: strings.TrimSpace(strings.ReplaceAll(f.FormValue("crit_desc_"+n), "\r\n", "\n")),
			Comment:     f.FormValue("crit_comment_" + n), FormRow: i + 1}
		if c.Comment == "" {
			c.Comment = CommentOptional
		}
		levels, err := ParseLevels(f.FormValue("crit_levels_" + n))
		if err != nil && bad == nil {
			bad = activity.Invalid("crit_levels_"+n, "Criterion %d: %s.", i+1, err.Error())
		}
		c.Levels = levels
		activity.ReadNumber(f, "crit_min_"+n, fmt.Sprintf("Criterion %d's shortest comment", i+1), &c.MinComment, &bad)
		if c.ID == "" || used[c.ID] || len(c.ID) > 16 {
			c.ID = freeCriterionID(used, prev)
		}
		used[c.ID] = true
		r.Criteria = append(r.Criteria, c)
	}
	return r, bad
}

// freeCriterionID is an id no criterion of this rubric or the last one
// has, so a new criterion is never mistaken for a removed one.
func freeCriterionID(used map[string]bool, prev Rubric) string {
	for i := 1; ; i++ {
		id := "c" + strconv.Itoa(i)
		if _, old := prev.Criterion(id); !used[id] && !old {
			return id
		}
	}
}
