package allocate

import (
	"fmt"
	"testing"
)

func bigIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("learner-%06d", i)
	}
	return out
}

// BenchmarkFill100k: the end of a phase in which nobody was allocated
// dynamically: 100,000 submissions, k=3, allocated in one Fill.
func BenchmarkFill100k(b *testing.B) {
	subs := bigIDs(100_000)
	for b.Loop() {
		b.StopTimer()
		p, err := Restore(3, "bench", subs, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c := p.Fill()
		if len(c.Added) != 300_000 {
			b.Fatalf("added %d", len(c.Added))
		}
	}
}

// BenchmarkAddInCohortOf1000: one dynamic submission as the caller does it:
// Restore from the stored state of 999 submitters (~3,000 assignments), then
// Add.
func BenchmarkAddInCohortOf1000(b *testing.B) {
	subs := bigIDs(999)
	p := New(3, "bench")
	for _, id := range subs {
		if _, err := p.Add(id); err != nil {
			b.Fatal(err)
		}
	}
	stored := p.Assignments()
	b.ReportMetric(float64(len(stored)), "stored")
	for b.Loop() {
		q, err := Restore(3, "bench", subs, nil, stored)
		if err != nil {
			b.Fatal(err)
		}
		if c, _ := q.Add("newcomer"); len(c.Added) != 6 {
			b.Fatalf("added %d", len(c.Added))
		}
	}
}

func TestLargeFillIsComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	p, err := Restore(3, "t", bigIDs(5_000), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Fill()
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRestore1000: rebuilding the state of 1,000 submitters and 3,000
// assignments, which the caller does before every operation.
func BenchmarkRestore1000(b *testing.B) {
	subs := bigIDs(1000)
	p := New(3, "bench")
	for _, id := range subs {
		if _, err := p.Add(id); err != nil {
			b.Fatal(err)
		}
	}
	stored := p.Assignments()
	for b.Loop() {
		if _, err := Restore(3, "bench", subs, nil, stored); err != nil {
			b.Fatal(err)
		}
	}
}
