package grade

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// A delivery due within River's scheduler interval is inserted available
// with its later time, so a worker fetches it when it is due; one due later
// waits for the scheduler.
func TestADeliveryDueSoonIsAvailableAtItsTime(t *testing.T) {
	for _, c := range []struct {
		name string
		in   time.Duration
		want rivertype.JobState
	}{
		{"the LMS's slot is busy", 300 * time.Millisecond, rivertype.JobStateAvailable},
		{"a short back-off", 4 * time.Second, rivertype.JobStateAvailable},
		{"a long back-off", time.Minute, rivertype.JobStateScheduled},
	} {
		at := time.Now().Add(c.in)
		p := &rivertype.JobInsertParams{State: rivertype.JobStateScheduled, ScheduledAt: &at}
		if err := soonIsAvailable(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		if p.State != c.want || !p.ScheduledAt.Equal(at) {
			t.Errorf("%s: state %s at %v, want %s at %v", c.name, p.State, p.ScheduledAt, c.want, at)
		}
	}
	// A job to run now stays as River made it.
	p := &rivertype.JobInsertParams{State: rivertype.JobStateAvailable}
	if err := soonIsAvailable(context.Background(), p); err != nil || p.State != rivertype.JobStateAvailable || p.ScheduledAt != nil {
		t.Errorf("a job for now: state %s at %v, %v", p.State, p.ScheduledAt, err)
	}
}
