package allocate

import (
	"errors"
	"fmt"
)

// Check verifies every invariant: no self-review, no pair twice, every
// submission at exactly its target (never above k), loads of eligible
// reviewers within one of each other, and only eligible reviewers (or kept
// started reviews). It holds after Add, AddReviewer, Withdraw and Fill when
// started assignments leave rebalancing free, and staff have not used Assign,
// Reassign or a Remove without replacement.
func Check(p *Pool) error { return p.verify(true, true) }

// CheckDuring verifies all but load balance: what holds after any automatic
// operation even when started assignments pin the loads.
func CheckDuring(p *Pool) error { return p.verify(true, false) }

// CheckStaff verifies what holds whatever staff do by hand: no self-review,
// no pair twice, only eligible reviewers (or kept started reviews).
func CheckStaff(p *Pool) error { return p.verify(false, false) }

func (p *Pool) verify(complete, balanced bool) error {
	var errs []error
	for a := range p.members {
		m := &p.members[a]
		seen := map[int]bool{}
		for _, e := range m.in {
			r := &p.members[e.reviewer]
			switch {
			case e.reviewer == a:
				errs = append(errs, fmt.Errorf("%q reviews their own submission", m.id))
			case seen[e.reviewer]:
				errs = append(errs, fmt.Errorf("%q reviews %q twice", r.id, m.id))
			case r.class == gone && !e.started:
				errs = append(errs, fmt.Errorf("%q is not an eligible reviewer but reviews %q (not started)", r.id, m.id))
			}
			seen[e.reviewer] = true
		}
		if len(m.in) > 0 && m.class != submitter {
			errs = append(errs, fmt.Errorf("%q is not a submitter but has %d reviewers", m.id, len(m.in)))
		}
		if complete && m.class == submitter {
			if t := p.target(a); len(m.in) != t {
				errs = append(errs, fmt.Errorf("submission of %q has %d reviewers, want %d", m.id, len(m.in), t))
			}
		}
	}
	if balanced {
		lo, hi, _ := p.loadRange()
		if hi-lo > 1 {
			var least, most string
			for r := range p.members {
				if p.isEligible(r) {
					switch len(p.members[r].out) {
					case lo:
						least = p.members[r].id
					case hi:
						most = p.members[r].id
					}
				}
			}
			errs = append(errs, fmt.Errorf("loads range from %d (%q) to %d (%q)", lo, least, hi, most))
		}
	}
	return errors.Join(errs...)
}
