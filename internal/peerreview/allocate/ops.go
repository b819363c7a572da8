package allocate

import (
	"fmt"
	"slices"
)

// Add records the submission of author and allocates at once: the new
// submission goes to the least-loaded reviewers, the author is given the
// submissions still short of reviewers, and then takes movable reviews
// over from the most loaded reviewers, until loads differ by at most one or
// are as even as pinned assignments allow (see the package doc). The Change
// lists the reviews moved to the author as removed from their old reviewer.
// It refuses an empty id and an author who has submitted already.
// An author who was an extra reviewer becomes a submitter; one who withdrew
// may submit again and counts as a new arrival.
func (p *Pool) Add(author string) (Change, error) {
	if author == "" {
		return Change{}, fmt.Errorf("%w: empty author", ErrUnknown)
	}
	x := p.member(author)
	if p.members[x].class == submitter {
		return Change{}, fmt.Errorf("%w: %q has submitted already", ErrDuplicate, author)
	}
	if p.members[x].class == extra {
		p.eligible-- // join counts it again
		p.members[x].class = gone
	}
	p.join(x, submitter)
	p.begin(func(a, r int, moved bool) string {
		switch {
		case r == x:
			return ReasonSubmitted
		case a == x:
			return ReasonNewSubmission
		case moved:
			return ReasonRebalanced
		}
		return ReasonReplaced
	})
	return p.end(true), nil
}

// AddReviewer allows id, who has not submitted, to review (an instructor
// option). They take movable reviews over from the most loaded reviewers.
func (p *Pool) AddReviewer(id string) (Change, error) {
	if id == "" {
		return Change{}, fmt.Errorf("%w: empty reviewer", ErrUnknown)
	}
	x := p.member(id)
	if p.members[x].class != gone {
		return Change{}, fmt.Errorf("%w: %q may review already", ErrDuplicate, id)
	}
	p.join(x, extra)
	p.begin(func(a, r int, moved bool) string {
		switch {
		case r == x:
			return ReasonExtraReviewer
		case moved:
			return ReasonRebalanced
		}
		return ReasonReplaced
	})
	return p.end(true), nil
}

// Fill ends the submission phase: every submission is completed to its
// target, min(k, E-1+R) (see the package doc), and loads are evened out as
// far as pinned assignments allow. After dynamic allocation it usually has
// nothing to do; it matters when allocation waited for the end, or when
// started or removed reviews left gaps.
func (p *Pool) Fill() Change {
	p.begin(func(a, r int, moved bool) string {
		if moved {
			return ReasonRebalanced
		}
		return ReasonFill
	})
	return p.end(true)
}

// Withdraw takes a submitter out (they dropped the course): every assignment
// of their submission is removed, and so are their reviews not started;
// started ones are kept, since the work may be done, and still count for
// their submissions. The reviews they owed are given to others.
func (p *Pool) Withdraw(author string) (Change, error) {
	x, ok := p.index[author]
	if !ok || p.members[x].class != submitter {
		return Change{}, fmt.Errorf("%w: %q is not a submitter", ErrUnknown, author)
	}
	p.begin(func(a, r int, moved bool) string {
		if moved {
			return ReasonRebalanced
		}
		return ReasonReplaced
	})
	// Canonical order, so that the Change does not depend on how the pool
	// was built.
	var revs []int
	for _, e := range p.members[x].in {
		revs = append(revs, e.reviewer)
	}
	slices.SortFunc(revs, p.cmpMembers)
	for _, r := range revs {
		p.unlink(x, r)
	}
	authors := slices.SortedFunc(slices.Values(p.members[x].out), p.cmpMembers)
	for _, a := range authors {
		if !p.edge(a, x).started {
			p.unlink(a, x)
		}
	}
	p.members[x].class = gone
	p.eligible--
	return p.end(true), nil
}

// Remove is a staff removal of one assignment, started or not. Another
// reviewer replaces it when one can (never the removed one in this
// operation), and loads are evened out again. A later operation may pair
// the two again: the pool keeps no list of forbidden pairs.
func (p *Pool) Remove(author, reviewer string) (Change, error) {
	a, r, err := p.pair(author, reviewer)
	if err != nil {
		return Change{}, err
	}
	if !p.has(a, r) {
		return Change{}, fmt.Errorf("%w: %q does not review %q", ErrUnknown, reviewer, author)
	}
	p.begin(func(a, r int, moved bool) string {
		if moved {
			return ReasonRebalanced
		}
		return ReasonReplaced
	})
	p.blocked = [2]int{a, r}
	p.unlink(a, r)
	return p.end(true), nil
}

// Assign is a staff assignment by hand, with reason (ReasonStaff if empty,
// or e.g. ReasonReviewOneMore). It may exceed k and unbalance loads: staff
// decide, and no later rebalancing moves it. It refuses self-review,
// duplicates, unknown authors, reviewers who are not eligible, and the
// reasons the pool gives itself (see ByHand).
func (p *Pool) Assign(author, reviewer, reason string) (Assignment, error) {
	if reason != "" && !ByHand(reason) {
		return Assignment{}, fmt.Errorf("allocate: reason %q is not one staff give by hand", reason)
	}
	a, r, err := p.pair(author, reviewer)
	if err != nil {
		return Assignment{}, err
	}
	if err := p.check(a, r); err != nil {
		return Assignment{}, err
	}
	if reason == "" {
		reason = ReasonStaff
	}
	p.link(a, r, reason, false)
	return p.assignment(a, edge{reviewer: r, reason: reason}), nil
}

// Reassign is a staff move of one assignment, started or not, from one
// reviewer to another (ReasonStaff). Like Assign, it may unbalance loads,
// and no later rebalancing moves the new assignment.
func (p *Pool) Reassign(author, from, to string) (removed, added Assignment, err error) {
	a, f, err := p.pair(author, from)
	if err != nil {
		return removed, added, err
	}
	if !p.has(a, f) {
		return removed, added, fmt.Errorf("%w: %q does not review %q", ErrUnknown, from, author)
	}
	t, ok := p.index[to]
	if !ok {
		return removed, added, fmt.Errorf("%w: reviewer %q", ErrUnknown, to)
	}
	if err := p.check(a, t); err != nil {
		return removed, added, err
	}
	removed = p.assignment(a, p.unlink(a, f))
	p.link(a, t, ReasonStaff, false)
	return removed, p.assignment(a, edge{reviewer: t, reason: ReasonStaff}), nil
}

// Start marks an assignment started: from now on no rebalancing moves it.
func (p *Pool) Start(author, reviewer string) error {
	a, r, err := p.pair(author, reviewer)
	if err != nil {
		return err
	}
	in := p.members[a].in
	i := slices.IndexFunc(in, func(e edge) bool { return e.reviewer == r })
	if i < 0 {
		return fmt.Errorf("%w: %q does not review %q", ErrUnknown, reviewer, author)
	}
	in[i].started = true
	return nil
}

func (p *Pool) pair(author, reviewer string) (a, r int, err error) {
	a, ok := p.index[author]
	if !ok || p.members[a].class != submitter {
		return 0, 0, fmt.Errorf("%w: author %q", ErrUnknown, author)
	}
	r, ok = p.index[reviewer]
	if !ok {
		return 0, 0, fmt.Errorf("%w: reviewer %q", ErrUnknown, reviewer)
	}
	return a, r, nil
}

// check says why r may not newly review a, if it may not.
func (p *Pool) check(a, r int) error {
	switch {
	case a == r:
		return fmt.Errorf("%w: %q", ErrSelf, p.members[a].id)
	case !p.isEligible(r):
		return fmt.Errorf("%w: %q", ErrIneligible, p.members[r].id)
	case p.has(a, r):
		return fmt.Errorf("%w: %q reviews %q", ErrDuplicate, p.members[r].id, p.members[a].id)
	}
	return nil
}

// Assignments returns all active assignments, by author in order of
// arrival, then by reviewer in canonical order.
func (p *Pool) Assignments() []Assignment {
	var authors []int
	n := 0
	for a := range p.members {
		if len(p.members[a].in) > 0 {
			authors = append(authors, a)
			n += len(p.members[a].in)
		}
	}
	slices.SortFunc(authors, p.cmpMembers)
	out := make([]Assignment, 0, n)
	var in []edge
	for _, a := range authors {
		in = append(in[:0], p.members[a].in...)
		slices.SortFunc(in, func(x, y edge) int { return p.cmpMembers(x.reviewer, y.reviewer) })
		for _, e := range in {
			out = append(out, p.assignment(a, e))
		}
	}
	return out
}

// Submitters returns the submitters in order of arrival: with
// ExtraReviewers and Assignments, what Restore needs.
func (p *Pool) Submitters() []string { return p.ofClass(submitter) }

// ExtraReviewers returns the extra reviewers in the order they were allowed.
func (p *Pool) ExtraReviewers() []string { return p.ofClass(extra) }

func (p *Pool) ofClass(c class) []string {
	var ids []int
	for i := range p.members {
		if p.members[i].class == c {
			ids = append(ids, i)
		}
	}
	slices.SortFunc(ids, p.cmpMembers)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p.members[id].id
	}
	return out
}

// Load is the number of active assignments of reviewer.
func (p *Pool) Load(reviewer string) int {
	if i, ok := p.index[reviewer]; ok {
		return len(p.members[i].out)
	}
	return 0
}

// Reviewers returns the reviewers of author's submission, in canonical order.
func (p *Pool) Reviewers(author string) []string {
	a, ok := p.index[author]
	if !ok {
		return nil
	}
	in := slices.Clone(p.members[a].in)
	slices.SortFunc(in, func(x, y edge) int { return p.cmpMembers(x.reviewer, y.reviewer) })
	out := make([]string, len(in))
	for i, e := range in {
		out[i] = p.members[e.reviewer].id
	}
	return out
}
