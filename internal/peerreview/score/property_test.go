package score

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomInput builds an activity of n learners with random rubric,
// settings, reviews, calibrations and overrides.
func randomInput(rng *rand.Rand, n int) Input {
	var r Rubric
	for c := range rng.IntN(5) {
		var ls []Level
		for l := range rng.IntN(5) { // 0 levels: comment-only
			ls = append(ls, Level{Points: float64(l) * float64(1+rng.IntN(3))})
		}
		r.Criteria = append(r.Criteria, Criterion{ID: fmt.Sprint("c", c), Levels: ls})
	}
	points := func() map[string]float64 {
		p := make(map[string]float64)
		for _, c := range r.Criteria {
			if rng.IntN(10) > 0 { // sometimes blank
				p[c.ID] = rng.Float64()*(c.Max()+2) - 1 // sometimes out of range
			}
		}
		return p
	}
	aggs := []string{"", Median, Mean, Weighted, "other"}
	bases := []string{"", Completion, Helpfulness, Accuracy}
	in := Input{
		Rubric: r,
		Config: Config{
			Aggregation:      aggs[rng.IntN(len(aggs))],
			ReviewingBasis:   bases[rng.IntN(len(bases))],
			SubmissionWeight: rng.Float64()*1.2 - 0.1,
			OutlierThreshold: rng.Float64() * 0.5,
		},
		Assigned:  make(map[string]int),
		Overrides: make(map[string]Override),
	}
	learner := func() string { return fmt.Sprint("l", rng.IntN(n)) }
	for i := range n {
		id := fmt.Sprint("l", i)
		in.Learners = append(in.Learners, id)
		if rng.IntN(4) > 0 {
			in.Authors = append(in.Authors, id)
		}
		in.Assigned[id] = rng.IntN(4)
		if rng.IntN(10) == 0 {
			in.Overrides[id] = Override{Fraction: rng.Float64()*1.4 - 0.2}
		}
	}
	for i := range 3 * n {
		in.Reviews = append(in.Reviews, Review{
			ID: fmt.Sprint(i), Author: learner(), Reviewer: learner(), Points: points(),
			Done: rng.IntN(5) > 0, OnTime: rng.IntN(3) > 0, Helpfulness: rng.IntN(7) - 1,
		})
	}
	for e := range 2 {
		in.Examples = append(in.Examples, Example{ID: fmt.Sprint("e", e), Points: points()})
	}
	for range n {
		in.Calibrations = append(in.Calibrations, Calibration{
			Reviewer: learner(), Example: fmt.Sprint("e", rng.IntN(3)), Points: points(),
		})
	}
	return in
}

func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2026))
	in01 := func(x float64) bool { return x >= 0 && x <= 1 && !math.IsNaN(x) }
	for iter := range 300 {
		in := randomInput(rng, 1+rng.IntN(12))
		res := Compute(in)
		sw := in.Config.normalized().SubmissionWeight
		for id, g := range res.Grades {
			if !in01(g.Submission) || !in01(g.Reviewing) || !in01(g.Combined) || !in01(g.Computed) || !in01(g.SelfAssessment) {
				t.Fatalf("%d %s: fraction out of range: %+v", iter, id, g)
			}
			if want := math.Round((sw*g.Submission+(1-sw)*g.Reviewing)*1e4) / 1e4; math.Abs(g.Computed-want) > 1e-12 {
				t.Fatalf("%d %s: computed %v, want %v", iter, id, g.Computed, want)
			}
			if o, ok := in.Overrides[id]; ok {
				if !g.Overridden || math.Abs(g.Combined-math.Round(clamp01(o.Fraction)*1e4)/1e4) > 1e-12 {
					t.Fatalf("%d %s: override %v ignored: %+v", iter, id, o, g)
				}
			} else if g.Overridden || g.Combined != g.Computed {
				t.Fatalf("%d %s: combined %v, computed %v", iter, id, g.Combined, g.Computed)
			}
			if g.SubmissionScored != (g.SubmissionReviews > 0) || g.Explanation == "" {
				t.Fatalf("%d %s: %+v", iter, id, g)
			}
		}
		for _, id := range in.Learners {
			if _, ok := res.Grades[id]; !ok {
				t.Fatalf("%d: no grade for %s", iter, id)
			}
		}
		for id, w := range res.Weights {
			if w.Value < MinWeight || w.Value > 1 || !in01(w.Calibration) || !in01(w.Agreement) || w.Explanation == "" {
				t.Fatalf("%d %s: weight %+v", iter, id, w)
			}
		}
		for _, o := range res.Outliers {
			if !in01(o.Given) || !in01(o.OthersMedian) || o.Reviewer == o.Author {
				t.Fatalf("%d: outlier %+v", iter, o)
			}
		}
		for _, p := range res.TitForTat {
			if p.A >= p.B || !in01(p.AGaveB) || !in01(p.BGaveA) {
				t.Fatalf("%d: pair %+v", iter, p)
			}
		}
	}
}
