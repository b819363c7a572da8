package allocate

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// evenest enumerates every allocation that keeps the pinned assignments
// (started or by hand) and every submission's count, and returns the least
// possible greatest load and the greatest possible least load among
// eligible reviewers. Tiny pools only.
func evenest(p *Pool) (leastMax, mostMin int) {
	var eligible []int
	for r := range p.members {
		if p.isEligible(r) {
			eligible = append(eligible, r)
		}
	}
	type slot struct {
		choices [][]int // sets of free reviewers it may take
	}
	base := make([]int, len(p.members))
	var slots []slot
	for a := range p.members {
		m := &p.members[a]
		free, pinnedOn := 0, map[int]bool{}
		for _, e := range m.in {
			if e.pinned() {
				base[e.reviewer]++
				pinnedOn[e.reviewer] = true
			} else {
				free++
			}
		}
		if free == 0 {
			continue
		}
		var cand []int
		for _, r := range eligible {
			if r != a && !pinnedOn[r] {
				cand = append(cand, r)
			}
		}
		var sets [][]int
		var rec func(i int, cur []int)
		rec = func(i int, cur []int) {
			if len(cur) == free {
				sets = append(sets, append([]int(nil), cur...))
				return
			}
			for j := i; j < len(cand); j++ {
				rec(j+1, append(cur, cand[j]))
			}
		}
		rec(0, nil)
		slots = append(slots, slot{sets})
	}
	leastMax, mostMin = 1<<30, -1
	load := append([]int(nil), base...)
	var walk func(i int)
	walk = func(i int) {
		if i == len(slots) {
			lo, hi := 1<<30, -1
			for _, r := range eligible {
				lo, hi = min(lo, load[r]), max(hi, load[r])
			}
			leastMax, mostMin = min(leastMax, hi), max(mostMin, lo)
			return
		}
		for _, set := range slots[i].choices {
			for _, r := range set {
				load[r]++
			}
			walk(i + 1)
			for _, r := range set {
				load[r]--
			}
		}
	}
	walk(0)
	return leastMax, mostMin
}

// After every automatic operation the loads are as even as the pinned
// assignments allow: the greatest load is the least possible and the least
// load the greatest possible. Checked by brute force on tiny pools.
func TestLoadsAsEvenAsPossible(t *testing.T) {
	checked := 0
	for run := range 300 {
		rng := rand.New(rand.NewPCG(uint64(run), 7))
		k := 1 + rng.IntN(3)
		p := New(k, fmt.Sprint(run))
		people := ids(5)
		extras := 0
		for step := range 14 {
			var err error
			auto := true
			switch c := rng.IntN(10); {
			case c < 5:
				_, err = p.Add(people[rng.IntN(len(people))])
			case c < 6 && extras < 1:
				_, err = p.AddReviewer("ta")
				extras++
			case c < 7:
				_, err = p.Withdraw(people[rng.IntN(len(people))])
			case c < 9:
				auto = false
				if as := p.Assignments(); len(as) > 0 {
					a := as[rng.IntN(len(as))]
					if rng.IntN(3) == 0 {
						_, _, err = p.Reassign(a.Author, a.Reviewer, people[rng.IntN(len(people))])
					} else {
						err = p.Start(a.Author, a.Reviewer)
					}
				}
			default:
				p.Fill()
			}
			if err != nil || !auto {
				continue
			}
			lo, hi, ok := p.loadRange()
			if !ok {
				continue
			}
			wantMax, wantMin := evenest(p)
			checked++
			if hi != wantMax || lo != wantMin {
				t.Fatalf("run %d step %d: loads %d..%d, best possible %d..%d\n%+v", run, step, lo, hi, wantMin, wantMax, p.Assignments())
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d states checked", checked)
	}
}
