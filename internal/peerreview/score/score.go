package score

import (
	"cmp"
	"math"
	"slices"
)

// Aggregations of the reviewers' points per criterion.
const (
	Median   = "median"
	Mean     = "mean"
	Weighted = "weighted"
)

// Bases of the reviewing score.
const (
	Completion  = "completion"
	Helpfulness = "helpfulness"
	Accuracy    = "accuracy"
)

// WeightFormula explains reviewer weights to instructors, in the words of
// the package documentation.
const WeightFormula = "A reviewer's weight says how closely their judgement matches yours and their peers'. " +
	"Calibration is the share of criteria, on the example submissions you graded, where the reviewer's level was within one level of yours. " +
	"Agreement is the share of criteria, on the submissions they reviewed, where their level was within one level of the median of the other reviewers, counted only where at least two others reviewed the same submission. " +
	"The weight is the mean of the two, or the one available, but never below 0.1, so every review still counts a little; " +
	"a reviewer with neither has the weight 1."

// Defaults and bounds.
const (
	DefaultSubmissionWeight = 0.8
	DefaultOutlierThreshold = 0.25
	MinWeight               = 0.1
)

// Level is one step of a criterion's scale.
type Level struct {
	Points float64
	Label  string
}

// Criterion is one line of the rubric. Without levels it is comment-only
// and carries no points.
type Criterion struct {
	ID     string
	Title  string
	Levels []Level
}

// Max is the points of the criterion's highest level, 0 when comment-only.
func (c Criterion) Max() float64 {
	m := 0.0
	for _, l := range c.Levels {
		m = max(m, l.Points)
	}
	return m
}

// Rubric is the list of criteria reviewers assess.
type Rubric struct {
	Criteria []Criterion
}

// Max is the sum of the scored criteria's maxima.
func (r Rubric) Max() float64 {
	m := 0.0
	for _, c := range r.Criteria {
		m += c.Max()
	}
	return m
}

// Review is one reviewer's assessment of one author's submission. Reviewer
// equal to Author makes it a self-assessment.
type Review struct {
	ID       string
	Author   string
	Reviewer string
	// Points maps a criterion's ID to the points given.
	Points map[string]float64
	Done   bool
	OnTime bool
	// Helpfulness is the author's rating of the review, 1 to 5; 0 is not rated.
	Helpfulness int
}

// Calibration is a reviewer's assessment of an example submission.
type Calibration struct {
	Reviewer string
	Example  string
	Points   map[string]float64
}

// Example is the instructor's assessment of an example submission, the key
// calibrations are compared with.
type Example struct {
	ID     string
	Points map[string]float64
}

// Override is a grade the instructor set, with their reason.
type Override struct {
	Fraction float64
	Note     string
}

// Config is the activity's grading settings. Zero values take the defaults:
// Aggregation Median, SubmissionWeight 0.8, ReviewingBasis Completion,
// OutlierThreshold 0.25. Unknown names take the default too.
type Config struct {
	Aggregation string
	// SubmissionWeight is the submission's share of the grade, the rest
	// being the reviewing score's. Zero means the default, as an activity
	// graded on reviewing alone is not peer review.
	SubmissionWeight float64
	ReviewingBasis   string
	OutlierThreshold float64
}

func (c Config) normalized() Config {
	switch c.Aggregation {
	case Median, Mean, Weighted:
	default:
		c.Aggregation = Median
	}
	switch c.ReviewingBasis {
	case Completion, Helpfulness, Accuracy:
	default:
		c.ReviewingBasis = Completion
	}
	if !(c.SubmissionWeight > 0) {
		c.SubmissionWeight = DefaultSubmissionWeight
	}
	c.SubmissionWeight = min(c.SubmissionWeight, 1)
	if !(c.OutlierThreshold > 0) {
		c.OutlierThreshold = DefaultOutlierThreshold
	}
	return c
}

// Input is everything one activity's grades depend on.
type Input struct {
	Rubric Rubric
	Config Config
	// Authors are the learners who submitted; authors of reviews count too.
	Authors []string
	// Learners are everyone to grade, whether they submitted or not.
	Learners []string
	// Assigned is the number of reviews assigned to each reviewer, not
	// counting self-assessments. Reviews listed count as assigned if more.
	Assigned     map[string]int
	Reviews      []Review
	Examples     []Example
	Calibrations []Calibration
	// Overrides are grades the instructor set, by learner.
	Overrides map[string]Override
	// Name is the display name of a learner in explanations; nil shows ids.
	// Double-blind activities pass neutral names.
	Name func(id string) string
}

// Result is the activity's grades and reports.
type Result struct {
	// Grades has every learner and author.
	Grades map[string]Grade
	// Weights has every learner, reviewer and calibrating reviewer.
	Weights map[string]Weight
	// Outliers are sorted by author, reviewer and review ID.
	Outliers []Outlier
	// TitForTat pairs are sorted, A before B.
	TitForTat []Pair
}

// Grade is one learner's grade. Fractions are from 0 to 1.
type Grade struct {
	Learner string
	// Submitted tells whether the learner submitted work.
	Submitted bool
	// Submission is the submission score, 0 when not scored.
	Submission       float64
	SubmissionScored bool
	// SubmissionReviews is the number of completed reviews it came from.
	SubmissionReviews int
	// PerCriterion is the aggregated points by criterion ID.
	PerCriterion map[string]float64
	// SelfAssessment is the fraction given by the last completed
	// self-assessment listed, shown but never counted.
	SelfAssessment float64
	SelfAssessed   bool
	Reviewing      float64
	// Combined is the grade, rounded to four decimals: the override when
	// Overridden, else Computed.
	Combined    float64
	Overridden  bool
	Computed    float64
	Explanation string
}

// Weight is how much a reviewer's reviews count in the weighted
// aggregation, with what it was measured from.
type Weight struct {
	Reviewer string
	Value    float64
	// Calibration is CalibrationOf / CalibrationN, 0 when CalibrationN is 0.
	Calibration                 float64
	CalibrationOf, CalibrationN int
	// Agreement is AgreementOf / AgreementN, 0 when AgreementN is 0.
	Agreement               float64
	AgreementOf, AgreementN int
	Explanation             string
}

// Outlier is a completed review whose total is far from the other reviews'
// of the same submission. Given and OthersMedian are fractions.
type Outlier struct {
	ReviewID     string
	Reviewer     string
	Author       string
	Given        float64
	OthersMedian float64
	Explanation  string
}

// Pair is two learners who reviewed each other and both deviated from the
// other reviewers in the same direction. AGaveB and BGaveA are fractions.
type Pair struct {
	A, B           string
	AGaveB, BGaveA float64
	Explanation    string
}

// crit is a scored criterion ready for computing.
type crit struct {
	id string
	// levels are the points of the levels, ascending.
	levels []float64
	max    float64
}

// clamp keeps points on the criterion's range; blank or invalid is 0.
func (c *crit) clamp(p float64) float64 {
	if !(p > 0) {
		return 0
	}
	return min(p, c.max)
}

// index is the position on the scale of the level nearest to p, the lower
// one on a tie.
func (c *crit) index(p float64) int {
	best, bestD := 0, math.Inf(1)
	for i, l := range c.levels {
		if d := math.Abs(p - l); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func scoredCriteria(r Rubric) []crit {
	var cs []crit
	for _, c := range r.Criteria {
		m := c.Max()
		if m <= 0 {
			continue
		}
		ls := make([]float64, len(c.Levels))
		for i, l := range c.Levels {
			ls[i] = l.Points
		}
		slices.Sort(ls)
		cs = append(cs, crit{id: c.ID, levels: slices.Compact(ls), max: m})
	}
	return cs
}

// median sorts xs in place and returns its median; xs must not be empty.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func clamp01(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}

// sortedKeys returns a set's keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, cmp.Compare[string])
	return ks
}
