package course

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Cohort keys, unique within a course: "course" holds the whole course,
// "section:<id>" one LMS section or named cohort, "groups:<N>:<k>" the k-th
// automatic group of about N learners. Groups are keyed by course and N,
// not by activity, so activities with the same group size share groups.
const (
	courseCohortKey = "course"
	sectionPrefix   = "section:"
	groupsPrefix    = "groups:"
)

// Custom parameters a launch may carry to name its section.
const (
	// CustomCohort names the cohort outright; it wins over section ids.
	CustomCohort = "cohort"
)

// SectionIDParams are the custom parameters that carry substituted LMS
// section ids, comma-separated, first found first: each LMS family's
// (canvas_section_ids=$Canvas.course.sectionIds in Canvas), then
// section_ids for any LMS that can substitute them (lms.SectionIDParams).
var SectionIDParams = lms.SectionIDParams()

const maxSectionID = 200

// sectionRef is the cohort a launch names for a section policy.
type sectionRef struct{ key, name string }

// sectionOf reads the cohort a launch names: the cohort custom parameter,
// else the first usable section id parameter, else the lis claim's course
// section. Values still holding an unsubstituted $Variable are ignored. A
// person in several sections joins the lowest id (shorter first, then
// alphabetical, so numeric ids compare as numbers): the same on every launch.
func sectionOf(in LaunchInput) sectionRef {
	if v := substituted(in.Custom[CustomCohort]); v != "" {
		v = Clip(v, maxSectionID)
		return sectionRef{key: sectionPrefix + v, name: v}
	}
	for _, p := range SectionIDParams {
		if id := lowestSection(in.Custom[p]); id != "" {
			return sectionRef{key: sectionPrefix + id, name: "Section " + id}
		}
	}
	if id := lowestSection(in.CourseSection); id != "" {
		return sectionRef{key: sectionPrefix + id, name: "Section " + id}
	}
	return sectionRef{}
}

func substituted(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "$") {
		return ""
	}
	return v
}

func lowestSection(list string) string {
	ids := sectionIDs(list)
	if len(ids) == 0 {
		return ""
	}
	return slices.MinFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
	})
}

// sectionIDs splits a comma-separated list of section ids, leaving out
// empty and unsubstituted ones.
func sectionIDs(list string) []string {
	var ids []string
	for _, id := range strings.Split(list, ",") {
		if id = Clip(substituted(id), maxSectionID); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// maxSections bounds how many sections of one launch are recorded.
const maxSections = 100

// sectionsOf lists the cohort keys of every section a launch names, from
// the same source sectionOf picks its one from, sorted; none when it names
// none. The membership keeps them (see MayViewCohort).
func sectionsOf(in LaunchInput) []string {
	var ids []string
	if v := substituted(in.Custom[CustomCohort]); v != "" {
		ids = []string{Clip(v, maxSectionID)}
	} else {
		for _, p := range SectionIDParams {
			if ids = sectionIDs(in.Custom[p]); len(ids) > 0 {
				break
			}
		}
		if len(ids) == 0 {
			ids = sectionIDs(in.CourseSection)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, sectionPrefix+id)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return keys[:min(len(keys), maxSections)]
}

// FormatSections is the stored form of a member's sections: a JSON array,
// or empty for none.
func FormatSections(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	b, _ := json.Marshal(keys)
	return string(b)
}

// ParseSections reads the stored form; anything unreadable is none.
func ParseSections(s string) []string {
	if s == "" {
		return nil
	}
	var keys []string
	if json.Unmarshal([]byte(s), &keys) != nil {
		return nil
	}
	return keys
}

// MayViewCohort reports whether a person holding roles, whose last launch
// named sections, may view a cohort of their course they are not a member
// of, by the cohort's key. Instructors and administrators may view any; a
// teaching assistant whose launch named no section may view any, one whose
// launch named sections only those sections' cohorts, as an LMS limits a
// TA to their sections. Learners and mentors view only the cohorts they are
// members of.
func MayViewCohort(roles Roles, sections []string, cohortKey string) bool {
	switch {
	case roles.Has(Instructor), roles.Has(Administrator):
		return true
	case roles.Has(TeachingAssistant):
		return len(sections) == 0 || slices.Contains(sections, cohortKey)
	}
	return false
}

// adoptSettings stores the plan's adopted settings for its link, unless a
// concurrent launch stored some first; it returns the link's settings.
func (s *Store) adoptSettings(tx *gorm.DB, p *LaunchPlan) (Settings, error) {
	st := *p.adopted
	st.OrgID, st.LinkID = p.l.OrgID, p.l.ID
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	st.Configured, st.UpdatedAt = true, p.now
	wrote, err := insertSettings(tx, st, `ON CONFLICT (org_id, link_id) DO NOTHING`)
	if err != nil {
		return Settings{}, fmt.Errorf("adopt activity settings: %w", err)
	}
	if wrote {
		return st, nil
	}
	return s.settingsIn(tx.Statement.Context, tx, st.OrgID, st.LinkID)
}

// assignCohort puts the person in the cohort the link's settings pick:
// staff and learners alike join the course-wide cohort, or their section's;
// under the groups policy learners join a group, and staff and observers
// the course-wide cohort (staff can switch from it to any group).
func (s *Store) assignCohort(tx *gorm.DB, p *LaunchPlan, st Settings) (Cohort, int, error) {
	if p.adopted == nil && p.ex.CohortID != "" {
		// The plan found the cohort this policy picks.
		co := p.foundCohort()
		if p.ex.CohortMemberID != "" {
			return co, p.ex.CohortSize, nil
		}
		size, err := s.addCohortMember(tx, co, p.u.ID, p.now)
		return co, size, err
	}
	key, name := courseCohortKey, p.c.Title
	switch {
	case st.CohortPolicy == CohortGroups && p.roles.Participant():
		return s.joinGroup(tx, p, st.GroupSize)
	case st.CohortPolicy == CohortSection && p.section.key != "":
		key, name = p.section.key, p.section.name
	}
	co, err := ensureCohort(tx, p.c, key, name, p.now)
	if err != nil {
		return Cohort{}, 0, err
	}
	size, err := s.addCohortMember(tx, co, p.u.ID, p.now)
	return co, size, err
}

func ensureCohort(tx *gorm.DB, c Course, key, name string, now time.Time) (Cohort, error) {
	co := Cohort{OrgID: c.OrgID, CourseID: c.ID, Key: key, Name: name, CreatedAt: now}
	var err error
	co.ID, err = insertOrGet(tx, `INSERT INTO cohorts (org_id, id, course_id, cohort_key, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, course_id, cohort_key) DO NOTHING RETURNING id`,
		[]any{co.OrgID, newID(), co.CourseID, co.Key, co.Name, now},
		`SELECT id FROM cohorts WHERE org_id = ? AND course_id = ? AND cohort_key = ?`, co.OrgID, co.CourseID, co.Key)
	if err != nil {
		return Cohort{}, fmt.Errorf("record cohort: %w", err)
	}
	return co, nil
}

// addCohortMember adds a member and counts them, once, and returns the
// cohort's member count. On Postgres it is one statement: a launch is a
// few round trips, each costing both processes more than its work.
func (s *Store) addCohortMember(tx *gorm.DB, co Cohort, userID string, now time.Time) (int, error) {
	var size []int
	if s.db.Dialect == store.Postgres {
		err := tx.Raw(`WITH added AS (INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id, cohort_id, user_id) DO NOTHING RETURNING 1)
			UPDATE cohorts SET member_count = member_count + (SELECT COUNT(*) FROM added) WHERE org_id = ? AND id = ?
			RETURNING member_count`, co.OrgID, co.ID, userID, now, co.OrgID, co.ID).Scan(&size).Error
		if err != nil {
			return 0, fmt.Errorf("record cohort member: %w", err)
		}
	} else {
		res := tx.Exec(`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, cohort_id, user_id) DO NOTHING`, co.OrgID, co.ID, userID, now)
		if res.Error != nil {
			return 0, fmt.Errorf("record cohort member: %w", res.Error)
		}
		if err := tx.Raw(`UPDATE cohorts SET member_count = member_count + ? WHERE org_id = ? AND id = ? RETURNING member_count`,
			res.RowsAffected, co.OrgID, co.ID).Scan(&size).Error; err != nil {
			return 0, fmt.Errorf("count cohort member: %w", err)
		}
	}
	if len(size) != 1 {
		return 0, fmt.Errorf("count cohort member: cohort %s: %w", co.ID, store.ErrNotFound)
	}
	return size[0], nil
}

// joinGroup places a learner in one of the course's groups of about n:
// the group they are already in, else the smallest group with room (the
// first of equals), else a new group. Launches placing learners in the same
// course's groups of n take turns: on Postgres under a transaction-scoped
// advisory lock, on SQLite under the immediate transaction's write lock.
// The lock is taken after every row lock of the launch, and what holds it
// waits for no other launch's rows, so it cannot deadlock.
func (s *Store) joinGroup(tx *gorm.DB, p *LaunchPlan, n int) (Cohort, int, error) {
	prefix := groupsPrefix + strconv.Itoa(n) + ":"
	if s.db.Dialect == store.Postgres {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, groupLockKey(p.c, n)).Error; err != nil {
			return Cohort{}, 0, fmt.Errorf("lock the course's groups: %w", err)
		}
	}
	type group struct {
		ID, CohortKey, Name string
		MemberCount         int
		Member              int
		k                   int
	}
	var groups []group
	err := tx.Raw(`SELECT co.id, co.cohort_key, co.name, co.member_count, CASE WHEN cm.user_id IS NULL THEN 0 ELSE 1 END AS member
		FROM cohorts co
		LEFT JOIN cohort_members cm ON cm.org_id = co.org_id AND cm.cohort_id = co.id AND cm.user_id = ?
		WHERE co.org_id = ? AND co.course_id = ? AND co.cohort_key LIKE ?`,
		p.u.ID, p.c.OrgID, p.c.ID, prefix+"%").Scan(&groups).Error
	if err != nil {
		return Cohort{}, 0, fmt.Errorf("read the course's groups: %w", err)
	}
	last := 0
	var pick *group
	for i := range groups {
		g := &groups[i]
		g.k, _ = strconv.Atoi(strings.TrimPrefix(g.CohortKey, prefix))
		last = max(last, g.k)
		if g.Member == 1 {
			return Cohort{OrgID: p.c.OrgID, ID: g.ID, CourseID: p.c.ID, Key: g.CohortKey, Name: g.Name}, g.MemberCount, nil
		}
		if g.MemberCount < n && (pick == nil || g.MemberCount < pick.MemberCount || (g.MemberCount == pick.MemberCount && g.k < pick.k)) {
			pick = g
		}
	}
	var co Cohort
	if pick != nil {
		co = Cohort{OrgID: p.c.OrgID, ID: pick.ID, CourseID: p.c.ID, Key: pick.CohortKey, Name: pick.Name}
	} else {
		k := last + 1
		if co, err = ensureCohort(tx, p.c, prefix+strconv.Itoa(k), "Group "+strconv.Itoa(k), p.now); err != nil {
			return Cohort{}, 0, err
		}
	}
	size, err := s.addCohortMember(tx, co, p.u.ID, p.now)
	return co, size, err
}

func groupLockKey(c Course, n int) int64 {
	sum := sha256.Sum256([]byte("roundtable groups\x00" + c.OrgID + "\x00" + c.ID + "\x00" + strconv.Itoa(n)))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// CohortSummary is a cohort as the staff's switcher lists it.
type CohortSummary struct {
	Cohort
	Size int
}

// Cohorts lists a course's cohorts: the course-wide one first, then by key
// (sections, then groups in their order).
func (s *Store) Cohorts(ctx context.Context, orgID, courseID string) ([]CohortSummary, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT id, cohort_key, name, member_count, created_at FROM cohorts
		WHERE org_id = ? AND course_id = ?`), orgID, courseID)
	if err != nil {
		return nil, fmt.Errorf("list cohorts: %w", err)
	}
	defer rows.Close()
	var out []CohortSummary
	for rows.Next() {
		c := CohortSummary{Cohort: Cohort{OrgID: orgID, CourseID: courseID}}
		if err := rows.Scan(&c.ID, &c.Key, &c.Name, &c.Size, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("list cohorts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cohorts: %w", err)
	}
	slices.SortFunc(out, func(a, b CohortSummary) int { return compareCohortKeys(a.Key, b.Key) })
	return out, nil
}

// compareCohortKeys orders the course-wide cohort first, then sections,
// then groups by size and number (numbers compared as numbers).
func compareCohortKeys(a, b string) int {
	rank := func(k string) int {
		switch {
		case k == courseCohortKey:
			return 0
		case strings.HasPrefix(k, sectionPrefix):
			return 1
		case strings.HasPrefix(k, groupsPrefix):
			return 2
		}
		return 3
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	if rank(a) == 2 {
		na, ka := groupNumbers(a)
		nb, kb := groupNumbers(b)
		return cmp.Or(cmp.Compare(na, nb), cmp.Compare(ka, kb))
	}
	return cmp.Compare(a, b)
}

func groupNumbers(key string) (n, k int) {
	parts := strings.Split(strings.TrimPrefix(key, groupsPrefix), ":")
	if len(parts) == 2 {
		n, _ = strconv.Atoi(parts[0])
		k, _ = strconv.Atoi(parts[1])
	}
	return n, k
}

// CohortOf returns one of a course's cohorts, with its size; not found when
// the cohort is not the course's.
func (s *Store) CohortOf(ctx context.Context, orgID, courseID, cohortID string) (CohortSummary, error) {
	c := CohortSummary{Cohort: Cohort{OrgID: orgID, CourseID: courseID}}
	err := s.db.QueryRow(ctx, `SELECT id, cohort_key, name, member_count, created_at FROM cohorts
		WHERE org_id = ? AND course_id = ? AND id = ?`, orgID, courseID, cohortID).
		Scan(&c.ID, &c.Key, &c.Name, &c.Size, &c.CreatedAt)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return CohortSummary{}, roundtable.Errorf(roundtable.ENOTFOUND, "That cohort is not one of this course's.")
		}
		return CohortSummary{}, fmt.Errorf("read cohort: %w", err)
	}
	return c, nil
}
