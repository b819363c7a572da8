package score

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// eps absorbs floating-point noise when comparing with thresholds, so that
// a difference of exactly the threshold is never an outlier.
const eps = 1e-9

// rev is a completed review ready for computing: points clamped to each
// scored criterion's range, in rubric order.
type rev struct {
	id, reviewer string
	pts          []float64
	idx          []int
	frac         float64
}

// tally is what is known about one reviewer.
type tally struct {
	listed, done, late int // non-self reviews listed, completed, completed late
	helpSum, helpN     int
	calOf, calN        int
	agOf, agN          int
}

// Compute grades one activity. See the package documentation for the
// formulas.
func Compute(in Input) Result {
	cfg := in.Config.normalized()
	cs := scoredCriteria(in.Rubric)
	rmax := 0.0
	for _, c := range cs {
		rmax += c.max
	}
	name := in.Name
	if name == nil {
		name = func(id string) string { return id }
	}

	tallies := make(map[string]*tally)
	tallyOf := func(id string) *tally {
		t := tallies[id]
		if t == nil {
			t = &tally{}
			tallies[id] = t
		}
		return t
	}
	prepare := func(id, reviewer string, points map[string]float64) rev {
		r := rev{id: id, reviewer: reviewer, pts: make([]float64, len(cs)), idx: make([]int, len(cs))}
		total := 0.0
		for i := range cs {
			p := cs[i].clamp(points[cs[i].id])
			r.pts[i], r.idx[i] = p, cs[i].index(p)
			total += p
		}
		if rmax > 0 {
			r.frac = total / rmax
		}
		return r
	}

	submitted := make(map[string]bool, len(in.Authors))
	for _, a := range in.Authors {
		submitted[a] = true
	}
	byAuthor := make(map[string][]rev)
	selfs := make(map[string]rev)
	for _, r := range in.Reviews {
		if r.Author == "" || r.Reviewer == "" {
			continue
		}
		submitted[r.Author] = true
		if r.Reviewer == r.Author {
			if r.Done {
				selfs[r.Author] = prepare(r.ID, r.Reviewer, r.Points)
			}
			continue
		}
		t := tallyOf(r.Reviewer)
		t.listed++
		if !r.Done {
			continue
		}
		t.done++
		if !r.OnTime {
			t.late++
		}
		if r.Helpfulness >= 1 && r.Helpfulness <= 5 {
			t.helpSum += r.Helpfulness
			t.helpN++
		}
		byAuthor[r.Author] = append(byAuthor[r.Author], prepare(r.ID, r.Reviewer, r.Points))
	}
	authors := sortedKeys(byAuthor)
	for _, a := range authors {
		// Input order must not change the sums' rounding.
		slices.SortFunc(byAuthor[a], func(x, y rev) int {
			return cmp2(x.reviewer, y.reviewer, x.id, y.id)
		})
	}

	// Agreement and outliers compare each review with the others of the
	// same submission: linear in the reviews, times the reviews per
	// submission.
	var outliers []Outlier
	buf := make([]float64, 0, 16)
	for _, a := range authors {
		g := byAuthor[a]
		if len(g) < 3 {
			continue
		}
		for i := range g {
			t := tallyOf(g[i].reviewer)
			for ci := range cs {
				buf = buf[:0]
				for j := range g {
					if j != i {
						buf = append(buf, float64(g[j].idx[ci]))
					}
				}
				t.agN++
				if math.Abs(float64(g[i].idx[ci])-median(buf)) <= 1+eps {
					t.agOf++
				}
			}
			if rmax == 0 {
				continue
			}
			buf = buf[:0]
			for j := range g {
				if j != i {
					buf = append(buf, g[j].frac)
				}
			}
			m := median(buf)
			if math.Abs(g[i].frac-m) > cfg.OutlierThreshold+eps {
				outliers = append(outliers, Outlier{
					ReviewID: g[i].id, Reviewer: g[i].reviewer, Author: a,
					Given: g[i].frac, OthersMedian: m,
					Explanation: fmt.Sprintf("%s gave %s %s; the other %d reviewers' median is %s.",
						name(g[i].reviewer), name(a), pct(g[i].frac), len(g)-1, pct(m)),
				})
			}
		}
	}

	keys := make(map[string]map[string]float64, len(in.Examples))
	for _, e := range in.Examples {
		keys[e.ID] = e.Points
	}
	for _, c := range in.Calibrations {
		key, ok := keys[c.Example]
		if !ok || c.Reviewer == "" {
			continue
		}
		t := tallyOf(c.Reviewer)
		for i := range cs {
			kp, ok := key[cs[i].id]
			if !ok {
				continue // the instructor did not grade this criterion
			}
			t.calN++
			d := cs[i].index(cs[i].clamp(c.Points[cs[i].id])) - cs[i].index(cs[i].clamp(kp))
			if d >= -1 && d <= 1 {
				t.calOf++
			}
		}
	}

	people := make(map[string]bool)
	for _, id := range in.Learners {
		people[id] = true
	}
	for id := range submitted {
		people[id] = true
	}
	for id := range in.Overrides {
		people[id] = true
	}
	weights := make(map[string]Weight, len(people)+len(tallies))
	for id := range people {
		weights[id] = weigh(id, tallies[id], name(id))
	}
	for id, t := range tallies {
		if !people[id] {
			weights[id] = weigh(id, t, name(id))
		}
	}

	grades := make(map[string]Grade, len(people))
	for id := range people {
		g := Grade{Learner: id, Submitted: submitted[id]}
		var subWhy string
		switch reviews := byAuthor[id]; {
		case !g.Submitted:
			subWhy = "nothing submitted"
		case rmax == 0:
			subWhy = "the rubric has no scored criteria"
		case len(reviews) == 0:
			subWhy = "not yet reviewed, counted as 0"
		default:
			g.Submission, g.PerCriterion = aggregate(cfg.Aggregation, cs, rmax, reviews, weights, buf)
			g.SubmissionScored = true
			g.SubmissionReviews = len(reviews)
			subWhy = aggregation(cfg.Aggregation, len(reviews))
		}
		if s, ok := selfs[id]; ok && rmax > 0 {
			g.SelfAssessed, g.SelfAssessment = true, s.frac
			subWhy += fmt.Sprintf("; self-assessment %.2f not counted", s.frac)
		}
		var revWhy string
		g.Reviewing, revWhy = reviewing(cfg.ReviewingBasis, tallies[id], in.Assigned[id], g.Submitted, weights[id])
		sw := cfg.SubmissionWeight
		g.Computed = round4(sw*g.Submission + (1-sw)*g.Reviewing)
		g.Combined = g.Computed
		g.Explanation = fmt.Sprintf("Submission %.2f (%s) × %s + reviewing %.2f (%s) × %s = %.2f.",
			g.Submission, subWhy, pct(sw), g.Reviewing, revWhy, pct(1-sw), g.Computed)
		if o, ok := in.Overrides[id]; ok {
			g.Overridden = true
			g.Combined = round4(clamp01(o.Fraction))
			note := ""
			if n := strings.TrimSpace(o.Note); n != "" {
				note = " (" + n + ")"
			}
			g.Explanation = fmt.Sprintf("Set by the instructor to %.2f%s. Computed for reference: %s",
				g.Combined, note, g.Explanation)
		}
		grades[id] = g
	}

	slices.SortFunc(outliers, func(x, y Outlier) int {
		if c := cmp2(x.Author, y.Author, x.Reviewer, y.Reviewer); c != 0 {
			return c
		}
		return strings.Compare(x.ReviewID, y.ReviewID)
	})
	return Result{
		Grades:    grades,
		Weights:   weights,
		Outliers:  outliers,
		TitForTat: pairs(outliers, name),
	}
}

// aggregate combines the completed reviews of one submission per criterion
// and returns the fraction of the rubric's maximum and the points by
// criterion. buf is scratch space.
func aggregate(how string, cs []crit, rmax float64, g []rev, weights map[string]Weight, buf []float64) (float64, map[string]float64) {
	per := make(map[string]float64, len(cs))
	total := 0.0
	for ci := range cs {
		var v float64
		switch how {
		case Mean:
			for _, r := range g {
				v += r.pts[ci]
			}
			v /= float64(len(g))
		case Weighted:
			var sw float64
			for _, r := range g {
				w := weights[r.reviewer].Value
				v += w * r.pts[ci]
				sw += w
			}
			v /= sw // every weight is at least MinWeight
		default:
			buf = buf[:0]
			for _, r := range g {
				buf = append(buf, r.pts[ci])
			}
			v = median(buf)
		}
		per[cs[ci].id] = v
		total += v
	}
	return clamp01(total / rmax), per
}

func aggregation(how string, n int) string {
	if n == 1 {
		return "from 1 review"
	}
	what := "median"
	switch how {
	case Mean:
		what = "mean"
	case Weighted:
		what = "reviewer-weighted mean"
	}
	return fmt.Sprintf("%s of %d reviews per criterion", what, n)
}

// weigh computes a reviewer's weight from their tally, which may be nil.
func weigh(id string, t *tally, who string) Weight {
	w := Weight{Reviewer: id, Value: 1}
	if t == nil {
		t = &tally{}
	}
	w.CalibrationOf, w.CalibrationN = t.calOf, t.calN
	w.AgreementOf, w.AgreementN = t.agOf, t.agN
	var sum float64
	var n int
	if t.calN > 0 {
		w.Calibration = float64(t.calOf) / float64(t.calN)
		sum += w.Calibration
		n++
	}
	if t.agN > 0 {
		w.Agreement = float64(t.agOf) / float64(t.agN)
		sum += w.Agreement
		n++
	}
	value := fmt.Sprintf("%.2f", w.Value)
	if n > 0 {
		w.Value = max(sum/float64(n), MinWeight)
		value = fmt.Sprintf("%.2f", w.Value)
		if sum/float64(n) < MinWeight {
			value += " (the minimum)"
		}
	}
	cal := fmt.Sprintf("their calibration ratings were within one level of yours on %d of %d criteria", t.calOf, t.calN)
	ag := fmt.Sprintf("their reviews were within one level of the other reviewers on %d of %d criteria", t.agOf, t.agN)
	switch {
	case t.calN > 0 && t.agN > 0:
		w.Explanation = fmt.Sprintf("%s's weight is %s: %s, and %s.", who, value, cal, ag)
	case t.calN > 0:
		w.Explanation = fmt.Sprintf("%s's weight is %s: %s; there were too few other reviews to compare theirs with.", who, value, cal)
	case t.agN > 0:
		w.Explanation = fmt.Sprintf("%s's weight is %s: %s; they did no calibration.", who, value, ag)
	default:
		w.Explanation = fmt.Sprintf("%s's weight is %s, the default: they did no calibration and there were too few other reviews to compare theirs with.", who, value)
	}
	return w
}

// reviewing computes a learner's reviewing score and says why.
func reviewing(basis string, t *tally, assigned int, submitted bool, w Weight) (float64, string) {
	if t == nil {
		t = &tally{}
	}
	n := max(assigned, t.listed)
	if n == 0 {
		if submitted {
			return 1, "no reviews were assigned"
		}
		return 0, "no reviews were assigned"
	}
	done := min(t.done, n)
	late := min(t.late, done)
	share := (float64(done-late) + 0.5*float64(late)) / float64(n)
	why := fmt.Sprintf("%d of %d %s done on time", done, n, plural(n, "review"))
	if late > 0 {
		why = fmt.Sprintf("%d of %d %s done, %d late and counted half", done, n, plural(n, "review"), late)
	}
	switch basis {
	case Helpfulness:
		if t.helpN == 0 {
			return share, why + "; no helpfulness ratings yet"
		}
		h := (float64(t.helpSum)/float64(t.helpN) - 1) / 4
		return clamp01((share + h) / 2), fmt.Sprintf("%s, averaged with helpfulness %.2f from %d %s",
			why, h, t.helpN, plural(t.helpN, "rating"))
	case Accuracy:
		if w.CalibrationN+w.AgreementN == 0 {
			return share, why + "; accuracy not measured yet"
		}
		return clamp01((share + w.Value) / 2), fmt.Sprintf("%s, averaged with reviewer weight %.2f", why, w.Value)
	}
	return share, why
}

// pairs finds learners who reviewed each other with outliers in the same
// direction. outliers must be sorted.
func pairs(outliers []Outlier, name func(string) string) []Pair {
	// By reviewer and author; with several reviews of the same submission
	// by the same reviewer, the furthest from the others stands.
	by := make(map[[2]string]Outlier, len(outliers))
	for _, o := range outliers {
		k := [2]string{o.Reviewer, o.Author}
		if p, ok := by[k]; !ok || math.Abs(o.Given-o.OthersMedian) > math.Abs(p.Given-p.OthersMedian) {
			by[k] = o
		}
	}
	var ps []Pair
	for _, o := range outliers {
		if o.Reviewer >= o.Author || by[[2]string{o.Reviewer, o.Author}] != o {
			continue
		}
		back, ok := by[[2]string{o.Author, o.Reviewer}]
		if !ok || (o.Given-o.OthersMedian)*(back.Given-back.OthersMedian) <= 0 {
			continue
		}
		dir := "more"
		if o.Given < o.OthersMedian {
			dir = "less"
		}
		a, b := name(o.Reviewer), name(o.Author)
		ps = append(ps, Pair{
			A: o.Reviewer, B: o.Author, AGaveB: o.Given, BGaveA: back.Given,
			Explanation: fmt.Sprintf("%s and %s reviewed each other and both gave far %s than the other reviewers: %s gave %s %s (others' median %s) and %s gave %s %s (others' median %s).",
				a, b, dir, a, b, pct(o.Given), pct(o.OthersMedian), b, a, pct(back.Given), pct(back.OthersMedian)),
		})
	}
	slices.SortFunc(ps, func(x, y Pair) int { return cmp2(x.A, y.A, x.B, y.B) })
	return ps
}

// pct shows a fraction as a whole percentage.
func pct(f float64) string {
	return strconv.FormatFloat(math.Round(f*100), 'f', -1, 64) + "%"
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func cmp2(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}
