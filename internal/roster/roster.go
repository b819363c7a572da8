// Package roster keeps a course's members in step with the LMS's roster,
// read through LTI Names and Role Provisioning Services (NRPS): people who
// never launched are known too (status not_yet_active), so staff can see
// who has never opened an activity. The roster never deletes anyone: people
// the LMS drops become inactive and their posts stay.
package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// Membership statuses. A launch always makes a membership active.
const (
	StatusActive       = "active"
	StatusNotYetActive = "not_yet_active"
	StatusInactive     = "inactive"
)

// Members reads a context's memberships from the LMS (advantage.Client).
type Members interface {
	Members(ctx context.Context, reg lti.Registration, membershipsURL, rlid string) ([]advantage.Member, error)
}

// Registrations finds the LMS registration whose services a sync calls.
type Registrations interface {
	Registration(ctx context.Context, orgID string) (lti.Registration, error)
}

// Service syncs rosters and reads them for staff.
type Service struct {
	db      *store.DB
	members Members
	regs    Registrations
	logger  *slog.Logger
	// Now is the clock; time.Now unless a test sets it.
	Now func() time.Time

	// inflight shares one sync among concurrent requests for the same
	// course or activity (a double-clicked button, a periodic refresh).
	inflight singleflight.Group
}

// New returns a roster service.
func New(db *store.DB, members Members, regs Registrations, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{db: db, members: members, regs: regs, logger: logger, Now: time.Now}
}

// Result is what one sync did.
type Result struct {
	// Scoped is true when the roster was the activity's own audience
	// (rlid), false for the whole course's.
	Scoped      bool
	Members     int
	Added       int
	Updated     int
	Deactivated int
	At          time.Time
}

// Failure kinds: why a sync could not read the roster.
const (
	// FailNoService: no launch in the course carried an NRPS claim.
	FailNoService = "no_service"
	// FailNotGranted: the LMS does not let Roundtable read memberships.
	FailNotGranted = "not_granted"
	// FailUnavailable: the LMS was busy, failing or unreachable.
	FailUnavailable = "unavailable"
	// FailRefused: the LMS refused the request for another reason.
	FailRefused = "refused"
	// FailEmpty: a whole-course roster came back without anyone.
	FailEmpty = "empty"
)

// SyncError is a sync that could not read the roster. Message is for the
// course's staff; Err holds the detail for the operator.
type SyncError struct {
	Kind    string
	Message string
	Err     error
}

func (e *SyncError) Error() string {
	if e.Err != nil {
		return "roster: " + e.Kind + ": " + e.Err.Error()
	}
	return "roster: " + e.Kind
}

func (e *SyncError) Unwrap() error { return e.Err }

// failure turns an NRPS call's error into a SyncError with a message staff
// can act on.
func failure(err error) *SyncError {
	var ae *advantage.Error
	if !errors.As(err, &ae) {
		return &SyncError{Kind: FailUnavailable, Err: err,
			Message: "Roundtable could not reach the LMS to read the roster. Try again in a few minutes."}
	}
	body := strings.ToLower(ae.Body)
	switch {
	case advantage.IsRetryable(err):
		return &SyncError{Kind: FailUnavailable, Err: err,
			Message: "The LMS did not answer the roster request (it may be busy or down). Try again in a few minutes."}
	case ae.Op == "token" && (strings.Contains(body, "scope") || ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnauthorized),
		ae.Status == http.StatusUnauthorized, ae.Status == http.StatusForbidden:
		return &SyncError{Kind: FailNotGranted, Err: err,
			Message: "The LMS did not grant Roundtable access to the course roster (the Names and Role Provisioning Services scope). Ask your LMS administrator to allow it for Roundtable; see the LMS setup guide."}
	}
	return &SyncError{Kind: FailRefused, Err: err,
		Message: fmt.Sprintf("The LMS refused the roster request (HTTP %d). Try again later; if it persists, tell your LMS administrator.", ae.Status)}
}

var errNoService = &SyncError{Kind: FailNoService,
	Message: "The LMS has not offered its roster service for this course yet: no launch in this course carried a Names and Role Provisioning Services address. Make sure the LMS grants Roundtable that service, then open an activity of the course once from the LMS."}

// scopeRefused reports whether the LMS refused an rlid-scoped roster
// request itself (4xx on the memberships call): the whole roster may still
// be readable.
func scopeRefused(err error) bool {
	var ae *advantage.Error
	return errors.As(err, &ae) && ae.Op != "token" && ae.Status >= 400 && ae.Status < 500 &&
		ae.Status != http.StatusUnauthorized && ae.Status != http.StatusTooManyRequests && ae.Status != http.StatusRequestTimeout
}

// SyncLink reads the roster of an activity's course, scoped to the
// activity (rlid) unless the LMS refused that before, and records it.
// A scoped request the LMS refuses with a 4xx is retried for the whole
// course, which is remembered.
func (s *Service) SyncLink(ctx context.Context, orgID, linkID string) (Result, error) {
	v, err, _ := s.inflight.Do("link\x00"+orgID+"\x00"+linkID, func() (any, error) {
		l, err := s.link(ctx, orgID, linkID)
		if err != nil {
			return Result{}, err
		}
		return s.sync(ctx, orgID, l.courseID, &l)
	})
	return v.(Result), err
}

// SyncCourse reads the whole roster of a course and records it; members
// missing from it become inactive.
func (s *Service) SyncCourse(ctx context.Context, orgID, courseID string) (Result, error) {
	v, err, _ := s.inflight.Do("course\x00"+orgID+"\x00"+courseID, func() (any, error) {
		return s.sync(ctx, orgID, courseID, nil)
	})
	return v.(Result), err
}

// sync reads the roster (scoped to link when it is not nil) and applies it.
func (s *Service) sync(ctx context.Context, orgID, courseID string, l *linkRef) (Result, error) {
	started := s.Now().UTC()
	cs, err := s.courseService(ctx, orgID, courseID)
	if err != nil {
		return Result{}, err
	}
	nrpsURL, refused, platformID := cs.nrpsURL, cs.rlidRefused, cs.platformID
	if l != nil && l.nrpsURL != "" {
		// The activity's own service, from the registration that launched it.
		nrpsURL, platformID = l.nrpsURL, l.platformID
	}
	fail := func(se *SyncError) (Result, error) {
		if err := s.recordFailure(ctx, orgID, courseID, l, started, se); err != nil {
			return Result{}, errors.Join(se, err)
		}
		return Result{}, se
	}
	if nrpsURL == "" {
		return fail(errNoService)
	}
	reg, err := s.regs.Registration(ctx, platformID)
	if err != nil {
		return Result{}, fmt.Errorf("roster: registration %s of course %s: %w", platformID, courseID, err)
	}
	scoped := l != nil && !refused && l.resourceLinkID != ""
	var list []advantage.Member
	if scoped {
		list, err = s.members.Members(ctx, reg, nrpsURL, l.resourceLinkID)
		if scopeRefused(err) {
			s.logger.InfoContext(ctx, "the LMS refused a roster scoped to a resource link; reading the whole course",
				slog.String("platform", platformID), slog.String("course", courseID), slog.Any("error", err))
			scoped, refused = false, true
			if rerr := s.rememberRlidRefused(ctx, orgID, courseID, started); rerr != nil {
				return Result{}, rerr
			}
		}
	}
	if !scoped {
		list, err = s.members.Members(ctx, reg, nrpsURL, "")
	}
	if err != nil {
		return fail(failure(err))
	}
	if !scoped && len(unique(list)) == 0 {
		// A course without anyone is an LMS fault, not a reason to mark
		// everyone inactive.
		return fail(&SyncError{Kind: FailEmpty,
			Message: "The LMS returned an empty roster for this course, so Roundtable changed nothing. Try again later."})
	}
	res, err := s.apply(ctx, orgID, cs.issuer, courseID, l, scoped, unique(list), started)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// unique keeps the first entry of each user id and drops entries without
// one.
func unique(list []advantage.Member) []advantage.Member {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, m := range list {
		id := strings.TrimSpace(m.UserID)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		m.UserID = id
		out = append(out, m)
	}
	return out
}

// rolesOf maps a member's LTI roles to course roles as a launch does; a
// member without a known role gets the least privilege.
func rolesOf(uris []string) course.Roles {
	out := course.RolesFromLTI(lti.ParseRoles(uris))
	if len(out) == 0 {
		out = course.Roles{course.Learner}
	}
	return out
}

// notFound is the error for a link or course this platform does not have.
func notFound(what string) error {
	return roundtable.Errorf(roundtable.ENOTFOUND, "This %s is not known to Roundtable.", what)
}
