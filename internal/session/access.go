package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/memo"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// Access checks, on every request of a session, what may have changed since
// its launch: whether the LMS's platform is still enabled, whether the
// person is still an active member of the course and with which roles, and
// whether they may still see the session's cohort. A session lives for
// hours; an administrator disabling the platform, a relaunch with other
// roles or a roster refresh that demotes or deactivates someone takes
// effect within CacheFor, on every replica.
//
// What it reads is kept for CacheFor per person and cohort, so the pages'
// hot path pays one indexed read every few seconds, not one per request.
type Access struct {
	db *store.DB
	// Now is the clock; CacheFor how long a read is reused.
	Now      func() time.Time
	CacheFor time.Duration

	persons memo.Map[personKey, Standing] // the person's fields only
	cohorts memo.Map[cohortKey, cohortStanding]
}

// DefaultAccessCache is how long Access reuses what it read.
const DefaultAccessCache = 5 * time.Second

// NewAccess returns the check on db.
func NewAccess(db *store.DB) *Access {
	return &Access{db: db, Now: time.Now, CacheFor: DefaultAccessCache}
}

// Refusals of a session whose standing changed. Each is a page the person
// reads; the log line says which session and why.
var (
	ErrPlatformDisabled = roundtable.Errorf(roundtable.EFORBIDDEN,
		"This course's LMS connection has been disabled by an administrator. Roundtable cannot be used from this course until it is enabled again; ask your LMS administrator if you think this is a mistake.")
	ErrPlatformPending = roundtable.Errorf(roundtable.EFORBIDDEN,
		"This course's LMS connection is waiting for an administrator's approval. Please try again later.")
	ErrNotMember = roundtable.Errorf(roundtable.EFORBIDDEN,
		"You are no longer a member of this course. If you think this is a mistake, open the activity again from your course or ask your instructor.")
	ErrMembershipInactive = roundtable.Errorf(roundtable.EFORBIDDEN,
		"Your enrolment in this course is no longer active in your LMS, so you cannot read or post in this discussion. If you think this is a mistake, ask your instructor; opening the activity again from your course restores it when your LMS lets you in.")
	ErrCohortClosed = roundtable.Errorf(roundtable.EFORBIDDEN,
		"You can no longer see this cohort. Open the activity again from your course.")
)

// memberInactive is the status the roster gives a membership the LMS
// marks inactive or drops (roster.StatusInactive); a launch makes it
// active again.
const memberInactive = "inactive"

// Standing is what Access read about a session's person, course and cohort.
type Standing struct {
	PlatformStatus string
	// Member is false when the person has no membership in the course.
	Member       bool
	MemberStatus string
	Roles        course.Roles
	// Sections are the cohort keys of the sections the person's last
	// launch named (see course.MayViewCohort).
	Sections []string
	// CohortFound is false when the session's cohort is not the course's.
	CohortFound bool
	CohortKey   string
	// InCohort is true when the person is a member of the cohort.
	InCohort bool
}

// The cache keeps what concerns the person in the course apart from what
// concerns one of their cohorts, so that a launch, which records the
// person's roles afresh, updates every session of theirs at once.
// The registration is part of the key: its status is part of the standing.
type personKey struct{ orgID, platformID, courseID, userID string }

type cohortKey struct {
	personKey
	cohortID string
}

type cohortStanding struct {
	found, in bool
	key       string
}

func keysOf(sess Session) (personKey, cohortKey) {
	p := personKey{sess.OrgID, sess.PlatformID, sess.CourseID, sess.UserID}
	return p, cohortKey{p, sess.CohortID}
}

// Check returns sess with the roles the person holds now, or the error
// that refuses it.
func (a *Access) Check(ctx context.Context, sess Session) (Session, error) {
	st, err := a.Standing(ctx, sess)
	if err != nil {
		return Session{}, err
	}
	return st.Apply(sess)
}

// Standing reads (or recalls, for CacheFor) the standing of sess.
func (a *Access) Standing(ctx context.Context, sess Session) (Standing, error) {
	now := a.Now()
	pk, ck := keysOf(sess)
	st, pok := a.persons.Get(pk, now)
	c, cok := a.cohorts.Get(ck, now)
	if pok && cok {
		st.CohortFound, st.CohortKey, st.InCohort = c.found, c.key, c.in
		return st, nil
	}
	st, err := a.read(ctx, sess)
	if err != nil {
		return Standing{}, err
	}
	a.put(sess, st, now)
	return st, nil
}

// Remember records the standing a launch has just written and committed:
// an enabled platform, an active membership with the session's roles and
// the launch's sections, in the session's cohort. The page that follows
// the launch reads nothing, and the person's other sessions on this
// replica hold the roles of this launch at once.
func (a *Access) Remember(sess Session, sections []string) {
	a.put(sess, Standing{PlatformStatus: tenant.StatusActive, Member: true, MemberStatus: "active", Roles: sess.Roles,
		Sections: sections, CohortFound: true, InCohort: true}, a.Now())
}

func (a *Access) put(sess Session, st Standing, now time.Time) {
	pk, ck := keysOf(sess)
	expiry := now.Add(a.CacheFor)
	person := st
	person.CohortFound, person.CohortKey, person.InCohort = false, "", false
	a.persons.Put(pk, person, expiry)
	a.cohorts.Put(ck, cohortStanding{found: st.CohortFound, in: st.InCohort, key: st.CohortKey}, expiry)
}

// read is one indexed read: the session's registration by id (still in
// the session's organisation), the membership and the
// cohort by their keys, the cohort membership by its key.
func (a *Access) read(ctx context.Context, sess Session) (Standing, error) {
	var st Standing
	var member, cohortFound, inCohort int
	var roles, sections string
	err := a.db.QueryRow(ctx, `SELECT p.status,
			CASE WHEN m.user_id IS NULL THEN 0 ELSE 1 END, COALESCE(m.status, ''), COALESCE(m.roles, ''), COALESCE(m.sections, ''),
			CASE WHEN co.id IS NULL THEN 0 ELSE 1 END, COALESCE(co.cohort_key, ''),
			CASE WHEN cm.user_id IS NULL THEN 0 ELSE 1 END
		FROM platforms p
		LEFT JOIN memberships m ON m.org_id = p.org_id AND m.course_id = ? AND m.user_id = ?
		LEFT JOIN cohorts co ON co.org_id = p.org_id AND co.course_id = ? AND co.id = ?
		LEFT JOIN cohort_members cm ON cm.org_id = p.org_id AND cm.cohort_id = co.id AND cm.user_id = ?
		WHERE p.id = ? AND p.org_id = ?`, sess.CourseID, sess.UserID, sess.CourseID, sess.CohortID, sess.UserID, sess.PlatformID, sess.OrgID).
		Scan(&st.PlatformStatus, &member, &st.MemberStatus, &roles, &sections, &cohortFound, &st.CohortKey, &inCohort)
	if errors.Is(err, sql.ErrNoRows) {
		// The platform was removed (its sessions go with it).
		return Standing{PlatformStatus: tenant.StatusDisabled}, nil
	}
	if err != nil {
		return Standing{}, fmt.Errorf("read the session's standing: %w", err)
	}
	st.Member, st.CohortFound, st.InCohort = member == 1, cohortFound == 1, inCohort == 1
	st.Roles = course.ParseRoles(roles)
	st.Sections = course.ParseSections(sections)
	return st, nil
}

// Apply decides what the standing allows sess: sess with the roles held
// now, or the refusal.
func (st Standing) Apply(sess Session) (Session, error) {
	switch st.PlatformStatus {
	case tenant.StatusActive:
	case tenant.StatusPending:
		return Session{}, ErrPlatformPending
	default:
		return Session{}, ErrPlatformDisabled
	}
	if !st.Member {
		return Session{}, ErrNotMember
	}
	if st.MemberStatus == memberInactive {
		return Session{}, ErrMembershipInactive
	}
	roles := st.Roles
	if len(roles) == 0 {
		roles = course.Roles{course.Learner}
	}
	if !st.CohortFound {
		return Session{}, ErrCohortClosed
	}
	if !st.InCohort && !course.MayViewCohort(roles, st.Sections, st.CohortKey) {
		return Session{}, ErrCohortClosed
	}
	sess.Roles = roles
	return sess, nil
}
