package allocate

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sim drives a pool with operations drawn from choose, as a caller would:
// it keeps its own copy of the stored assignments, applies each Change to
// it, and before each operation checks that a pool restored from the copy
// does exactly what the live pool does.
type sim struct {
	t       testing.TB
	choose  func(n int) int // a number in [0, n)
	p       *Pool
	k       int
	seed    string
	people  []string
	extras  int
	stored  map[[2]string]Assignment
	overK   bool // staff assigned by hand: counts may exceed k
	pinning bool // the run marks assignments started
	byHand  bool // the run has staff assign and reassign by hand
	steps   int
	as      []Assignment // the pool's assignments before the next operation
}

func newSim(t testing.TB, choose func(int) int, k, n int, pinning, byHand bool) *sim {
	seed := fmt.Sprint("seed", choose(1000))
	return &sim{t: t, choose: choose, p: New(k, seed), k: k, seed: seed, people: ids(n),
		stored: map[[2]string]Assignment{}, pinning: pinning, byHand: byHand}
}

func (s *sim) apply(c Change) {
	for _, a := range c.Added {
		if slices.ContainsFunc(c.Removed, func(r Assignment) bool { return r.Author == a.Author && r.Reviewer == a.Reviewer }) {
			s.t.Fatalf("step %d: %s/%s both removed and added", s.steps, a.Author, a.Reviewer)
		}
	}
	for _, a := range c.Removed {
		key := [2]string{a.Author, a.Reviewer}
		if _, ok := s.stored[key]; !ok {
			s.t.Fatalf("step %d: removed %+v which is not stored", s.steps, a)
		}
		delete(s.stored, key)
	}
	for _, a := range c.Added {
		key := [2]string{a.Author, a.Reviewer}
		if _, ok := s.stored[key]; ok {
			s.t.Fatalf("step %d: added %+v which is stored", s.steps, a)
		}
		s.stored[key] = a
	}
}

// op is one operation, run on the live pool and on a restored twin.
type op struct {
	name string
	auto bool // automatic: the invariants must hold after it
	run  func(p *Pool) (Change, error)
}

func (s *sim) pick() (op, bool) {
	p := s.p
	subs := p.Submitters()
	as := s.as
	switch c := s.choose(20); {
	case c < 9: // a submission, from anyone not submitted (a withdrawn learner may come back)
		var cand []string
		for _, id := range s.people {
			if !slices.Contains(subs, id) {
				cand = append(cand, id)
			}
		}
		if len(cand) == 0 {
			return op{}, false
		}
		id := cand[s.choose(len(cand))]
		return op{"Add " + id, true, func(p *Pool) (Change, error) { return p.Add(id) }}, true
	case c < 10:
		id := fmt.Sprint("ta", s.extras)
		s.extras++
		return op{"AddReviewer " + id, true, func(p *Pool) (Change, error) { return p.AddReviewer(id) }}, true
	case c < 12:
		if len(subs) == 0 {
			return op{}, false
		}
		id := subs[s.choose(len(subs))]
		return op{"Withdraw " + id, true, func(p *Pool) (Change, error) { return p.Withdraw(id) }}, true
	case c < 13:
		return op{"Fill", true, func(p *Pool) (Change, error) { return p.Fill(), nil }}, true
	case c < 16:
		if !s.pinning || len(as) == 0 {
			return op{}, false
		}
		a := as[s.choose(len(as))]
		return op{"Start " + a.Author + " " + a.Reviewer, false, func(p *Pool) (Change, error) {
			return Change{}, p.Start(a.Author, a.Reviewer)
		}}, true
	case c < 18:
		if len(as) == 0 {
			return op{}, false
		}
		a := as[s.choose(len(as))]
		return op{"Remove " + a.Author + " " + a.Reviewer, false, func(p *Pool) (Change, error) {
			return p.Remove(a.Author, a.Reviewer)
		}}, true
	case c < 19:
		if !s.byHand || len(as) == 0 {
			return op{}, false
		}
		a := as[s.choose(len(as))]
		to := s.people[s.choose(len(s.people))]
		return op{"Reassign " + a.Author + " " + a.Reviewer + " " + to, false, func(p *Pool) (Change, error) {
			rm, add, err := p.Reassign(a.Author, a.Reviewer, to)
			if err != nil {
				return Change{}, err
			}
			return Change{Removed: []Assignment{rm}, Added: []Assignment{add}}, nil
		}}, true
	default:
		if !s.byHand || len(subs) == 0 || s.choose(4) != 0 {
			return op{}, false
		}
		a, r := subs[s.choose(len(subs))], s.people[s.choose(len(s.people))]
		return op{"Assign " + a + " " + r, false, func(p *Pool) (Change, error) {
			as, err := p.Assign(a, r, ReasonReviewOneMore)
			if err == nil {
				s.overK = true
			}
			return Change{Added: []Assignment{as}}, err
		}}, true
	}
}

func (s *sim) step() {
	o, ok := s.pick()
	if !ok {
		return
	}
	s.steps++
	twin, err := Restore(s.k, s.seed, s.p.Submitters(), s.p.ExtraReviewers(), s.as)
	if err != nil {
		s.t.Fatalf("step %d: Restore: %v", s.steps, err)
	}
	c, err := o.run(s.p)
	c2, err2 := o.run(twin)
	if (err == nil) != (err2 == nil) || !reflect.DeepEqual(c, c2) {
		s.t.Fatalf("step %d %s: live %+v %v, restored %+v %v", s.steps, o.name, c, err, c2, err2)
	}
	if err != nil {
		return // refused: nothing changed
	}
	got := s.p.Assignments()
	s.as = got
	if strings.HasPrefix(o.name, "Start") {
		for _, a := range got {
			s.stored[[2]string{a.Author, a.Reviewer}] = a
		}
	}
	s.apply(c)
	if !reflect.DeepEqual(got, twin.Assignments()) {
		s.t.Fatalf("step %d %s: restored pool diverged", s.steps, o.name)
	}
	if len(got) != len(s.stored) {
		s.t.Fatalf("step %d %s: pool has %d assignments, the caller stored %d", s.steps, o.name, len(got), len(s.stored))
	}
	for _, a := range got {
		if s.stored[[2]string{a.Author, a.Reviewer}] != a {
			s.t.Fatalf("step %d %s: stored %+v, pool %+v", s.steps, o.name, s.stored[[2]string{a.Author, a.Reviewer}], a)
		}
	}
	s.verify(o, got)
}

func (s *sim) verify(o op, as []Assignment) {
	if err := CheckStaff(s.p); err != nil {
		s.t.Fatalf("step %d %s: %v", s.steps, o.name, err)
	}
	if !o.auto || s.overK {
		return
	}
	if err := CheckDuring(s.p); err != nil {
		s.t.Fatalf("step %d %s: %v", s.steps, o.name, err)
	}
	if !slices.ContainsFunc(as, func(a Assignment) bool { return a.Started || ByHand(a.Reason) }) {
		if err := Check(s.p); err != nil {
			s.t.Fatalf("step %d %s (nothing pinned): %v", s.steps, o.name, err)
		}
	}
}

var propertyRuns = flag.Int("allocate.runs", 60, "random runs of TestProperties")

func TestProperties(t *testing.T) {
	runs := *propertyRuns
	if testing.Short() {
		runs = min(runs, 30)
	}
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 14))
		k := 1 + rng.IntN(5)
		n := rng.IntN(201)
		if run%3 != 0 {
			n = rng.IntN(30) // small cohorts are where the corners are
		}
		s := newSim(t, rng.IntN, k, n, run%4 == 1, run%4 == 2)
		for range 2*n + 20 {
			s.step()
		}
		s.p.Fill()
		s.verify(op{name: "final Fill", auto: true}, s.p.Assignments())
	}
}

// FuzzAllocate turns bytes into a run of operations and checks invariants
// after each one.
func FuzzAllocate(f *testing.F) {
	f.Add([]byte{3, 10, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 5, 0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
	f.Add([]byte{5, 30, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 19, 18, 17, 12, 11, 3, 3, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		i := 0
		choose := func(n int) int {
			if i >= len(data) || n <= 1 {
				return 0
			}
			i++
			return int(data[i-1]) % n
		}
		k := 1 + int(data[0])%5
		n := int(data[1]) % 40
		i = 2
		s := newSim(t, choose, k, n, data[0]&0x80 != 0, data[0]&0x40 != 0)
		for i < len(data) && s.steps < 200 {
			s.step()
		}
		s.p.Fill()
		s.verify(op{name: "final Fill", auto: true}, s.p.Assignments())
	})
}
