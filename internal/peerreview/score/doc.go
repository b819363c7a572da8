// Package score computes the grades of one peer-review activity: each
// learner's submission score, each reviewer's weight, reviewing score and
// combined grade, and the reviews an instructor may want to look at
// (outliers and pairs who seem to have traded marks). It is pure
// computation: no database, no I/O, no global state. The same input always
// gives the same result.
//
// # What counts
//
// Only completed reviews count. A review in which the reviewer is the author
// is a self-assessment: it is reported on the author's grade but never
// counts toward any score, weight or outlier. Criteria without levels are
// comment-only and carry no points; the rubric's maximum is the sum of each
// scored criterion's highest level. Points a completed review or a
// calibration leaves blank for a scored criterion count as 0, and points
// are kept between 0 and the criterion's maximum.
//
// # Submission score
//
// For each scored criterion the points of the completed reviews are
// combined: by their median (the default, so one unusually harsh or generous
// reviewer does not move the score), by their mean, or by a mean in which
// each review counts as much as its reviewer's weight ("weighted"). The
// combined points are added over the criteria and divided by the rubric's
// maximum, giving a fraction from 0 to 1. A submission with no completed
// reviews is not scored; it counts as 0 in the grade until it is reviewed
// or the instructor sets the grade.
//
// # Reviewer weight
//
// Two measures say how closely a reviewer's judgement matches others', both
// counted per criterion and "within one level": the reviewer's level and the
// reference level are at most one step apart on that criterion's scale (we
// compare positions on the scale, not raw points, so criteria with big and
// small point ranges count alike).
//
//   - Calibration: on the example submissions you graded, the share of
//     criteria where the reviewer's level was within one level of yours.
//   - Agreement: on the reviewer's completed reviews, the share of criteria
//     within one level of the median of the other reviewers of the same
//     submission. A review is only compared when at least two others
//     reviewed the same submission, since one other reviewer is no consensus.
//
// The weight is the mean of the measures available, but never below 0.1, so
// every review still counts a little. A reviewer with neither measure has
// the weight 1, like everyone in the unweighted aggregations. [WeightFormula]
// says this to instructors.
//
// # Outliers and traded marks
//
// A completed review is an outlier when its total (as a fraction of the
// rubric's maximum) differs from the median total of the other reviews of
// the same submission by more than the threshold (0.25 unless configured),
// again only when at least two others reviewed it. Two learners who reviewed
// each other are reported as a pair when both reviews are outliers in the
// same direction: both far above what the other reviewers gave, as when two
// friends give each other full marks, or both far below, as in a feud.
// These are reports for the instructor; they change no score by themselves.
//
// # Reviewing score
//
// The reviewing score is the share of the reviews assigned to the learner
// that they completed, where a review completed on time counts 1 and one
// completed late counts ½. With the basis "helpfulness" it is the mean of
// that share and the authors' helpfulness ratings (1 to 5, mapped to 0 to
// 1); with "accuracy", the mean of that share and the reviewer's weight.
// When there are no ratings, or no weight could be measured, the share
// alone is the score. A learner who submitted but was assigned no reviews
// (nobody was left for them to review) gets full reviewing credit; a
// learner who neither submitted nor was assigned reviews gets 0.
//
// # Grade
//
// The combined grade is submission × submission weight + reviewing ×
// (1 − submission weight), 80 % and 20 % unless configured, rounded to four
// decimals. A grade the instructor set wins; its explanation still shows the
// computed grade for reference.
package score
