package allocate

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%03d", i)
	}
	return out
}

func mustAdd(t testing.TB, p *Pool, id string) Change {
	t.Helper()
	c, err := p.Add(id)
	if err != nil {
		t.Fatalf("Add(%q): %v", id, err)
	}
	return c
}

func loads(p *Pool, who []string) []int {
	out := make([]int, len(who))
	for i, id := range who {
		out[i] = p.Load(id)
	}
	return out
}

func TestSmallCohorts(t *testing.T) {
	cases := []struct {
		k, n      int
		wantCount int // reviewers per submission
	}{
		{3, 1, 0}, {3, 2, 1}, {3, 3, 2}, {3, 4, 3}, {3, 5, 3},
		{1, 1, 0}, {1, 2, 1}, {1, 5, 1},
		{10, 4, 3}, {10, 6, 5},
		{0, 4, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("k%d_n%d", c.k, c.n), func(t *testing.T) {
			p := New(c.k, "seed")
			who := ids(c.n)
			for i, id := range who {
				ch := mustAdd(t, p, id)
				if err := Check(p); err != nil {
					t.Fatalf("after Add #%d: %v", i, err)
				}
				for _, a := range ch.Added {
					if a.Author != id && a.Reviewer != id && a.Reason != ReasonRebalanced {
						t.Errorf("Add(%q) made %+v", id, a)
					}
				}
			}
			if ch := p.Fill(); len(ch.Added)+len(ch.Removed) != 0 {
				t.Errorf("Fill after dynamic allocation changed %+v", ch)
			}
			for _, id := range who {
				if got := len(p.Reviewers(id)); got != c.wantCount {
					t.Errorf("%s has %d reviewers, want %d", id, got, c.wantCount)
				}
				if got := p.Load(id); got != c.wantCount {
					t.Errorf("%s reviews %d, want %d", id, got, c.wantCount)
				}
			}
		})
	}
}

// In a complete cohort a newcomer takes k reviews over and gives its
// submission to the k reviewers who lost one: nobody else changes.
func TestNewcomerSplitsAssignments(t *testing.T) {
	p := New(3, "s")
	for _, id := range ids(8) {
		mustAdd(t, p, id)
	}
	before := p.Assignments()
	ch := mustAdd(t, p, "late")
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	if len(ch.Removed) != 3 || len(ch.Added) != 6 {
		t.Fatalf("removed %d, added %d; want 3 and 6: %+v", len(ch.Removed), len(ch.Added), ch)
	}
	for _, a := range ch.Added {
		switch {
		case a.Reviewer == "late" && a.Reason == ReasonSubmitted:
		case a.Author == "late" && a.Reason == ReasonNewSubmission:
		default:
			t.Errorf("unexpected %+v", a)
		}
	}
	for _, r := range ch.Removed {
		if !slices.Contains(before, r) {
			t.Errorf("removed %+v which was not there", r)
		}
	}
	if got := loads(p, append(ids(8), "late")); slices.Min(got) != 3 || slices.Max(got) != 3 {
		t.Errorf("loads %v, want all 3", got)
	}
}

func TestStartedNeverMoved(t *testing.T) {
	p := New(2, "s")
	for _, id := range ids(6) {
		mustAdd(t, p, id)
	}
	var started []Assignment
	for _, a := range p.Assignments() {
		if err := p.Start(a.Author, a.Reviewer); err != nil {
			t.Fatal(err)
		}
		a.Started = true
		started = append(started, a)
	}
	// Everything started: the newcomer cannot take any review over.
	ch := mustAdd(t, p, "late")
	for _, r := range ch.Removed {
		t.Errorf("moved started %+v", r)
	}
	if err := CheckDuring(p); err != nil {
		t.Fatal(err)
	}
	for _, a := range started {
		if !slices.Contains(p.Assignments(), a) {
			t.Errorf("lost %+v", a)
		}
	}
	if p.Load("late") != 0 || len(p.Reviewers("late")) != 2 {
		t.Errorf("late: load %d, reviewers %v", p.Load("late"), p.Reviewers("late"))
	}
}

func TestStaffOperations(t *testing.T) {
	p := New(2, "s")
	for _, id := range ids(5) {
		mustAdd(t, p, id)
	}
	if _, err := p.Assign("u000", "u000", ""); !errors.Is(err, ErrSelf) {
		t.Errorf("self: %v", err)
	}
	r0 := p.Reviewers("u000")[0]
	if _, err := p.Assign("u000", r0, ""); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := p.Assign("nobody", "u001", ""); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}
	var other string
	for _, id := range ids(5) {
		if id != "u000" && !slices.Contains(p.Reviewers("u000"), id) {
			other = id
			break
		}
	}
	a, err := p.Assign("u000", other, ReasonReviewOneMore)
	if err != nil || a.Reason != ReasonReviewOneMore {
		t.Fatalf("Assign: %+v %v", a, err)
	}
	if err := CheckStaff(p); err != nil {
		t.Fatal(err)
	}
	if err := CheckDuring(p); err == nil {
		t.Error("CheckDuring accepts three reviewers with k=2")
	}
	ch, err := p.Remove("u000", other)
	if err != nil || len(ch.Removed) != 1 {
		t.Fatalf("Remove: %+v %v", ch, err)
	}
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	// Remove with a replacement keeps the count.
	r0 = p.Reviewers("u000")[0]
	ch, err = p.Remove("u000", r0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.Reviewers("u000"), r0) {
		t.Errorf("removed reviewer %s given back at once", r0)
	}
	if err := Check(p); err != nil {
		t.Fatalf("after Remove: %v (%+v)", err, ch)
	}
	from := p.Reviewers("u001")[0]
	var to string
	for _, id := range ids(5) {
		if id != "u001" && !slices.Contains(p.Reviewers("u001"), id) {
			to = id
			break
		}
	}
	rm, add, err := p.Reassign("u001", from, to)
	if err != nil || rm.Reviewer != from || add.Reviewer != to || add.Reason != ReasonStaff {
		t.Fatalf("Reassign: %+v %+v %v", rm, add, err)
	}
	if _, _, err := p.Reassign("u001", to, "u001"); !errors.Is(err, ErrSelf) {
		t.Errorf("Reassign to author: %v", err)
	}
	if err := CheckStaff(p); err != nil {
		t.Fatal(err)
	}
	p.Fill()
	if err := Check(p); err != nil {
		t.Fatalf("Fill after staff moves: %v", err)
	}
}

func TestWithdraw(t *testing.T) {
	p := New(3, "s")
	for _, id := range ids(7) {
		mustAdd(t, p, id)
	}
	// One started review by the leaver is kept and still counts.
	kept := p.Assignments()[slices.IndexFunc(p.Assignments(), func(a Assignment) bool { return a.Reviewer == "u003" })]
	if err := p.Start(kept.Author, kept.Reviewer); err != nil {
		t.Fatal(err)
	}
	ch, err := p.Withdraw("u003")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(p); err != nil {
		t.Fatalf("%v (%+v)", err, ch)
	}
	if p.Reviewers("u003") != nil && len(p.Reviewers("u003")) != 0 {
		t.Errorf("withdrawn submission still reviewed by %v", p.Reviewers("u003"))
	}
	if p.Load("u003") != 1 || !slices.Contains(p.Reviewers(kept.Author), "u003") {
		t.Errorf("started review %+v not kept", kept)
	}
	if _, err := p.Withdraw("u003"); err == nil {
		t.Error("withdrew twice")
	}
}

func TestExtraReviewer(t *testing.T) {
	p := New(2, "s")
	for _, id := range ids(2) {
		mustAdd(t, p, id)
	}
	ch, err := p.AddReviewer("ta")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(p); err != nil {
		t.Fatalf("%v (%+v)", err, ch)
	}
	if p.Load("ta") == 0 {
		t.Errorf("extra reviewer got nothing: %+v", ch)
	}
	if _, err := p.AddReviewer("u000"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("submitter as extra: %v", err)
	}
	// An extra reviewer who then submits becomes a submitter.
	mustAdd(t, p, "ta")
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	if got := p.ExtraReviewers(); len(got) != 0 {
		t.Errorf("extras %v", got)
	}
}

func TestRestoreRejectsBrokenState(t *testing.T) {
	subs := []string{"a", "b"}
	for _, ex := range [][]Assignment{
		{{Author: "a", Reviewer: "a"}},
		{{Author: "a", Reviewer: "b"}, {Author: "a", Reviewer: "b"}},
		{{Author: "z", Reviewer: "b"}},
		{{Author: "a", Reviewer: "gone"}},
	} {
		if _, err := Restore(2, "s", subs, nil, ex); err == nil {
			t.Errorf("Restore accepted %+v", ex)
		}
	}
	if _, err := Restore(2, "s", subs, nil, []Assignment{{Author: "a", Reviewer: "gone", Started: true}}); err != nil {
		t.Errorf("kept started review refused: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed string) []Assignment {
		p := New(3, seed)
		for _, id := range ids(40) {
			mustAdd(t, p, id)
		}
		return p.Assignments()
	}
	if !reflect.DeepEqual(run("x"), run("x")) {
		t.Error("same seed, different allocation")
	}
	if reflect.DeepEqual(run("x"), run("y")) {
		t.Error("seed changes nothing")
	}
}

// Allocation only at the end (no dynamic Adds recorded), then a latecomer.
func TestStaticFillThenLateSubmitter(t *testing.T) {
	p, err := Restore(3, "s", ids(12), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := p.Fill()
	if len(ch.Added) != 36 || len(ch.Removed) != 0 {
		t.Fatalf("Fill: %d added, %d removed", len(ch.Added), len(ch.Removed))
	}
	for _, a := range ch.Added {
		if a.Reason != ReasonFill {
			t.Errorf("Fill made %+v", a)
		}
	}
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	ch = mustAdd(t, p, "late")
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	if p.Load("late") != 3 || len(p.Reviewers("late")) != 3 {
		t.Errorf("late: load %d, reviewers %v (%+v)", p.Load("late"), p.Reviewers("late"), ch)
	}
}

// The first submitter has nothing to review; the second reviews the first
// at once and is reviewed by them.
func TestEarlySubmittersStartAtOnce(t *testing.T) {
	p := New(3, "s")
	if ch := mustAdd(t, p, "a"); len(ch.Added) != 0 {
		t.Errorf("alone, got %+v", ch)
	}
	ch := mustAdd(t, p, "b")
	want := []Assignment{
		{Author: "a", Reviewer: "b", Reason: ReasonSubmitted},
		{Author: "b", Reviewer: "a", Reason: ReasonNewSubmission},
	}
	got := slices.Clone(ch.Added)
	slices.SortFunc(got, func(x, y Assignment) int {
		if x.Author < y.Author {
			return -1
		}
		return 1
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := p.Add("a"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Add: %v", err)
	}
}

// Staff moves are pinned: a later rebalancing leaves them alone.
func TestByHandIsPinned(t *testing.T) {
	p := New(2, "s")
	for _, id := range ids(6) {
		mustAdd(t, p, id)
	}
	a, err := p.Assign("u000", "u005", "")
	if errors.Is(err, ErrDuplicate) {
		a, err = p.Assign("u000", "u004", "")
	}
	if err != nil || a.Reason != ReasonStaff {
		t.Fatalf("Assign: %+v %v", a, err)
	}
	if _, err := p.Assign("u001", "u003", ReasonFill); err == nil {
		t.Error("Assign took an automatic reason")
	}
	for _, id := range []string{"x1", "x2", "x3"} {
		mustAdd(t, p, id)
		if !slices.Contains(p.Assignments(), a) {
			t.Fatalf("after Add(%s) the staff assignment %+v moved", id, a)
		}
	}
	if err := CheckStaff(p); err != nil {
		t.Fatal(err)
	}
}
