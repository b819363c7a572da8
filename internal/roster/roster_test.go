package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

const nrpsURL = "https://lms.example/api/courses/7/memberships"

// fakeLMS answers Members from a list, or with an error, and notes each
// call's rlid.
type fakeLMS struct {
	mu      sync.Mutex
	members []advantage.Member
	// scoped, when set, answers rlid requests instead of members.
	scoped map[string][]advantage.Member
	// fail answers calls with this error (rlidFail only rlid calls).
	fail, rlidFail error
	calls          []string
}

func (f *fakeLMS) Members(_ context.Context, reg lti.Registration, url, rlid string) ([]advantage.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reg.ID != "p1" || url != nrpsURL {
		return nil, fmt.Errorf("unexpected registration %q or url %q", reg.ID, url)
	}
	f.calls = append(f.calls, rlid)
	if f.fail != nil {
		return nil, f.fail
	}
	if rlid != "" {
		if f.rlidFail != nil {
			return nil, f.rlidFail
		}
		if list, ok := f.scoped[rlid]; ok {
			return list, nil
		}
	}
	return append([]advantage.Member(nil), f.members...), nil
}

func (f *fakeLMS) rlids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type regs struct{}

func (regs) Registration(_ context.Context, id string) (lti.Registration, error) {
	return lti.Registration{ID: id}, nil
}

type env struct {
	db      *store.DB
	courses *course.Store
	lms     *fakeLMS
	svc     *roster.Service
	now     time.Time
	// link is the activity the staff launched from.
	link course.Recorded
}

func member(id, name, role string) advantage.Member {
	return advantage.Member{UserID: id, Name: name, Email: id + "@example.edu", Roles: []string{role}}
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	storetest.AddPlatform(t, db, "p1", "https://lms.example")
	e := &env{db: db, courses: course.NewStore(db), lms: &fakeLMS{}, now: now}
	e.svc = roster.New(db, e.lms, regs{}, slog.New(slog.DiscardHandler))
	e.svc.Now = func() time.Time { return e.now }
	e.link = e.launch(t, "ines", "rl-1", course.Instructor)
	return e
}

// launch records a launch as the web layer does, and opens its session.
func (e *env) launch(t *testing.T, subject, link string, role course.Role) course.Recorded {
	t.Helper()
	ctx := context.Background()
	in := course.LaunchInput{OrgID: "p1", PlatformID: "p1", Issuer: "https://lms.example", DeploymentID: "d1", Subject: subject, Name: "Launched " + subject,
		ContextID: "ctx", ContextTitle: "Biology 101", ResourceLinkID: link, Roles: course.Roles{role},
		LTIRoles: []string{lti.RoleLearner}, NRPSURL: nrpsURL}
	sessions := session.NewStore(e.db, []byte("a secret long enough for the session store"))
	var rec course.Recorded
	err := e.db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if rec, err = e.courses.RecordLaunch(ctx, tx, in); err != nil {
			return err
		}
		_, _, err = sessions.Create(ctx, tx, session.Session{OrgID: "p1", PlatformID: "p1", UserID: rec.User.ID, CourseID: rec.Course.ID,
			LinkID: rec.Link.ID, CohortID: rec.Cohort.ID, Roles: rec.Roles})
		return err
	})
	if err != nil {
		t.Fatalf("launch of %s: %v", subject, err)
	}
	return rec
}

type row struct {
	UserID, Name, Email, Roles, Status string
	LastLaunchAt                       *time.Time
}

// membership reads a person's user and membership rows by subject.
func (e *env) membership(t *testing.T, subject string) (row, bool) {
	t.Helper()
	var rows []row
	err := e.db.Raw(`SELECT u.id AS user_id, u.name, u.email, m.roles, m.status, m.last_launch_at
		FROM users u JOIN memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE u.org_id = 'p1' AND u.subject = ? AND m.course_id = ?`, subject, e.link.Course.ID).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 1 {
		t.Fatalf("%d memberships for %s", len(rows), subject)
	}
	if len(rows) == 0 {
		return row{}, false
	}
	return rows[0], true
}

func (e *env) count(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSyncAddsPeopleWhoNeverLaunchedAsNotYetActive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.lms.members = []advantage.Member{
			member("ines", "", lti.RoleInstructor),
			member("amy", "Amy Adams", lti.RoleLearner),
			{UserID: "bo", GivenName: "Bo", FamilyName: "Berg", Roles: []string{lti.RoleLearner}, Status: advantage.MemberInactive},
			{UserID: "cai"}, // no role, no name: the least privilege and a pseudonym
			member("tess", "Tess Tan", "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"),
			member("amy", "Amy Again", lti.RoleInstructor), // a repeat is ignored
		}
		res, err := e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if !res.Scoped || res.Members != 5 || res.Added != 4 || res.Deactivated != 0 {
			t.Errorf("result %+v, want scoped, 5 members, 4 added", res)
		}
		amy, ok := e.membership(t, "amy")
		if !ok || amy.Status != roster.StatusNotYetActive || amy.LastLaunchAt != nil || amy.Name != "Amy Adams" ||
			amy.Email != "amy@example.edu" || amy.Roles != "learner" {
			t.Errorf("amy: %+v %v", amy, ok)
		}
		if bo, _ := e.membership(t, "bo"); bo.Status != roster.StatusInactive || bo.Name != "Bo Berg" {
			t.Errorf("bo, Inactive in the LMS: %+v", bo)
		}
		if cai, _ := e.membership(t, "cai"); cai.Roles != "learner" || cai.Status != roster.StatusNotYetActive {
			t.Errorf("cai without roles: %+v", cai)
		}
		if tess, _ := e.membership(t, "tess"); tess.Roles != "teaching_assistant" {
			t.Errorf("tess: %+v", tess)
		}
		// The instructor launched: still active, roles from the roster, the
		// launch's name kept where the roster sends none.
		if ines, _ := e.membership(t, "ines"); ines.Status != roster.StatusActive || ines.Roles != "instructor" || ines.Name != "Launched ines" || ines.LastLaunchAt == nil {
			t.Errorf("ines: %+v", ines)
		}
		var pseudonym string
		must(t, db.Raw(`SELECT pseudonym FROM users WHERE org_id = 'p1' AND subject = 'cai'`).Scan(&pseudonym).Error)
		if pseudonym != course.Pseudonym("p1", "https://lms.example", "cai") {
			t.Errorf("cai's pseudonym %q", pseudonym)
		}
		if got := e.lms.rlids(); len(got) != 1 || got[0] != "rl-1" {
			t.Errorf("NRPS calls with rlid %q, want one scoped to the LMS's link id rl-1", got)
		}

		// Amy launches: the same person, now active.
		before, _ := e.membership(t, "amy")
		rec := e.launch(t, "amy", "rl-1", course.Learner)
		after, _ := e.membership(t, "amy")
		if rec.User.ID != before.UserID || after.UserID != before.UserID || after.Status != roster.StatusActive || after.LastLaunchAt == nil {
			t.Errorf("amy after her launch: %+v (user %s, was %s)", after, rec.User.ID, before.UserID)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE org_id = 'p1' AND subject = 'amy'`); n != 1 {
			t.Errorf("%d users for amy", n)
		}
		// A later sync keeps her active.
		_, err = e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if a, _ := e.membership(t, "amy"); a.Status != roster.StatusActive {
			t.Errorf("amy after another sync: %s", a.Status)
		}
	})
}

func TestSyncOfTheWholeCourseDeactivatesWhoLeftAndDeletesNobody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.launch(t, "dee", "rl-1", course.Learner)
		e.lms.members = []advantage.Member{member("ines", "Ines", lti.RoleInstructor), member("amy", "Amy", lti.RoleLearner), member("bo", "Bo", lti.RoleLearner)}
		_, err := e.svc.SyncCourse(ctx, "p1", e.link.Course.ID)
		must(t, err)
		// dee launched but the LMS no longer lists her.
		if dee, _ := e.membership(t, "dee"); dee.Status != roster.StatusInactive || dee.LastLaunchAt == nil {
			t.Errorf("dee, gone from the roster: %+v", dee)
		}

		// bo leaves, amy is marked Inactive; a scoped roster without ines
		// does not drop her.
		e.lms.members = []advantage.Member{member("ines", "Ines", lti.RoleInstructor),
			{UserID: "amy", Roles: []string{lti.RoleLearner}, Status: advantage.MemberInactive}}
		res, err := e.svc.SyncCourse(ctx, "p1", e.link.Course.ID)
		must(t, err)
		if res.Scoped || res.Deactivated != 2 || res.Added != 0 {
			t.Errorf("result %+v, want 2 deactivated", res)
		}
		for _, s := range []string{"amy", "bo", "dee"} {
			if m, ok := e.membership(t, s); !ok || m.Status != roster.StatusInactive {
				t.Errorf("%s: %+v %v, want kept and inactive", s, m, ok)
			}
		}
		e.lms.scoped = map[string][]advantage.Member{"rl-1": {member("bo", "Bo", lti.RoleLearner)}}
		_, err = e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if ines, _ := e.membership(t, "ines"); ines.Status != roster.StatusActive {
			t.Errorf("ines after a scoped roster without her: %s", ines.Status)
		}
		if bo, _ := e.membership(t, "bo"); bo.Status != roster.StatusNotYetActive {
			t.Errorf("bo back in the activity's roster: %s, want not yet active", bo.Status)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE org_id = 'p1'`); n != 4 {
			t.Errorf("%d users, want all 4 kept", n)
		}

		// An empty whole roster changes nothing.
		e.lms.members = nil
		_, err = e.svc.SyncCourse(ctx, "p1", e.link.Course.ID)
		var se *roster.SyncError
		if !errors.As(err, &se) || se.Kind != roster.FailEmpty {
			t.Fatalf("empty roster: %v", err)
		}
		if ines, _ := e.membership(t, "ines"); ines.Status != roster.StatusActive {
			t.Errorf("ines after an empty roster: %s", ines.Status)
		}
	})
}

func TestScopedRosterRefusedFallsBackToTheWholeCourse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.lms.members = []advantage.Member{member("ines", "Ines", lti.RoleInstructor), member("amy", "Amy", lti.RoleLearner)}
		e.lms.rlidFail = &advantage.Error{Op: "members", Status: http.StatusBadRequest, Body: "rlid not supported"}
		res, err := e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if res.Scoped || res.Added != 1 {
			t.Errorf("result %+v, want the whole course", res)
		}
		if got := e.lms.rlids(); len(got) != 2 || got[0] != "rl-1" || got[1] != "" {
			t.Errorf("calls with rlid %q, want rl-1 then the whole course", got)
		}
		// Remembered: the next sync asks for the whole course straight away.
		_, err = e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if got := e.lms.rlids(); len(got) != 3 || got[2] != "" {
			t.Errorf("calls with rlid %q, want no second scoped request", got)
		}
		r, err := e.svc.Roster(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if !r.HasCourse || r.Course.Scoped || r.Course.Members != 2 || r.Course.SyncedAt.IsZero() || !r.HasLink || r.Link.Error != "" {
			t.Errorf("recorded syncs: course %+v link %+v", r.Course, r.Link)
		}
	})
}

func TestSyncFailuresAreRecordedWithAReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for _, c := range []struct {
			err  error
			kind string
		}{
			{&advantage.Error{Op: "token", Status: http.StatusBadRequest, Body: `{"error":"invalid_scope"}`}, roster.FailNotGranted},
			{&advantage.Error{Op: "members", Status: http.StatusForbidden}, roster.FailNotGranted},
			{&advantage.Error{Op: "members", Status: http.StatusServiceUnavailable}, roster.FailUnavailable},
			{&advantage.Error{Op: "members", Status: http.StatusNotFound}, roster.FailRefused},
		} {
			e.lms.fail = c.err
			e.now = e.now.Add(time.Minute)
			_, err := e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
			var se *roster.SyncError
			if !errors.As(err, &se) || se.Kind != c.kind || se.Message == "" {
				t.Errorf("%v: %v, want %s", c.err, err, c.kind)
				continue
			}
			r, err := e.svc.Roster(ctx, "p1", e.link.Link.ID)
			must(t, err)
			if r.Link.Error != se.Message || !r.Link.AttemptedAt.Equal(e.now) || !r.Link.SyncedAt.IsZero() {
				t.Errorf("%v recorded as %+v", c.err, r.Link)
			}
		}

		// A course whose launches carried no NRPS claim.
		other := e.launch(t, "ines", "rl-elsewhere", course.Instructor)
		must(t, db.Exec(`UPDATE resource_links SET nrps_url = ''`).Error)
		_, err := e.svc.SyncLink(ctx, "p1", other.Link.ID)
		var se *roster.SyncError
		if !errors.As(err, &se) || se.Kind != roster.FailNoService {
			t.Errorf("no NRPS URL: %v", err)
		}
		if _, err := e.svc.SyncLink(ctx, "p1", "no-such-link"); err == nil || errors.As(err, &se) {
			t.Errorf("unknown link: %v", err)
		}
	})
}

func TestRosterListsWhoNeverOpenedTheActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.launch(t, "amy", "rl-1", course.Learner)
		e.launch(t, "bo", "rl-2", course.Learner) // opened another activity only
		e.lms.members = []advantage.Member{member("ines", "Ines", lti.RoleInstructor), member("amy", "Amy", lti.RoleLearner),
			member("bo", "Bo", lti.RoleLearner), member("cai", "Cai", lti.RoleLearner),
			{UserID: "dan", Name: "Dan", Roles: []string{lti.RoleLearner}, Status: advantage.MemberInactive},
			member("eve", "Eve", lti.RoleLearner)}
		_, err := e.svc.SyncCourse(ctx, "p1", e.link.Course.ID)
		must(t, err)
		r, err := e.svc.Roster(ctx, "p1", e.link.Link.ID)
		must(t, err)
		if !r.Service || len(r.Members) != 6 {
			t.Fatalf("roster %+v", r)
		}
		var never []string
		for _, m := range r.NeverOpened {
			never = append(never, m.Subject)
		}
		if fmt.Sprint(never) != "[bo cai eve]" {
			t.Errorf("never opened %v, want bo (opened another activity), cai and eve", never)
		}
		for _, m := range r.Members {
			if (m.Subject == "amy" || m.Subject == "ines") != m.Opened() {
				t.Errorf("%s opened: %v", m.Subject, m.Opened())
			}
		}

		// The activity's own audience, once a scoped roster is newer.
		e.now = e.now.Add(time.Hour)
		e.lms.scoped = map[string][]advantage.Member{"rl-1": {member("ines", "Ines", lti.RoleInstructor), member("cai", "Cai", lti.RoleLearner)}}
		_, err = e.svc.SyncLink(ctx, "p1", e.link.Link.ID)
		must(t, err)
		r, err = e.svc.Roster(ctx, "p1", e.link.Link.ID)
		must(t, err)
		var listed []string
		for _, m := range r.Members {
			listed = append(listed, m.Subject)
		}
		// amy opened it, so she stays listed.
		if fmt.Sprint(listed) != "[amy cai ines]" || len(r.NeverOpened) != 1 || r.NeverOpened[0].Subject != "cai" {
			t.Errorf("scoped roster lists %v, never opened %v", listed, r.NeverOpened)
		}
	})
}

func TestRefreshDueSyncsStaleCoursesWithinItsBound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.lms.members = []advantage.Member{member("ines", "Ines", lti.RoleInstructor)}
		// Three more courses, one without NRPS.
		var courses []string
		for i := range 3 {
			in := course.LaunchInput{OrgID: "p1", PlatformID: "p1", Issuer: "https://lms.example", DeploymentID: "d1", Subject: "ines", ContextID: fmt.Sprintf("ctx-%d", i),
				ResourceLinkID: fmt.Sprintf("l-%d", i), Roles: course.Roles{course.Instructor}, NRPSURL: nrpsURL}
			if i == 2 {
				in.NRPSURL = ""
			}
			must(t, db.Tx(ctx, func(tx *gorm.DB) error {
				rec, err := e.courses.RecordLaunch(ctx, tx, in)
				courses = append(courses, rec.Course.ID)
				return err
			}))
		}
		n, err := e.svc.RefreshDue(ctx, 24*time.Hour, 2)
		must(t, err)
		if n != 2 {
			t.Errorf("first tick synced %d, want its bound of 2", n)
		}
		n, err = e.svc.RefreshDue(ctx, 24*time.Hour, 2)
		must(t, err)
		if n != 1 {
			t.Errorf("second tick synced %d, want the last course with NRPS", n)
		}
		if n, _ := e.svc.RefreshDue(ctx, 24*time.Hour, 10); n != 0 {
			t.Errorf("fresh rosters synced again: %d", n)
		}
		if c := e.count(t, `SELECT COUNT(*) FROM roster_syncs WHERE course_id = ?`, courses[2]); c != 0 {
			t.Errorf("the course without NRPS has %d sync rows", c)
		}

		// A day later they are due again; a failing LMS is recorded and
		// does not stop the others.
		e.now = e.now.Add(25 * time.Hour)
		e.lms.fail = &advantage.Error{Op: "members", Status: http.StatusInternalServerError}
		n, err = e.svc.RefreshDue(ctx, 24*time.Hour, 10)
		must(t, err)
		if n != 0 {
			t.Errorf("synced %d with a failing LMS", n)
		}
		if c := e.count(t, `SELECT COUNT(*) FROM roster_syncs WHERE link_id = '' AND error <> ''`); c != 3 {
			t.Errorf("%d failures recorded, want 3", c)
		}
		// Failed attempts wait for the next day too.
		e.lms.fail = nil
		if n, _ := e.svc.RefreshDue(ctx, 24*time.Hour, 10); n != 0 {
			t.Errorf("retried %d right after failing", n)
		}
		// A disabled platform is left alone.
		must(t, db.Exec(`UPDATE platforms SET status = 'disabled'`).Error)
		e.now = e.now.Add(25 * time.Hour)
		if n, _ := e.svc.RefreshDue(ctx, 24*time.Hour, 10); n != 0 {
			t.Errorf("synced %d courses of a disabled platform", n)
		}
	})
}

func TestOpeningsComeFromEachLaunchSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		amy := e.launch(t, "amy", "rl-1", course.Learner)
		read := func() (first, last time.Time, n int) {
			t.Helper()
			var rows []struct{ FirstOpenedAt, LastOpenedAt time.Time }
			must(t, db.Raw(`SELECT first_opened_at, last_opened_at FROM link_openings WHERE org_id = 'p1' AND link_id = ? AND user_id = ?`,
				amy.Link.ID, amy.User.ID).Scan(&rows).Error)
			if len(rows) != 1 {
				return time.Time{}, time.Time{}, len(rows)
			}
			return rows[0].FirstOpenedAt, rows[0].LastOpenedAt, 1
		}
		first, last, n := read()
		if n != 1 || !first.Equal(last) {
			t.Fatalf("after one launch: %d rows, first %v last %v", n, first, last)
		}
		time.Sleep(20 * time.Millisecond)
		e.launch(t, "amy", "rl-1", course.Learner)
		first2, last2, n := read()
		if n != 1 || !first2.Equal(first) || !last2.After(last) {
			t.Errorf("after a second launch: %d rows, first %v (was %v), last %v (was %v)", n, first2, first, last2, last)
		}
		r, err := e.svc.Roster(ctx, "p1", amy.Link.ID)
		must(t, err)
		for _, m := range r.Members {
			if m.ID == amy.User.ID && (!m.LastOpened.Equal(last2) || !m.FirstOpened.Equal(first)) {
				t.Errorf("roster shows amy opened %v..%v", m.FirstOpened, m.LastOpened)
			}
		}
	})
}
