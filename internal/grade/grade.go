// Package grade turns what learners do in an activity into the score the
// LMS gradebook shows, and delivers it without loss: the score owed is
// written with the action that causes it, and a durable job (River, on the
// same database) delivers it through LTI Assignment and Grade Services with
// backoff, one delivery at a time per LMS, until it lands or a person sees
// why it cannot.
package grade

import "github.com/roundtable-lms/roundtable/internal/activity"

// AGS progress values, as the activity kinds give them.
const (
	ActivityInProgress = activity.ActivityInProgress
	ActivityCompleted  = activity.ActivityCompleted
	GradingPending     = activity.GradingPending
	GradingFullyGraded = activity.GradingFullyGraded
)
