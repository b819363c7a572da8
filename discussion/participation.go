package discussion

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
)

// Columns the participation table sorts by.
const (
	ByName       = "name"
	ByThreads    = "threads"
	ByReplies    = "replies"
	ByAccepted   = "accepted"
	ByUpvotes    = "upvotes"
	ByReviews    = "reviews"
	ByLastActive = "last_active"
)

// What counts toward completion and grades, as conditions on a post p
// joined with its thread t: the discussion kind's (package activity), so
// the participation table, learners' progress and the scores sent to the
// LMS never disagree.
const (
	Counted        = activity.Counted
	AcceptedAnswer = activity.AcceptedAnswer
)

// LearnerParticipation is what one learner of the cohort did in this space.
type LearnerParticipation struct {
	UserID  string
	Name    string
	Email   string
	Threads int
	Replies int
	// Accepted counts their replies that are the accepted answer of
	// another's question.
	Accepted int
	// Upvotes counts the upvotes their counted posts have now.
	Upvotes int
	// Reviews counts the peer reviews of classmates' work they submitted
	// in the course's peer-review activities.
	Reviews int
	// LastActive is the later of their last launch and their last post
	// (zero when neither is known).
	LastActive time.Time
}

// Participated reports whether the learner started a thread or replied.
func (p LearnerParticipation) Participated() bool { return p.Threads+p.Replies+p.Reviews > 0 }

// Participation is the staff's view of who takes part in a space.
type Participation struct {
	Learners []LearnerParticipation
	// Answered is how many questions had a reply by someone other than the
	// asker; MedianFirstAnswer is the median time from asking to that reply.
	Answered          int
	MedianFirstAnswer time.Duration
}

// NotParticipated lists the learners with no thread or reply yet.
func (p Participation) NotParticipated() []LearnerParticipation {
	var out []LearnerParticipation
	for _, l := range p.Learners {
		if !l.Participated() {
			out = append(out, l)
		}
	}
	return out
}

// Participation reports, for staff, each learner of the viewer's cohort —
// those who never posted too — with what they did in this space, sorted by
// the column named by by, and the median time to a first answer. It reads
// three aggregate queries, whatever the number of learners.
func (s *Store) Participation(ctx context.Context, v Viewer, by string) (Participation, error) {
	var out Participation
	if err := requireStaff(v); err != nil {
		return out, err
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT u.id, u.name, u.pseudonym, u.email, m.roles, m.last_launch_at
		FROM cohort_members cm
		JOIN users u ON u.org_id = cm.org_id AND u.id = cm.user_id
		JOIN memberships m ON m.org_id = cm.org_id AND m.course_id = ? AND m.user_id = cm.user_id
		WHERE cm.org_id = ? AND cm.cohort_id = ?`), v.CourseID, v.OrgID, v.CohortID)
	if err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}
	index := map[string]int{}
	for rows.Next() {
		var l LearnerParticipation
		var pseudonym, roles string
		var launch any
		if err := rows.Scan(&l.UserID, &l.Name, &pseudonym, &l.Email, &roles, &launch); err != nil {
			rows.Close()
			return out, fmt.Errorf("participation: %w", err)
		}
		if !course.ParseRoles(roles).Participant() {
			// Staff and observers take no part to report.
			continue
		}
		if l.Name == "" {
			l.Name = pseudonym
		}
		l.LastActive = timeOf(launch)
		index[l.UserID] = len(out.Learners)
		out.Learners = append(out.Learners, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}

	// What each person did, from the current state of the space, counted
	// as grades count it (see Counted): removed or hidden posts, posts in
	// hidden threads, withdrawn votes, un-accepted answers and answers by
	// the asker do not count. Their last post still says when they were
	// last active.
	space := []any{v.SpaceID}
	rows, err = s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT p.author_id,
			SUM(CASE WHEN `+Counted+` AND p.opening THEN 1 ELSE 0 END),
			SUM(CASE WHEN `+Counted+` AND NOT p.opening THEN 1 ELSE 0 END),
			SUM(CASE WHEN `+Counted+` AND `+AcceptedAnswer+` THEN 1 ELSE 0 END),
			SUM(CASE WHEN `+Counted+` THEN p.vote_count ELSE 0 END),
			MAX(p.created_at)
		FROM posts p JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
		WHERE p.space_id = ?
		GROUP BY p.author_id`), space...)
	if err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}
	for rows.Next() {
		var id string
		var threads, replies, accepted, upvotes int
		var last any
		if err := rows.Scan(&id, &threads, &replies, &accepted, &upvotes, &last); err != nil {
			rows.Close()
			return out, fmt.Errorf("participation: %w", err)
		}
		i, ok := index[id]
		if !ok {
			continue // staff, or someone no longer in the cohort
		}
		l := &out.Learners[i]
		l.Threads, l.Replies, l.Accepted, l.Upvotes = threads, replies, accepted, upvotes
		if t := timeOf(last); t.After(l.LastActive) {
			l.LastActive = t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}

	// Peer reviews count too: those each learner submitted in the
	// course's peer reviews, and when.
	rows, err = s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT r.reviewer_id, COUNT(*), MAX(r.done_at)
		FROM pr_reviews r JOIN pr_submissions ps ON ps.org_id = r.org_id AND ps.id = r.submission_id
		WHERE r.org_id = ? AND ps.course_id = ? AND r.state = 'done' AND r.reviewer_id <> r.author_id
		GROUP BY r.reviewer_id`), v.OrgID, v.CourseID)
	if err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}
	for rows.Next() {
		var id string
		var n int
		var last any
		if err := rows.Scan(&id, &n, &last); err != nil {
			rows.Close()
			return out, fmt.Errorf("participation: %w", err)
		}
		if i, ok := index[id]; ok {
			out.Learners[i].Reviews = n
			if t := timeOf(last); t.After(out.Learners[i].LastActive) {
				out.Learners[i].LastActive = t
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}

	// Time to a first answer: from a question's creation to its first
	// reply by someone other than the asker.
	rows, err = s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT t.created_at, MIN(p.created_at)
		FROM threads t JOIN posts p ON p.org_id = t.org_id AND p.thread_id = t.id AND p.opening = FALSE AND p.author_id <> t.author_id
		WHERE t.space_id = ? AND t.kind = 'question'
		GROUP BY t.id, t.created_at`), space...)
	if err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}
	var waits []time.Duration
	for rows.Next() {
		var asked, first any
		if err := rows.Scan(&asked, &first); err != nil {
			rows.Close()
			return out, fmt.Errorf("participation: %w", err)
		}
		waits = append(waits, max(0, timeOf(first).Sub(timeOf(asked))))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("participation: %w", err)
	}
	out.Answered = len(waits)
	out.MedianFirstAnswer = median(waits)
	sortLearners(out.Learners, by)
	return out, nil
}

// median is the middle duration, or the mean of the two middle ones.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// sortLearners orders by a column: names A to Z, numbers and dates from
// the most; ties by name.
func sortLearners(ls []LearnerParticipation, by string) {
	key := func(l LearnerParticipation) int64 {
		switch by {
		case ByThreads:
			return int64(l.Threads)
		case ByReplies:
			return int64(l.Replies)
		case ByAccepted:
			return int64(l.Accepted)
		case ByUpvotes:
			return int64(l.Upvotes)
		case ByReviews:
			return int64(l.Reviews)
		case ByLastActive:
			if l.LastActive.IsZero() {
				return -1 << 62
			}
			return l.LastActive.UnixNano()
		}
		return 0
	}
	sort.SliceStable(ls, func(i, j int) bool {
		if a, b := key(ls[i]), key(ls[j]); a != b {
			return a > b
		}
		if a, b := strings.ToLower(ls[i].Name), strings.ToLower(ls[j].Name); a != b {
			return a < b
		}
		return ls[i].UserID < ls[j].UserID
	})
}

// timeOf reads a time an aggregate returned: a time on Postgres, and on
// SQLite sometimes the stored text, since an aggregate loses the column's
// declared type there.
func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case []byte:
		return timeOf(string(t))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
			if p, err := time.Parse(layout, t); err == nil {
				return p.UTC()
			}
		}
	}
	return time.Time{}
}
