// Package allocate decides who reviews whose submission in a peer review.
// It is pure and deterministic: no database, no I/O, no clock, no global
// state. The caller stores the state (submitters, extra reviewers,
// assignments), rebuilds a Pool with Restore before each operation, and
// stores the Change the operation returns.
//
// # Algorithm
//
// Every submission (named by its author) wants k reviewers. Its target is
// min(k, E-1+R), where E is the number of eligible reviewers (submitters who
// have not withdrawn, plus extra reviewers allowed by the instructor) and R
// the number of its reviewers who are no longer eligible but whose review is
// kept because it had started (see Withdraw). Every automatic operation
// (Add, AddReviewer, Withdraw, Remove, Fill) runs the same two steps:
//
//  1. Complete: each submission below its target, fewest reviewers first and
//     then in order of arrival, is given to the eligible reviewers with the
//     smallest key, skipping its author and its present reviewers. The key is
//     (load, tie, canonical order): load is the reviewer's number of active
//     assignments ("the fewest assignments given"); tie is the top 40 bits
//     of FNV-1a of the seed and the reviewer's id, mixed with the load by a
//     splitmix64 finaliser. Among equal loads the winner is therefore pseudo-random,
//     changes from one load level to the next, and owes nothing to the order
//     of arrival, so early submitters are not favoured. The tie does not
//     depend on the submission, so that one heap serves a whole Fill:
//     O(m log n) for m new assignments among n reviewers.
//  2. Rebalance: while the loads of eligible reviewers differ by two or more,
//     a breadth-first search looks for a chain r0 → r1 → … → rm in which each
//     ri hands one of its movable assignments to ri+1 (not its author, not
//     already reviewing it): first from a most-loaded reviewer to one with at
//     least two fewer, else from any reviewer to a least-loaded one with at
//     least two fewer. Each chain lowers the sum of squared loads, so the
//     loop ends. Movable means not started and not made by hand by staff.
//
// A new submitter X in a cohort where every submission is complete thus
// gives its submission to the k least-loaded reviewers, then takes k
// not-started reviews over from the most loaded, who are those k: every
// other load and count stays as it was, and X has k of each. Early
// submitters start at once; late submitters, even after a Fill, still get k
// reviews.
//
// # Invariants
//
// Check verifies (1) no self-review; (2) no pair twice; (3) every
// submission has exactly its target number of reviewers, so never more
// than k; (4) loads of eligible reviewers differ by at most one; (5) every
// reviewer is eligible, or kept a started review after withdrawing.
//
// After every automatic operation (1), (2), (3) and (5) hold — CheckDuring —
// except that staff can break (3) by hand (Assign beyond k, or a Remove
// whose only possible replacement was the removed reviewer; the next
// automatic operation completes the latter). As for (4), the search is
// exhaustive: two allocations that differ only in movable assignments
// differ by such chains, so when none is left the greatest load is the
// least possible and the least load the greatest possible, given the pinned
// assignments and each submission's count (a brute-force test checks this
// on small pools). Hence max−min ≤ 1 holds after Add, as after Fill,
// whenever any allocation achieves it; when nothing is pinned it has held
// after every step of every random run of the property tests, so Check
// holds. Only reviews that started or staff made can leave it above one.
// Assign and Reassign are staff decisions and do not rebalance: after them
// only CheckStaff ((1), (2), (5)) is guaranteed.
//
// Determinism (6) holds because every choice is ordered by load, the
// seeded hash and then a canonical order (submitters by arrival, extra
// reviewers by when they were allowed, withdrawn reviewers by id) — never
// by map iteration nor by the order in which assignments were restored, so
// a restored pool does exactly what the live one would.
package allocate

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Reasons say why an assignment was made.
const (
	ReasonSubmitted     = "submitted"       // given to the reviewer when they submitted
	ReasonNewSubmission = "new_submission"  // a new submission handed to a least-loaded reviewer
	ReasonFill          = "fill"            // end of the submission phase
	ReasonStaff         = "staff"           // made by hand by staff
	ReasonReviewOneMore = "review_one_more" // a reviewer asked for one more
	ReasonReplaced      = "replaced"        // after a withdrawal or removal
	ReasonRebalanced    = "rebalanced"      // moved, not started, to even out loads
	ReasonExtraReviewer = "extra_reviewer"  // given to a non-submitter allowed to review
)

// An Assignment gives one submission (named by its author's id) to one reviewer.
type Assignment struct {
	Author   string // the submission's author
	Reviewer string
	Reason   string
	Started  bool // the reviewer has begun; never moved by rebalancing
}

// A Change is what an operation did, net: an assignment made and then
// moved within the operation shows only where it ended, and one moved away
// and back does not show at all, so Removed and Added never name the same
// pair.
type Change struct {
	Removed []Assignment
	Added   []Assignment
}

// Errors returned by operations.
var (
	ErrUnknown    = errors.New("allocate: unknown id")
	ErrDuplicate  = errors.New("allocate: already there")
	ErrSelf       = errors.New("allocate: self-review")
	ErrIneligible = errors.New("allocate: not an eligible reviewer")
)

type class uint8

const (
	submitter class = iota
	extra
	gone // withdrawn, or seen only as the reviewer of a started review
)

type edge struct {
	reviewer int
	reason   string
	started  bool
	op       int // the operation that made it, to net out moves made within one
	at       int // its index in that operation's list of additions
}

// pinned says whether rebalancing must leave the assignment where it is:
// the reviewer has begun, or staff put it there by hand.
func (e edge) pinned() bool { return e.started || ByHand(e.reason) }

// ByHand says whether reason is one the pool never gives itself, i.e. the
// assignment was made by staff (Assign, Reassign). Such assignments are
// never moved by rebalancing, like started ones. An unknown reason, even
// empty, counts as by hand: what the pool did not make, it does not move.
func ByHand(reason string) bool {
	switch reason {
	case ReasonSubmitted, ReasonNewSubmission, ReasonFill, ReasonReplaced, ReasonRebalanced, ReasonExtraReviewer:
		return false
	}
	return true
}

// made is an assignment made by the current operation; dead once unmade.
type made struct {
	a, r int
	dead bool
}

// unmade is an assignment the current operation removed; dead once made
// again (a chain of moves may hand it back).
type unmade struct {
	a    int
	e    edge
	dead bool
}

type member struct {
	id    string
	class class
	seq   int    // order within its class
	base  uint64 // FNV-1a of seed and id
	in    []edge // reviewers of this member's submission
	out   []int  // authors this member reviews
}

// Pool is the allocation state of one cohort of one activity. It is not safe
// for concurrent use.
type Pool struct {
	k        int
	members  []member
	index    map[string]int
	seqs     [2]int // next seq for submitters and extras
	seedHash uint64 // FNV-1a state after the seed and a NUL
	eligible int

	// per operation
	recording bool
	op        int // counts operations
	made      []made
	unmade    []unmade       // assignments the current operation removed
	unmadeAt  map[[2]int]int // their index in unmade, made lazily
	blocked   [2]int         // a pair the current operation must not make; -1 if none
	reason    func(a, r int, moved bool) string
}

// New returns an empty pool wanting k reviewers per submission; seed
// varies the tie-breaks between pools (use e.g. the activity's id).
func New(k int, seed string) *Pool {
	if k < 0 {
		k = 0
	}
	return &Pool{k: k, seedHash: fnv1a(fnv1a(fnvOffset, seed), "\x00"),
		index: map[string]int{}, blocked: [2]int{-1, -1}}
}

// Restore rebuilds a pool from stored state: submitters in order of arrival
// (without those who withdrew), extra reviewers in the order they were
// allowed, and the active assignments. A reviewer who is neither may appear
// only on started assignments (kept after a withdrawal). If k is lower than
// when the assignments were made, none is taken away: Check then reports
// the submissions above k. Restore refuses
// state that breaks invariants (1) or (2), or names an unknown author,
// rather than mending it silently.
func Restore(k int, seed string, submitters, extraReviewers []string, existing []Assignment) (*Pool, error) {
	p := New(k, seed)
	p.members = make([]member, 0, len(submitters)+len(extraReviewers))
	p.index = make(map[string]int, len(submitters)+len(extraReviewers))
	for _, id := range submitters {
		if id == "" {
			return nil, fmt.Errorf("%w: empty submitter id", ErrUnknown)
		}
		if _, ok := p.index[id]; ok {
			return nil, fmt.Errorf("%w: submitter %q listed twice", ErrDuplicate, id)
		}
		p.join(p.member(id), submitter)
	}
	for _, id := range extraReviewers {
		if i, ok := p.index[id]; ok {
			if p.members[i].class == submitter {
				continue // a submitter reviews anyway
			}
			return nil, fmt.Errorf("%w: extra reviewer %q listed twice", ErrDuplicate, id)
		}
		if id == "" {
			return nil, fmt.Errorf("%w: empty reviewer id", ErrUnknown)
		}
		p.join(p.member(id), extra)
	}
	for _, as := range existing {
		a, ok := p.index[as.Author]
		if !ok || p.members[a].class != submitter {
			return nil, fmt.Errorf("%w: author %q of a review by %q is not a submitter", ErrUnknown, as.Author, as.Reviewer)
		}
		if as.Reviewer == as.Author {
			return nil, fmt.Errorf("%w: %q reviews their own submission", ErrSelf, as.Author)
		}
		if as.Reviewer == "" {
			return nil, fmt.Errorf("%w: empty reviewer id", ErrUnknown)
		}
		r := p.member(as.Reviewer)
		if p.members[r].class == gone && !as.Started {
			return nil, fmt.Errorf("%w: %q has a review of %q not started", ErrIneligible, as.Reviewer, as.Author)
		}
		if p.has(a, r) {
			return nil, fmt.Errorf("%w: %q reviews %q twice", ErrDuplicate, as.Reviewer, as.Author)
		}
		p.link(a, r, as.Reason, as.Started)
	}
	return p, nil
}

// member returns the index of id, registering it as gone if unknown.
func (p *Pool) member(id string) int {
	if i, ok := p.index[id]; ok {
		return i
	}
	p.members = append(p.members, member{id: id, class: gone, base: fnv1a(p.seedHash, id)})
	p.index[id] = len(p.members) - 1
	return len(p.members) - 1
}

// join makes member i a submitter or extra reviewer, last in its class.
func (p *Pool) join(i int, c class) {
	m := &p.members[i]
	if m.class == gone {
		p.eligible++
	}
	m.class = c
	m.seq = p.seqs[c]
	p.seqs[c]++
}

func (p *Pool) isEligible(i int) bool { return p.members[i].class != gone }

// before is the canonical order: submitters by arrival, extra reviewers by
// when allowed, then the rest by id. It never depends on the order in which
// the pool was built.
func (p *Pool) before(i, j int) bool {
	a, b := &p.members[i], &p.members[j]
	if a.class != b.class {
		return a.class < b.class
	}
	if a.class == gone {
		return a.id < b.id
	}
	return a.seq < b.seq
}

func (p *Pool) cmpMembers(i, j int) int {
	switch {
	case i == j:
		return 0
	case p.before(i, j):
		return -1
	default:
		return 1
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv1a continues an FNV-1a 64 hash h over s, without allocating.
func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// tie is the seeded hash that orders reviewers of equal load.
func (p *Pool) tie(r int) uint64 {
	x := p.members[r].base ^ uint64(len(p.members[r].out))*0x9e3779b97f4a7c15
	// splitmix64 finaliser: FNV alone mixes a small added load poorly.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (p *Pool) has(a, r int) bool {
	ma, mr := &p.members[a], &p.members[r]
	if len(mr.out) <= len(ma.in) {
		return slices.Contains(mr.out, a)
	}
	return slices.ContainsFunc(ma.in, func(e edge) bool { return e.reviewer == r })
}

// canReview says whether r may newly review a.
func (p *Pool) canReview(a, r int) bool {
	return r != a && p.isEligible(r) && p.blocked != [2]int{a, r} && !p.has(a, r)
}

func (p *Pool) link(a, r int, reason string, started bool) {
	e := edge{reviewer: r, reason: reason, started: started}
	if i, ok := p.unmadeAt[[2]int{a, r}]; ok && p.recording {
		// Removed and made again in one operation: the stored row stays.
		e = p.unmade[i].e
		p.unmade[i].dead = true
		delete(p.unmadeAt, [2]int{a, r})
	} else if p.recording {
		e.op, e.at = p.op, len(p.made)
		p.made = append(p.made, made{a: a, r: r})
	}
	ma, mr := &p.members[a], &p.members[r]
	if ma.in == nil {
		ma.in = make([]edge, 0, max(p.k, 1)) // most submissions end with k
	}
	if mr.out == nil {
		mr.out = make([]int, 0, max(p.k+1, 2)) // most loads end at k or k+1
	}
	ma.in = append(ma.in, e)
	mr.out = append(mr.out, a)
}

func (p *Pool) unlink(a, r int) edge {
	ma, mr := &p.members[a], &p.members[r]
	i := slices.IndexFunc(ma.in, func(e edge) bool { return e.reviewer == r })
	e := ma.in[i]
	ma.in = slices.Delete(ma.in, i, i+1)
	mr.out = slices.Delete(mr.out, slices.Index(mr.out, a), slices.Index(mr.out, a)+1)
	if p.recording {
		if e.op == p.op {
			// Made and unmade in one operation: the caller never sees it.
			p.made[e.at].dead = true
		} else {
			if p.unmadeAt == nil {
				p.unmadeAt = map[[2]int]int{}
			}
			p.unmadeAt[[2]int{a, r}] = len(p.unmade)
			p.unmade = append(p.unmade, unmade{a: a, e: e})
		}
	}
	return e
}

func (p *Pool) assignment(a int, e edge) Assignment {
	return Assignment{Author: p.members[a].id, Reviewer: p.members[e.reviewer].id, Reason: e.reason, Started: e.started}
}

// begin starts recording an operation's changes.
func (p *Pool) begin(reason func(a, r int, moved bool) string) {
	p.op++
	p.recording = true
	p.made, p.unmade, p.unmadeAt = p.made[:0], p.unmade[:0], nil
	p.reason = reason
}

// end finishes an operation: complete, rebalance, and return the change.
func (p *Pool) end(settle bool) Change {
	if settle {
		p.complete()
		p.rebalance()
	}
	var c Change
	for _, u := range p.unmade {
		if !u.dead {
			c.Removed = append(c.Removed, p.assignment(u.a, u.e))
		}
	}
	n := 0
	for _, m := range p.made {
		if !m.dead {
			n++
		}
	}
	if n > 0 {
		c.Added = make([]Assignment, 0, n)
	}
	for _, m := range p.made {
		if !m.dead {
			c.Added = append(c.Added, p.assignment(m.a, p.edge(m.a, m.r)))
		}
	}
	p.recording, p.reason = false, nil
	p.blocked = [2]int{-1, -1}
	return c
}

// target is the number of reviewers submission a should have.
func (p *Pool) target(a int) int {
	retained := 0
	for _, e := range p.members[a].in {
		if !p.isEligible(e.reviewer) {
			retained++
		}
	}
	return min(p.k, p.eligible-1+retained)
}

// complete gives every submission below its target to least-loaded reviewers.
func (p *Pool) complete() {
	type need struct{ a, n int }
	var needs []need
	for a := range p.members {
		if p.members[a].class != submitter {
			continue
		}
		if n := p.target(a) - len(p.members[a].in); n > 0 {
			needs = append(needs, need{a, n})
		}
	}
	if len(needs) == 0 {
		return
	}
	slices.SortFunc(needs, func(x, y need) int {
		if c := cmp.Compare(len(p.members[x.a].in), len(p.members[y.a].in)); c != 0 {
			return c
		}
		return p.cmpMembers(x.a, y.a)
	})
	h := reviewerHeap{p: p, keys: make([]key, 0, p.eligible)}
	for r := range p.members {
		if p.isEligible(r) {
			h.keys = append(h.keys, h.keyOf(r))
		}
	}
	h.init()
	var aside []int
	for _, nd := range needs {
		for n := nd.n; n > 0 && len(h.keys) > 0; {
			r := h.keys[0].r
			if !p.canReview(nd.a, r) {
				aside = append(aside, h.pop())
				continue
			}
			p.link(nd.a, r, p.reason(nd.a, r, false), false)
			h.fix0() // its key changed with its load
			n--
		}
		for _, r := range aside {
			h.push(r)
		}
		aside = aside[:0]
	}
}

// reviewerHeap is a binary min-heap of reviewers by (load, tie, canonical
// order). A reviewer's key changes only while it is out of the heap or at
// its top (fix0).
type reviewerHeap struct {
	p    *Pool
	keys []key
}

// key packs load and tie into one word, load in the top 24 bits: one
// comparison instead of two in the hot loop of a large Fill. Ties of the
// remaining 40 bits of hash fall to the canonical order.
type key struct {
	k uint64
	r int
}

func (h *reviewerHeap) less(i, j int) bool {
	a, b := h.keys[i], h.keys[j]
	if a.k != b.k {
		return a.k < b.k
	}
	return h.p.before(a.r, b.r)
}

func (h *reviewerHeap) keyOf(r int) key {
	load := uint64(min(len(h.p.members[r].out), 1<<24-1))
	return key{load<<40 | h.p.tie(r)>>24, r}
}

// fix0 restores the heap after the key of its top changed.
func (h *reviewerHeap) fix0() {
	h.keys[0] = h.keyOf(h.keys[0].r)
	h.down(0)
}

func (h *reviewerHeap) init() {
	for i := len(h.keys)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *reviewerHeap) push(r int) {
	h.keys = append(h.keys, h.keyOf(r))
	h.up(len(h.keys) - 1)
}

func (h *reviewerHeap) pop() int {
	r := h.keys[0].r
	n := len(h.keys) - 1
	h.keys[0] = h.keys[n]
	h.keys = h.keys[:n]
	if n > 0 {
		h.down(0)
	}
	return r
}

func (h *reviewerHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.keys[i], h.keys[parent] = h.keys[parent], h.keys[i]
		i = parent
	}
}

func (h *reviewerHeap) down(i int) {
	n := len(h.keys)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h.keys[i], h.keys[c] = h.keys[c], h.keys[i]
		i = c
	}
}

// loadRange returns the least and greatest load of eligible reviewers.
func (p *Pool) loadRange() (lo, hi int, ok bool) {
	for r := range p.members {
		if !p.isEligible(r) {
			continue
		}
		l := len(p.members[r].out)
		if !ok {
			lo, hi, ok = l, l, true
			continue
		}
		lo, hi = min(lo, l), max(hi, l)
	}
	return lo, hi, ok
}

// rebalance moves not-started assignments along chains until loads differ
// by at most one, or no chain exists.
func (p *Pool) rebalance() {
	var order []int // canonical, whatever the loads: sorted once
	for r := range p.members {
		if p.isEligible(r) {
			order = append(order, r)
		}
	}
	slices.SortFunc(order, p.cmpMembers)
	for {
		lo, hi, ok := p.loadRange()
		if !ok || hi-lo <= 1 {
			return
		}
		load := func(r int) int { return len(p.members[r].out) }
		// First lower the greatest load, then raise the least.
		path := p.chain(order, func(r int) bool { return load(r) == hi }, func(r int) bool { return load(r) <= hi-2 })
		if path == nil {
			path = p.chain(order, func(r int) bool { return load(r) >= lo+2 }, func(r int) bool { return load(r) == lo })
		}
		if path == nil {
			return
		}
		for _, st := range path {
			// Moving what this operation made is, for the caller, making it
			// elsewhere: it keeps the operation's own reason.
			e := p.unlink(st.a, st.from)
			p.link(st.a, st.to, p.reason(st.a, st.to, e.op != p.op), false)
		}
	}
}

type step struct{ a, from, to int }

// chain finds, breadth first, a shortest chain of moves from a source
// reviewer to a target reviewer; nil if none. order is the eligible
// reviewers in canonical order. The search is exhaustive: if any allocation
// that moves only not-started assignments gives a source fewer and a target
// more, a chain exists (the difference of the two allocations decomposes
// into such chains).
func (p *Pool) chain(order []int, source, target func(int) bool) []step {
	var targets []int
	for _, r := range order {
		if target(r) {
			targets = append(targets, r)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	type via struct {
		from, a int
		seen    bool
	}
	prev := make(map[int]via, 8)
	var queue []int
	for _, r := range order {
		if source(r) {
			prev[r] = via{-1, -1, true}
			queue = append(queue, r)
		}
	}
	unseen := len(order) - len(queue)
	build := func(t int) []step {
		var path []step
		for r := t; prev[r].from >= 0; r = prev[r].from {
			path = append(path, step{prev[r].a, prev[r].from, r})
		}
		// Apply from the source end: each giver still holds what it gives.
		slices.Reverse(path)
		return path
	}
	var authors []int
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		authors = authors[:0]
		for _, e := range p.members[r].out {
			if !p.edge(e, r).pinned() {
				authors = append(authors, e)
			}
		}
		slices.SortFunc(authors, p.cmpMembers)
		for _, a := range authors {
			for _, t := range targets {
				if !prev[t].seen && p.canReview(a, t) {
					prev[t] = via{r, a, true}
					return build(t)
				}
			}
		}
		if unseen == 0 {
			continue
		}
		for _, a := range authors {
			for _, s := range order {
				if prev[s].seen || !p.canReview(a, s) {
					continue
				}
				prev[s] = via{r, a, true}
				unseen--
				queue = append(queue, s)
			}
		}
	}
	return nil
}

func (p *Pool) edge(a, r int) edge {
	for _, e := range p.members[a].in {
		if e.reviewer == r {
			return e
		}
	}
	panic("allocate: missing edge")
}
