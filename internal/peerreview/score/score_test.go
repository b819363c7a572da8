package score

import (
	"math"
	"strings"
	"testing"
)

// levels4 is a scale of four levels worth 0 to 3 points.
var levels4 = []Level{{0, "missing"}, {1, "weak"}, {2, "good"}, {3, "excellent"}}

// rubric has two scored criteria, a and b (max 6 in all), and a
// comment-only one.
var rubric = Rubric{Criteria: []Criterion{
	{ID: "a", Title: "Argument", Levels: levels4},
	{ID: "note", Title: "Anything else?"},
	{ID: "b", Title: "Evidence", Levels: levels4},
}}

func pts(a, b float64) map[string]float64 { return map[string]float64{"a": a, "b": b} }

func done(id, author, reviewer string, p map[string]float64) Review {
	return Review{ID: id, Author: author, Reviewer: reviewer, Points: p, Done: true, OnTime: true}
}

func near(x, y float64) bool { return math.Abs(x-y) < 1e-9 }

func capitalName(id string) string { return strings.ToUpper(id[:1]) + id[1:] }

// threeReviews is submission x reviewed by r1 (3,3), r2 (1,2) and r3 (2,0).
func threeReviews() []Review {
	return []Review{
		done("1", "x", "r1", pts(3, 3)),
		done("2", "x", "r2", pts(1, 2)),
		done("3", "x", "r3", pts(2, 0)),
	}
}

func TestMax(t *testing.T) {
	if got := rubric.Max(); got != 6 {
		t.Errorf("rubric max %v, want 6", got)
	}
	if got := (Criterion{ID: "note"}).Max(); got != 0 {
		t.Errorf("comment-only max %v, want 0", got)
	}
	unordered := Criterion{Levels: []Level{{5, ""}, {10, ""}, {0, ""}}}
	if got := unordered.Max(); got != 10 {
		t.Errorf("max %v, want 10", got)
	}
}

func TestAggregation(t *testing.T) {
	// Agreement: r1 agrees on 0 of 2 criteria (weight floored at 0.1), r2
	// and r3 on 1 of 2 (0.5).
	wa := (0.1*3 + 0.5*1 + 0.5*2) / 1.1
	wb := (0.1*3 + 0.5*2 + 0.5*0) / 1.1
	for _, tc := range []struct {
		agg    string
		want   float64
		perA   float64
		phrase string
	}{
		{"", 4.0 / 6, 2, "median of 3 reviews per criterion"},
		{Median, 4.0 / 6, 2, "median of 3 reviews per criterion"},
		{"bogus", 4.0 / 6, 2, "median of 3 reviews per criterion"},
		{Mean, (2 + 5.0/3) / 6, 2, "mean of 3 reviews per criterion"},
		{Weighted, (wa + wb) / 6, wa, "reviewer-weighted mean of 3 reviews per criterion"},
	} {
		t.Run(tc.agg, func(t *testing.T) {
			res := Compute(Input{
				Rubric: rubric, Config: Config{Aggregation: tc.agg},
				Authors: []string{"x"}, Reviews: threeReviews(),
			})
			g := res.Grades["x"]
			if !g.SubmissionScored || !near(g.Submission, tc.want) {
				t.Errorf("submission %v (scored %v), want %v", g.Submission, g.SubmissionScored, tc.want)
			}
			if !near(g.PerCriterion["a"], tc.perA) {
				t.Errorf("criterion a %v, want %v", g.PerCriterion["a"], tc.perA)
			}
			if _, ok := g.PerCriterion["note"]; ok {
				t.Error("comment-only criterion aggregated")
			}
			if g.SubmissionReviews != 3 {
				t.Errorf("%d reviews, want 3", g.SubmissionReviews)
			}
			if !strings.Contains(g.Explanation, "("+tc.phrase+")") {
				t.Errorf("explanation %q lacks %q", g.Explanation, tc.phrase)
			}
		})
	}
}

func TestGradeExplanation(t *testing.T) {
	res := Compute(Input{Rubric: rubric, Authors: []string{"x"}, Reviews: threeReviews(), Name: capitalName})
	g := res.Grades["x"]
	want := "Submission 0.67 (median of 3 reviews per criterion) × 80% + reviewing 1.00 (no reviews were assigned) × 20% = 0.73."
	if g.Explanation != want {
		t.Errorf("explanation\n%q, want\n%q", g.Explanation, want)
	}
	if g.Combined != 0.7333 || g.Computed != 0.7333 {
		t.Errorf("combined %v computed %v, want 0.7333", g.Combined, g.Computed)
	}
}

func TestWeights(t *testing.T) {
	examples := []Example{{ID: "e1", Points: pts(3, 0)}, {ID: "e2", Points: pts(1, 1)}}
	// c is within one level on a of e1 (2 vs 3) but not b (2 vs 0), and on
	// both of e2: 3 of 4.
	cal := []Calibration{
		{Reviewer: "c", Example: "e1", Points: pts(2, 2)},
		{Reviewer: "c", Example: "e2", Points: pts(1, 1)},
		{Reviewer: "r2", Example: "e2", Points: pts(1, 1)},
		{Reviewer: "r2", Example: "nonexistent", Points: pts(3, 3)},
	}
	res := Compute(Input{
		Rubric: rubric, Authors: []string{"x"}, Learners: []string{"n"},
		Reviews: threeReviews(), Examples: examples, Calibrations: cal, Name: capitalName,
	})
	for _, tc := range []struct {
		who, explanation string
		value            float64
	}{
		{"c", "C's weight is 0.75: their calibration ratings were within one level of yours on 3 of 4 criteria; there were too few other reviews to compare theirs with.", 0.75},
		{"r3", "R3's weight is 0.50: their reviews were within one level of the other reviewers on 1 of 2 criteria; they did no calibration.", 0.5},
		{"r2", "R2's weight is 0.75: their calibration ratings were within one level of yours on 2 of 2 criteria, and their reviews were within one level of the other reviewers on 1 of 2 criteria.", 0.75},
		{"r1", "R1's weight is 0.10 (the minimum): their reviews were within one level of the other reviewers on 0 of 2 criteria; they did no calibration.", 0.1},
		{"n", "N's weight is 1.00, the default: they did no calibration and there were too few other reviews to compare theirs with.", 1},
		{"x", "X's weight is 1.00, the default: they did no calibration and there were too few other reviews to compare theirs with.", 1},
	} {
		w, ok := res.Weights[tc.who]
		if !ok {
			t.Errorf("no weight for %s", tc.who)
			continue
		}
		if !near(w.Value, tc.value) || w.Explanation != tc.explanation {
			t.Errorf("%s: %v %q, want %v %q", tc.who, w.Value, w.Explanation, tc.value, tc.explanation)
		}
	}
	if w := res.Weights["c"]; w.CalibrationOf != 3 || w.CalibrationN != 4 || w.AgreementN != 0 {
		t.Errorf("c counts %+v", w)
	}
	if w := res.Weights["r2"]; w.AgreementOf != 1 || w.AgreementN != 2 || w.Calibration != 1 || w.Agreement != 0.5 {
		t.Errorf("r2 counts %+v", w)
	}
}

// TestCalibrationLevels compares positions on the scale, not points: 5 and
// 10 points are one level apart on a 0/5/10 scale.
func TestCalibrationLevels(t *testing.T) {
	r := Rubric{Criteria: []Criterion{{ID: "a", Levels: []Level{{0, ""}, {5, ""}, {10, ""}}}}}
	res := Compute(Input{
		Rubric:   r,
		Examples: []Example{{ID: "e", Points: map[string]float64{"a": 10}}},
		Calibrations: []Calibration{
			{Reviewer: "near", Example: "e", Points: map[string]float64{"a": 5}},
			{Reviewer: "far", Example: "e", Points: map[string]float64{"a": 0}},
			{Reviewer: "between", Example: "e", Points: map[string]float64{"a": 4}}, // nearest level 5
		},
	})
	for who, want := range map[string]float64{"near": 1, "far": 0.1, "between": 1} {
		if got := res.Weights[who].Value; got != want {
			t.Errorf("%s weight %v, want %v", who, got, want)
		}
	}
}

func TestOutliers(t *testing.T) {
	reviews := []Review{
		done("1", "x", "r1", pts(3, 3)), // 100%
		done("2", "x", "r2", pts(2, 1)), // 50%
		done("3", "x", "r3", pts(1, 2)), // 50%
		done("4", "x", "r4", pts(2, 2)), // 67%
		// y: 75% against 50% is exactly the threshold, not an outlier.
		done("5", "y", "r1", pts(3, 1.5)),
		done("6", "y", "r2", pts(1.5, 1.5)),
		done("7", "y", "r3", pts(1.5, 1.5)),
		// z: only one other review, no consensus.
		done("8", "z", "r1", pts(3, 3)),
		done("9", "z", "r2", pts(0, 0)),
		// w: not completed reviews do not count.
		done("10", "w", "r1", pts(3, 3)),
		done("11", "w", "r2", pts(0, 0)),
		{ID: "12", Author: "w", Reviewer: "r3", Points: pts(0, 0)},
	}
	res := Compute(Input{Rubric: rubric, Reviews: reviews, Name: capitalName})
	if len(res.Outliers) != 1 {
		t.Fatalf("outliers %+v, want 1", res.Outliers)
	}
	o := res.Outliers[0]
	want := Outlier{ReviewID: "1", Reviewer: "r1", Author: "x", Given: 1, OthersMedian: 0.5,
		Explanation: "R1 gave X 100%; the other 3 reviewers' median is 50%."}
	if o != want {
		t.Errorf("outlier %+v, want %+v", o, want)
	}
	// A lower threshold catches y too, sorted by author.
	res = Compute(Input{Rubric: rubric, Reviews: reviews, Config: Config{OutlierThreshold: 0.2}})
	if len(res.Outliers) != 2 || res.Outliers[0].Author != "x" || res.Outliers[1].Author != "y" {
		t.Errorf("outliers at 0.2: %+v", res.Outliers)
	}
}

func TestTitForTat(t *testing.T) {
	// others has c and d review both a and b with the given points.
	others := func(p map[string]float64) []Review {
		return []Review{
			done("ca", "a", "c", p), done("da", "a", "d", p),
			done("cb", "b", "c", p), done("db", "b", "d", p),
		}
	}
	for _, tc := range []struct {
		name    string
		reviews []Review
		want    []Pair
	}{
		{
			name: "both full marks against much less",
			reviews: append(others(pts(2, 1)),
				done("ab", "b", "a", pts(3, 3)), done("ba", "a", "b", pts(3, 3))),
			want: []Pair{{A: "a", B: "b", AGaveB: 1, BGaveA: 1,
				Explanation: "A and B reviewed each other and both gave far more than the other reviewers: A gave B 100% (others' median 50%) and B gave A 100% (others' median 50%)."}},
		},
		{
			name: "both far below",
			reviews: append(others(pts(3, 2)),
				done("ab", "b", "a", pts(0, 1)), done("ba", "a", "b", pts(1, 0))),
			want: []Pair{{A: "a", B: "b", AGaveB: 1.0 / 6, BGaveA: 1.0 / 6,
				Explanation: "A and B reviewed each other and both gave far less than the other reviewers: A gave B 17% (others' median 83%) and B gave A 17% (others' median 83%)."}},
		},
		{
			name: "opposite directions",
			reviews: append(others(pts(2, 1)),
				done("ab", "b", "a", pts(3, 3)), done("ba", "a", "b", pts(0, 0))),
		},
		{
			name: "only one far",
			reviews: append(others(pts(2, 1)),
				done("ab", "b", "a", pts(3, 3)), done("ba", "a", "b", pts(2, 1))),
		},
		{
			name: "full marks the others agree with",
			reviews: append(others(pts(3, 2)),
				done("ab", "b", "a", pts(3, 3)), done("ba", "a", "b", pts(3, 3))),
		},
		{
			name: "no other reviewers",
			reviews: []Review{
				done("ab", "b", "a", pts(3, 3)), done("ba", "a", "b", pts(3, 3))},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Compute(Input{Rubric: rubric, Reviews: tc.reviews, Name: capitalName})
			if len(res.TitForTat) != len(tc.want) {
				t.Fatalf("pairs %+v, want %+v", res.TitForTat, tc.want)
			}
			for i, p := range res.TitForTat {
				w := tc.want[i]
				if p.A != w.A || p.B != w.B || !near(p.AGaveB, w.AGaveB) || !near(p.BGaveA, w.BGaveA) || p.Explanation != w.Explanation {
					t.Errorf("pair %+v, want %+v", p, w)
				}
			}
		})
	}
}

func TestReviewing(t *testing.T) {
	// r was assigned 4 and completed 3, one late: (2 + ½) / 4. Their
	// reviews were rated 5 and 3: helpfulness (4 − 1) / 4. Each
	// submission has one review, so only calibration (1 of 4) measures
	// accuracy.
	reviews := []Review{
		{ID: "1", Author: "x", Reviewer: "r", Points: pts(1, 1), Done: true, OnTime: true, Helpfulness: 5},
		{ID: "2", Author: "y", Reviewer: "r", Points: pts(1, 1), Done: true, OnTime: true, Helpfulness: 3},
		{ID: "3", Author: "z", Reviewer: "r", Points: pts(1, 1), Done: true},
		{ID: "4", Author: "w", Reviewer: "r", Points: pts(1, 1)},
	}
	in := Input{
		Rubric: rubric, Learners: []string{"r", "idle"}, Assigned: map[string]int{"r": 4},
		Reviews: reviews,
		Examples: []Example{
			{ID: "e1", Points: pts(3, 3)}, {ID: "e2", Points: pts(0, 3)},
		},
		Calibrations: []Calibration{
			{Reviewer: "r", Example: "e1", Points: pts(0, 0)},
			{Reviewer: "r", Example: "e2", Points: pts(1, 0)},
		},
	}
	for _, tc := range []struct {
		basis string
		want  float64
		why   string
	}{
		{"", 0.625, "(3 of 4 reviews done, 1 late and counted half)"},
		{Helpfulness, (0.625 + 0.75) / 2, "(3 of 4 reviews done, 1 late and counted half, averaged with helpfulness 0.75 from 2 ratings)"},
		{Accuracy, (0.625 + 0.25) / 2, "(3 of 4 reviews done, 1 late and counted half, averaged with reviewer weight 0.25)"},
	} {
		t.Run(tc.basis, func(t *testing.T) {
			in.Config.ReviewingBasis = tc.basis
			res := Compute(in)
			g := res.Grades["r"]
			if !near(g.Reviewing, tc.want) || !strings.Contains(g.Explanation, tc.why) {
				t.Errorf("reviewing %v %q, want %v %q", g.Reviewing, g.Explanation, tc.want, tc.why)
			}
			// r submitted nothing; an idle learner with nothing assigned
			// and nothing submitted gets nothing.
			if g.Submitted || g.SubmissionScored || g.Computed != round4(0.2*tc.want) {
				t.Errorf("r: %+v", g)
			}
			if i := res.Grades["idle"]; i.Reviewing != 0 || i.Combined != 0 {
				t.Errorf("idle: %+v", i)
			}
		})
	}
	// Without ratings or measured accuracy the share stands alone.
	in.Reviews = []Review{{ID: "1", Author: "x", Reviewer: "r", Points: pts(1, 1), Done: true, OnTime: true}}
	in.Calibrations = nil
	for basis, why := range map[string]string{
		Helpfulness: "(1 of 4 reviews done on time; no helpfulness ratings yet)",
		Accuracy:    "(1 of 4 reviews done on time; accuracy not measured yet)",
	} {
		in.Config.ReviewingBasis = basis
		g := Compute(in).Grades["r"]
		if g.Reviewing != 0.25 || !strings.Contains(g.Explanation, why) {
			t.Errorf("%s: %v %q", basis, g.Reviewing, g.Explanation)
		}
	}
}

func TestOverride(t *testing.T) {
	res := Compute(Input{
		Rubric: rubric, Authors: []string{"x"}, Reviews: threeReviews(),
		Overrides: map[string]Override{"x": {Fraction: 0.9, Note: "Regraded after appeal"}, "ghost": {Fraction: 1.5}},
	})
	g := res.Grades["x"]
	want := "Set by the instructor to 0.90 (Regraded after appeal). Computed for reference: Submission 0.67 (median of 3 reviews per criterion) × 80% + reviewing 1.00 (no reviews were assigned) × 20% = 0.73."
	if !g.Overridden || g.Combined != 0.9 || g.Computed != 0.7333 || g.Explanation != want {
		t.Errorf("override %+v\nwant explanation %q", g, want)
	}
	if g := res.Grades["ghost"]; !g.Overridden || g.Combined != 1 || g.Submitted {
		t.Errorf("ghost %+v", g)
	}
}

func TestNotReviewed(t *testing.T) {
	res := Compute(Input{
		Rubric: rubric, Authors: []string{"x"}, Learners: []string{"x", "y"},
		Assigned: map[string]int{"x": 2},
		Reviews: []Review{
			done("1", "y", "x", pts(3, 3)),
			{ID: "2", Author: "x", Reviewer: "y", Points: pts(3, 3)}, // not done
		},
	})
	g := res.Grades["x"]
	want := "Submission 0.00 (not yet reviewed, counted as 0) × 80% + reviewing 0.50 (1 of 2 reviews done on time) × 20% = 0.10."
	if g.SubmissionScored || g.Submission != 0 || g.Combined != 0.1 || g.Explanation != want {
		t.Errorf("x %+v\nwant explanation %q", g, want)
	}
	if g := res.Grades["y"]; !g.SubmissionScored || g.Submission != 1 || !g.Submitted {
		t.Errorf("y %+v", g)
	}
}

func TestSelfAssessmentIgnored(t *testing.T) {
	reviews := append(threeReviews(), done("s", "x", "x", pts(3, 3)))
	with := Compute(Input{Rubric: rubric, Reviews: reviews})
	without := Compute(Input{Rubric: rubric, Reviews: threeReviews()})
	g := with.Grades["x"]
	if g.Submission != without.Grades["x"].Submission || g.SubmissionReviews != 3 {
		t.Errorf("self-assessment counted: %+v", g)
	}
	if !g.SelfAssessed || g.SelfAssessment != 1 || !strings.Contains(g.Explanation, "; self-assessment 1.00 not counted)") {
		t.Errorf("self-assessment not reported: %+v", g)
	}
	if w := with.Weights["x"]; w.AgreementN != 0 || len(with.Outliers) != len(without.Outliers) {
		t.Errorf("self-assessment compared: %+v", w)
	}
	if g.Reviewing != 1 {
		t.Errorf("self-assessment assigned as a review: %v", g.Reviewing)
	}
}

func TestCommentOnlyIgnored(t *testing.T) {
	reviews := threeReviews()
	for i := range reviews {
		reviews[i].Points["note"] = 100
	}
	res := Compute(Input{Rubric: rubric, Reviews: reviews})
	if g := res.Grades["x"]; !near(g.Submission, 4.0/6) {
		t.Errorf("submission %v, want 4/6", g.Submission)
	}
	// Points above the maximum are capped.
	res = Compute(Input{Rubric: rubric, Reviews: []Review{done("1", "x", "r", pts(30, -3))}})
	if g := res.Grades["x"]; g.Submission != 0.5 {
		t.Errorf("capped submission %v, want 0.5", g.Submission)
	}
}

func TestEmptyRubric(t *testing.T) {
	for _, r := range []Rubric{{}, {Criteria: []Criterion{{ID: "note"}}}} {
		reviews := append(threeReviews(), done("s", "x", "x", nil))
		res := Compute(Input{Rubric: r, Reviews: reviews, Assigned: map[string]int{"r1": 1},
			Examples: []Example{{ID: "e", Points: pts(1, 1)}}, Calibrations: []Calibration{{Reviewer: "r1", Example: "e"}}})
		g := res.Grades["x"]
		if g.SubmissionScored || g.SelfAssessed || !strings.Contains(g.Explanation, "(the rubric has no scored criteria)") {
			t.Errorf("grade %+v", g)
		}
		if len(res.Outliers) != 0 || res.Weights["r1"].Value != 1 {
			t.Errorf("outliers %v weight %+v", res.Outliers, res.Weights["r1"])
		}
	}
	if res := Compute(Input{}); len(res.Grades) != 0 || len(res.Weights) != 0 {
		t.Errorf("empty input: %+v", res)
	}
}

func TestDeterministic(t *testing.T) {
	reviews := threeReviews()
	reversed := []Review{reviews[2], reviews[1], reviews[0]}
	cfg := Config{Aggregation: Weighted}
	a := Compute(Input{Rubric: rubric, Config: cfg, Reviews: reviews}).Grades["x"]
	b := Compute(Input{Rubric: rubric, Config: cfg, Reviews: reversed}).Grades["x"]
	if a.Submission != b.Submission || a.Combined != b.Combined {
		t.Errorf("order matters: %v vs %v", a.Submission, b.Submission)
	}
}
