package score_test

import (
	"fmt"

	"github.com/roundtable-lms/roundtable/internal/peerreview/score"
)

func ExampleCompute() {
	scale := []score.Level{{Points: 0}, {Points: 1}, {Points: 2}, {Points: 3}}
	rubric := score.Rubric{Criteria: []score.Criterion{
		{ID: "arg", Title: "Argument", Levels: scale},
		{ID: "ev", Title: "Evidence", Levels: scale},
		{ID: "note", Title: "Anything else?"}, // comment-only
	}}
	review := func(id, author, reviewer string, arg, ev float64) score.Review {
		return score.Review{ID: id, Author: author, Reviewer: reviewer, Done: true, OnTime: true,
			Points: map[string]float64{"arg": arg, "ev": ev}}
	}
	names := map[string]string{"ana": "Ana", "bo": "Bo", "cy": "Cy", "di": "Di", "ed": "Ed"}
	res := score.Compute(score.Input{
		Rubric:   rubric,
		Authors:  []string{"ana"},
		Learners: []string{"ana", "bo", "cy", "di", "ed"},
		Assigned: map[string]int{"bo": 1, "cy": 1, "di": 1, "ed": 1},
		Reviews: []score.Review{
			review("1", "ana", "bo", 3, 2),
			review("2", "ana", "cy", 2, 2),
			review("3", "ana", "di", 0, 1),
			review("4", "ana", "ed", 2, 2),
		},
		Name: func(id string) string { return names[id] },
	})
	fmt.Println(res.Grades["ana"].Explanation)
	fmt.Println(res.Weights["di"].Explanation)
	for _, o := range res.Outliers {
		fmt.Println(o.Explanation)
	}
	// Output:
	// Submission 0.67 (median of 4 reviews per criterion) × 80% + reviewing 1.00 (no reviews were assigned) × 20% = 0.73.
	// Di's weight is 0.50: their reviews were within one level of the other reviewers on 1 of 2 criteria; they did no calibration.
	// Di gave Ana 17%; the other 3 reviewers' median is 67%.
}
