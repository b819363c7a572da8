package score

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// courseInput is a course of 1,000 learners who each review three others
// (3,000 reviews) on a rubric of five criteria of four levels, after
// calibrating on two examples, graded by reviewer weight.
func courseInput() Input {
	const learners, perLearner, criteria = 1000, 3, 5
	rng := rand.New(rand.NewPCG(1, 2))
	var r Rubric
	for c := range criteria {
		r.Criteria = append(r.Criteria, Criterion{ID: fmt.Sprint("c", c), Levels: levels4})
	}
	points := func() map[string]float64 {
		p := make(map[string]float64, criteria)
		for c := range criteria {
			p[fmt.Sprint("c", c)] = float64(rng.IntN(4))
		}
		return p
	}
	in := Input{
		Rubric:    r,
		Config:    Config{Aggregation: Weighted},
		Assigned:  make(map[string]int, learners),
		Overrides: map[string]Override{"l7": {Fraction: 1, Note: "excused"}},
		Name:      func(id string) string { return "Learner " + id },
	}
	for e := range 2 {
		in.Examples = append(in.Examples, Example{ID: fmt.Sprint("e", e), Points: points()})
	}
	for i := range learners {
		id := fmt.Sprint("l", i)
		in.Learners = append(in.Learners, id)
		in.Authors = append(in.Authors, id)
		in.Assigned[id] = perLearner
		for k := 1; k <= perLearner; k++ {
			in.Reviews = append(in.Reviews, Review{
				ID: fmt.Sprint(i, "-", k), Reviewer: id, Author: fmt.Sprint("l", (i+k*37)%learners),
				Points: points(), Done: rng.IntN(10) > 0, OnTime: rng.IntN(5) > 0, Helpfulness: rng.IntN(6),
			})
		}
		for e := range 2 {
			in.Calibrations = append(in.Calibrations, Calibration{Reviewer: id, Example: fmt.Sprint("e", e), Points: points()})
		}
	}
	return in
}

func BenchmarkComputeCourse(b *testing.B) {
	in := courseInput()
	b.ReportAllocs()
	for b.Loop() {
		res := Compute(in)
		if len(res.Grades) != 1000 {
			b.Fatal(len(res.Grades))
		}
	}
}
