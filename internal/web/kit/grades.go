package kit

import (
	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/grade"
)

// Grade deliveries as staff and administrators see them.

var ErrNoGrades = roundtable.Errorf(roundtable.ENOTFOUND, "Grades are not available on this Roundtable.")

type GradeRow struct {
	grade.Delivery
	StateLabel string
	ScoredAt   TimeView
	Attempted  TimeView
}

func stateLabel(st string) string {
	switch st {
	case grade.StateDelivered:
		return "In the gradebook"
	case grade.StatePending:
		return "Waiting to be sent"
	case grade.StateFailed:
		return "Failed"
	case grade.StateUnavailable:
		return "No gradebook service"
	case grade.StateHeld:
		return "Waiting: the LMS is turned off in Roundtable"
	}
	return st
}

func (s *Base) GradeRows(ds []grade.Delivery) []GradeRow {
	out := make([]GradeRow, len(ds))
	for i, d := range ds {
		out[i] = GradeRow{Delivery: d, StateLabel: stateLabel(d.State), ScoredAt: s.TimeView(&d.ScoredAt)}
		if !d.LastAttemptAt.IsZero() {
			out[i].Attempted = s.TimeView(&ds[i].LastAttemptAt)
		}
	}
	return out
}
