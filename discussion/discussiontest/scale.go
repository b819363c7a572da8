// Package discussiontest seeds a cohort's discussion at the scale of a
// large course, for benchmarks and the query-count tests: rows written
// straight to the tables (COPY on Postgres, multi-row INSERTs in one
// transaction on SQLite), shaped as the discussion store writes them, so
// counters, search documents, follows, visits and notifications agree.
package discussiontest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Space is the cohort's space to fill and the person who will read it, as
// a launch recorded them (the session's platform, course, link and cohort).
type Space struct {
	OrgID, CourseID, LinkID, CohortID string
	// SpaceID is the cohort's space in the activity (Seed finds or creates
	// it when empty).
	SpaceID string
	// Viewers are learners of the cohort who launched already: a few of
	// the posts are theirs, and their follows, visits and notifications
	// are seeded.
	Viewers []string
}

// Scale says how much to seed.
type Scale struct {
	Threads int
	// Posts counts every post, the threads' opening posts included.
	Posts int
	// Learners is how many learners write (the viewer among them).
	Learners int
}

// Large is the scale of a large course's busy discussion.
var Large = Scale{Threads: 1000, Posts: 100000, Learners: 300}

// Fixture names what Seed made, for the pages a benchmark opens.
type Fixture struct {
	Space Space
	Scale Scale
	// Hundred is a question with exactly 100 posts (99 replies, some
	// nested, an accepted answer, votes, a hidden and a removed reply).
	Hundred string
	// Largest is the thread with the most posts, and how many.
	Largest      string
	LargestPosts int
	// Tag is a tag on about one thread in fourteen.
	Tag string
	// SearchWord is a word in about 4 % of posts; SearchWords two words
	// found together in about 1 %.
	SearchWord, SearchWords string
	// Following is how many threads the first viewer follows.
	Following int
	// Rows is how many rows each table received.
	Rows map[string]int
	// Took is how long seeding took.
	Took time.Duration
}

// Seed fills sp with sc's threads and posts. It is deterministic: the same
// scale gives the same discussion.
func Seed(ctx context.Context, db *store.DB, sp Space, sc Scale) (Fixture, error) {
	start := time.Now()
	if sp.SpaceID == "" {
		found, err := space.NewStore(db).ForCohort(ctx, sp.OrgID, sp.CourseID, sp.LinkID, sp.CohortID)
		if err != nil {
			return Fixture{}, err
		}
		sp.SpaceID = found.ID
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	g := &storetest.IDs{}
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := Fixture{Space: sp, Scale: sc, Rows: map[string]int{}}

	users := &storetest.Table{Name: "users", Cols: []string{"org_id", "id", "issuer", "subject", "name", "given_name", "family_name", "email", "pseudonym", "created_at", "updated_at"}}
	members := &storetest.Table{Name: "memberships", Cols: []string{"org_id", "course_id", "user_id", "roles", "status", "created_at", "updated_at"}}
	cohort := &storetest.Table{Name: "cohort_members", Cols: []string{"org_id", "cohort_id", "user_id", "created_at"}}
	threads := &storetest.Table{Name: "threads", Cols: []string{"org_id", "id", "course_id", "link_id", "cohort_id", "space_id", "kind", "title", "tags", "author_id", "anonymous",
		"opening_post_id", "accepted_post_id", "pinned", "locked", "closed", "reply_count", "vote_count", "last_post_id", "last_activity_at", "created_at",
		"duplicate_of", "hidden", "hidden_replies"}}
	tags := &storetest.Table{Name: "thread_tags", Cols: []string{"org_id", "cohort_id", "space_id", "thread_id", "tag"}}
	posts := &storetest.Table{Name: "posts", Cols: []string{"org_id", "id", "cohort_id", "link_id", "thread_id", "parent_id", "opening", "author_id", "anonymous",
		"body", "vote_count", "endorsed", "deleted", "edited_at", "created_at", "hidden", "hidden_by", "hidden_at", "space_id", "body_text"}}
	revisions := &storetest.Table{Name: "post_revisions", Cols: []string{"org_id", "id", "cohort_id", "space_id", "post_id", "title", "body", "editor_id", "reason", "created_at"}}
	votes := &storetest.Table{Name: "post_votes", Cols: []string{"org_id", "post_id", "user_id", "cohort_id", "space_id", "created_at"}}
	follows := &storetest.Table{Name: "thread_follows", Cols: []string{"org_id", "thread_id", "user_id", "cohort_id", "space_id", "created_at"}}
	visits := &storetest.Table{Name: "thread_visits", Cols: []string{"org_id", "thread_id", "user_id", "cohort_id", "space_id", "seen_posts", "last_visit_at"}}
	events := &storetest.Table{Name: "participation_events", Cols: []string{"org_id", "id", "course_id", "link_id", "cohort_id", "space_id", "user_id", "kind", "thread_id", "post_id", "created_at"}}
	notes := &storetest.Table{Name: "notifications", Cols: []string{"org_id", "id", "cohort_id", "space_id", "link_id", "user_id", "kind", "actor_id", "anonymous", "thread_id", "post_id", "hidden", "seen_at", "created_at"}}
	modlog := &storetest.Table{Name: "moderation_log", Cols: []string{"org_id", "id", "course_id", "link_id", "cohort_id", "actor_id", "action", "thread_id", "post_id", "target_user_id", "reason", "created_at"}}

	// People: the viewers (already launched), other learners and two staff.
	viewers := sp.Viewers
	learners := append([]string(nil), viewers...)
	joined := now.Add(-100 * 24 * time.Hour)
	for i := len(viewers); i < sc.Learners; i++ {
		learners = append(learners, fmt.Sprintf("scale-learner-%04d", i))
	}
	staff := []string{"scale-instructor", "scale-assistant"}
	roles := map[string]string{staff[0]: "instructor", staff[1]: "teaching_assistant"}
	for i, id := range append(learners[len(viewers):], staff...) {
		name := fmt.Sprintf("%s %s", given[i%len(given)], family[(i/len(given))%len(family)])
		users.Add(sp.OrgID, id, "https://lms.example.edu", "sub-"+id, name, "", "", id+"@example.edu", fmt.Sprintf("Learner %04d", i), joined, joined)
		role := roles[id]
		if role == "" {
			role = "learner"
		}
		members.Add(sp.OrgID, sp.CourseID, id, role, "active", joined, joined)
		cohort.Add(sp.OrgID, sp.CohortID, id, joined)
	}
	others := learners[len(viewers):]

	// Replies per thread: a few threads with hundreds or thousands of
	// posts, most with a few dozen (a Zipf-like law, shuffled in time).
	if sc.Threads < 2 || len(viewers) == 0 || len(others) == 0 {
		return f, fmt.Errorf("scale %+v needs two threads or more, a viewer and learners besides the viewers", sc)
	}
	replies := replyCounts(rng, sc.Threads, sc.Posts-sc.Threads)
	hundred := sc.Threads / 2
	// The 100-post thread's replies beyond 99 go to the largest thread.
	largest := (hundred + 1) % sc.Threads
	for i, n := range replies {
		if n > replies[largest] && i != hundred {
			largest = i
		}
	}
	replies[largest] += replies[hundred] - 99
	replies[hundred] = 99
	if replies[largest] < 0 {
		return f, fmt.Errorf("scale %+v has too few posts for a 100-post thread among the others", sc)
	}
	span := 90 * 24 * time.Hour
	vocab := words(rng)
	tagNames := []string{"week-1", "week-2", "week-3", "week-4", "week-5", "week-6", "exam", "lab", "homework", "reading",
		"project", "grading", "logistics", "hazards", "ppe", "ladders", "chemicals", "fire", "first-aid", "ergonomics"}
	f.Tag = "ladders"
	author := func() string {
		// Each viewer writes about 1 post in 1,000; staff 1 in 25.
		switch r := rng.Float64(); {
		case r < float64(len(viewers))/1000:
			return viewers[rng.IntN(len(viewers))]
		case r < float64(len(viewers))/1000+0.04:
			return staff[rng.IntN(len(staff))]
		default:
			return others[rng.IntN(len(others))]
		}
	}
	var originals []string
	for ti := 0; ti < sc.Threads; ti++ {
		created := now.Add(-span + time.Duration(float64(span)*float64(ti)/float64(sc.Threads)))
		tid, openID := g.At(created), g.At(created)
		kind := discussion.Question
		if rng.Float64() < 0.3 {
			kind = discussion.Discussion
		}
		threadAuthor := author()
		if ti == hundred {
			kind, threadAuthor = discussion.Question, others[0]
		}
		anon := rng.Float64() < 0.05
		title := sentence(rng, vocab, 4+rng.IntN(8))
		var ttags []string
		for _, j := range rng.Perm(len(tagNames))[:rng.IntN(4)] {
			ttags = append(ttags, tagNames[j])
		}
		for _, tag := range ttags {
			tags.Add(sp.OrgID, sp.CohortID, sp.SpaceID, tid, tag)
		}
		n := replies[ti]
		// Post times: spread between the thread's start and now, in order.
		times := make([]time.Time, n)
		for i := range times {
			times[i] = created.Add(time.Duration(rng.Float64() * float64(now.Sub(created)-time.Minute)))
		}
		sort.Slice(times, func(a, b int) bool { return times[a].Before(times[b]) })

		var threadPosts []int // indexes into posts.Rows
		var topLevel []string
		posters := map[string]time.Time{threadAuthor: created}
		hiddenReplies, threadVotes := 0, 0
		lastID, lastAt := openID, created
		accepted := ""
		threadHidden := ti%200 == 37 // 5 in 1,000 threads hidden by moderators
		// A reply in a hundred is removed by its author, one hidden by moderators.
		addPost := func(id, parent string, opening bool, by string, anonymous bool, at time.Time, deleted, hidden bool) int {
			body := postBody(rng, vocab)
			votesN := min(voteCount(rng), len(learners))
			var editedAt, hiddenAt any
			hiddenBy := ""
			if deleted {
				revisions.Add(sp.OrgID, g.At(at.Add(time.Minute)), sp.CohortID, sp.SpaceID, id, "", body, by, "delete", at.Add(time.Minute))
				body, votesN = "", 0
			} else if rng.Float64() < 0.03 {
				edited := at.Add(10 * time.Minute)
				oldTitle := ""
				if opening {
					oldTitle = title
				}
				revisions.Add(sp.OrgID, g.At(edited), sp.CohortID, sp.SpaceID, id, oldTitle, body+" (first draft)", by, "edit", edited)
				editedAt = edited
			}
			if hidden {
				hiddenAt, hiddenBy = at.Add(time.Hour), staff[0]
				modlog.Add(sp.OrgID, g.At(at.Add(time.Hour)), sp.CourseID, sp.LinkID, sp.CohortID, staff[0], discussion.ActionHide, tid, id, by, "Off topic", at.Add(time.Hour))
				if !opening {
					hiddenReplies++
				}
			}
			// Voters: distinct people, never the author.
			for _, j := range rng.Perm(len(learners))[:votesN] {
				voter := learners[j]
				if voter == by {
					voter = staff[1]
				}
				votes.Add(sp.OrgID, id, voter, sp.CohortID, sp.SpaceID, at.Add(time.Hour))
				events.Add(sp.OrgID, g.At(at.Add(time.Hour)), sp.CourseID, sp.LinkID, sp.CohortID, sp.SpaceID, by, discussion.EventUpvoteReceived, tid, id, at.Add(time.Hour))
			}
			if opening {
				threadVotes = votesN
			}
			endorsed := !deleted && !hidden && strings.HasPrefix(by, "scale-") && rng.Float64() < 0.02
			// The text search reads, as Roundtable writes it with the body:
			// a fixture without it would leave the server filling it in
			// the background while it is measured.
			posts.Add(sp.OrgID, id, sp.CohortID, sp.LinkID, tid, parent, opening, by, anonymous, body, votesN, endorsed, deleted, editedAt, at, hidden, hiddenBy, hiddenAt, sp.SpaceID, discussion.BodyText(body))
			kind := discussion.EventReplyCreated
			if opening {
				kind = discussion.EventThreadCreated
			}
			events.Add(sp.OrgID, g.At(at), sp.CourseID, sp.LinkID, sp.CohortID, sp.SpaceID, by, kind, tid, id, at)
			if _, ok := posters[by]; !ok {
				posters[by] = at
			}
			return len(posts.Rows) - 1
		}
		threadPosts = append(threadPosts, addPost(openID, "", true, threadAuthor, anon, created, false, threadHidden))
		for i, at := range times {
			id := g.At(at)
			parent := ""
			// Three replies in ten answer an earlier reply (one level of nesting).
			if len(topLevel) > 0 && rng.Float64() < 0.3 {
				parent = topLevel[rng.IntN(len(topLevel))]
			}
			by := author()
			if ti == hundred && i == 5 {
				by = viewers[0]
			}
			deleted := rng.Float64() < 0.01 || (ti == hundred && i == 10)
			hidden := !deleted && (rng.Float64() < 0.01 || (ti == hundred && i == 20))
			k := addPost(id, parent, false, by, rng.Float64() < 0.05, at, deleted, hidden)
			threadPosts = append(threadPosts, k)
			if parent == "" {
				topLevel = append(topLevel, id)
			}
			lastID, lastAt = id, at
		}
		// Six questions in ten have an accepted answer among the top-level replies.
		if kind == discussion.Question && len(topLevel) > 0 && (rng.Float64() < 0.6 || ti == hundred) {
			for _, k := range threadPosts[1:] {
				p := posts.Rows[k]
				if p[5] == "" && p[12] == false && p[15] == false {
					accepted = p[1].(string)
					events.Add(sp.OrgID, g.At(p[14].(time.Time).Add(2*time.Hour)), sp.CourseID, sp.LinkID, sp.CohortID, sp.SpaceID, p[7], discussion.EventAnswerAccepted, tid, accepted, p[14].(time.Time).Add(2*time.Hour))
					break
				}
			}
		}
		duplicateOf := ""
		if ti%100 == 61 && len(originals) > 0 {
			duplicateOf = originals[rng.IntN(len(originals))]
		} else if ti%50 == 3 {
			originals = append(originals, tid)
		}
		pinned := ti%333 == 7
		locked := rng.Float64() < 0.01
		closed := kind == discussion.Question && accepted == "" && rng.Float64() < 0.02
		threads.Add(sp.OrgID, tid, sp.CourseID, sp.LinkID, sp.CohortID, sp.SpaceID, kind, title, strings.Join(ttags, " "), threadAuthor, anon,
			openID, accepted, pinned, locked, closed, n, threadVotes, lastID, lastAt, created, duplicateOf, threadHidden, hiddenReplies)
		// Everyone who posted follows the thread, from their first post.
		for who, at := range posters {
			follows.Add(sp.OrgID, tid, who, sp.CohortID, sp.SpaceID, at)
		}
		total := n + 1
		if ti == hundred {
			f.Hundred = tid
		}
		if total > f.LargestPosts {
			f.Largest, f.LargestPosts = tid, total
		}
		// Each viewer: notifications of others' posts in threads they
		// follow, and visits that saw some or all of a thread.
		for vi, viewer := range viewers {
			followedAt, follows := posters[viewer]
			if follows {
				if vi == 0 {
					f.Following++
				}
				nkind := discussion.NotifyFollowed
				if threadAuthor == viewer {
					nkind = map[bool]string{true: discussion.NotifyAnswer, false: discussion.NotifyReply}[kind == discussion.Question]
				}
				for _, k := range threadPosts {
					p := posts.Rows[k]
					at := p[14].(time.Time)
					if p[7] == viewer || !at.After(followedAt) {
						continue
					}
					var seen any
					if at.Before(now.Add(-48 * time.Hour)) {
						seen = at.Add(time.Hour)
					}
					notes.Add(sp.OrgID, g.At(at), sp.CohortID, sp.SpaceID, sp.LinkID, viewer, nkind, p[7], p[8], tid, p[1], threadHidden || p[15].(bool), seen, at)
				}
			}
			if (follows || rng.Float64() < 0.3) && ti != hundred {
				seenPosts := total
				if rng.Float64() < 0.5 {
					seenPosts = 1 + rng.IntN(total)
				}
				visits.Add(sp.OrgID, tid, viewer, sp.CohortID, sp.SpaceID, seenPosts, lastAt)
			}
		}
	}
	f.SearchWord = vocab[150]
	f.SearchWords = vocab[40] + " " + vocab[90]

	all := []*storetest.Table{users, members, cohort, threads, tags, posts, revisions, votes, follows, visits, events, notes, modlog}
	if err := storetest.Load(ctx, db, all); err != nil {
		return f, err
	}
	if err := db.WithContext(ctx).Exec(`UPDATE cohorts SET member_count = (SELECT COUNT(*) FROM cohort_members m WHERE m.org_id = cohorts.org_id AND m.cohort_id = cohorts.id)
		WHERE org_id = ? AND id = ?`, sp.OrgID, sp.CohortID).Error; err != nil {
		return f, fmt.Errorf("cohort size: %w", err)
	}
	// As autovacuum would after a bulk load, give the planner statistics
	// (and Postgres its visibility map, for index-only scans).
	analyze := "ANALYZE"
	if db.Dialect == store.Postgres {
		analyze = "VACUUM ANALYZE"
	}
	if err := db.WithContext(ctx).Exec(analyze).Error; err != nil {
		return f, fmt.Errorf("analyze: %w", err)
	}
	if db.Dialect == store.Postgres {
		// The load's gigabyte of writes goes to disk now, not in the
		// background while pages are timed: a course grows this large
		// over months, long after its writes were checkpointed.
		if err := db.WithContext(ctx).Exec("CHECKPOINT").Error; err != nil {
			return f, fmt.Errorf("checkpoint (needs a superuser or pg_checkpoint): %w", err)
		}
	}
	for _, t := range all {
		f.Rows[t.Name] = len(t.Rows)
	}
	f.Took = time.Since(start)
	return f, nil
}

// replyCounts splits total replies over n threads by a Zipf-like law
// (weight 1/(rank+8)), ranks shuffled so big threads fall anywhere in time.
func replyCounts(rng *rand.Rand, n, total int) []int {
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = 1 / float64(i+8)
		sum += w[i]
	}
	out := make([]int, n)
	given := 0
	for i, j := range rng.Perm(n) {
		out[j] = int(math.Floor(w[i] / sum * float64(total)))
		given += out[j]
	}
	for i := 0; given < total; i = (i + 1) % n {
		out[i]++
		given++
	}
	return out
}

// voteCount: most posts get no vote, a few get many.
func voteCount(rng *rand.Rand) int {
	switch r := rng.Float64(); {
	case r < 0.6:
		return 0
	case r < 0.9:
		return 1 + rng.IntN(3)
	default:
		return 4 + rng.IntN(12)
	}
}

// words makes a vocabulary of 3,000 pronounceable words; sentences draw
// them by a Zipf law, so a few are in most posts and most in few.
func words(rng *rand.Rand) []string {
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "go", "hu", "ji", "po", "qua", "ri", "se", "tu", "zo"}
	seen := map[string]bool{}
	var out []string
	for len(out) < 3000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func word(rng *rand.Rand, vocab []string) string {
	// Inverse of a Zipf law with exponent 1 over the vocabulary.
	i := int(math.Exp(rng.Float64()*math.Log(float64(len(vocab))))) - 1
	return vocab[i]
}

func sentence(rng *rand.Rand, vocab []string, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = word(rng, vocab)
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// postBody is a post of 1 to 4 paragraphs with the Markdown people use:
// emphasis, inline code, links, lists and sometimes a code block.
func postBody(rng *rand.Rand, vocab []string) string {
	var b strings.Builder
	for p := range 1 + rng.IntN(4) {
		if p > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(sentence(rng, vocab, 8+rng.IntN(25)))
		switch rng.IntN(8) {
		case 0:
			b.WriteString(" **" + word(rng, vocab) + " " + word(rng, vocab) + "**.")
		case 1:
			b.WriteString(" See `" + word(rng, vocab) + "()` and [the notes](https://example.edu/notes/" + word(rng, vocab) + ").")
		case 2:
			b.WriteString(":\n\n- " + sentence(rng, vocab, 4) + "\n- " + sentence(rng, vocab, 5) + "\n- " + sentence(rng, vocab, 3))
		case 3:
			b.WriteString(":\n\n```\n" + word(rng, vocab) + " = " + word(rng, vocab) + "(1, 2)\n```")
		default:
			b.WriteString(".")
		}
	}
	return b.String()
}

var given = []string{"Ada", "Bea", "Cal", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia", "Oli", "Pia", "Raj", "Sol", "Tara", "Uma"}
var family = []string{"Abe", "Bauer", "Costa", "Diaz", "Eze", "Fox", "Garcia", "Holm", "Ito", "Jones", "Khan", "Lund", "Moreau", "Nagy", "Osei"}

// NewSpace records a platform, course, activity and cohort with n
// learners in it, as launches would have, for store-level tests that
// have no launch; a launched tool's space is read from its sessions
// instead.
func NewSpace(ctx context.Context, db *store.DB, n int) (Space, error) {
	now := time.Now().UTC()
	sp := Space{OrgID: store.NewID(), CourseID: store.NewID(), LinkID: store.NewID(), CohortID: store.NewID()}
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{
		{`INSERT INTO organisations (id, name, created_at) VALUES (?, 'Scale University', ?)`, []any{sp.OrgID, now}},
		{`INSERT INTO platforms (id, org_id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at) VALUES (?, ?, 'Scale LMS', 'https://lms.example.edu', 'scale', 'https://lms.example.edu/auth', 'https://lms.example.edu/jwks', ?, ?)`,
			[]any{sp.OrgID, sp.OrgID, now, now}},
		{`INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, label, title, created_at, updated_at) VALUES (?, ?, 'https://lms.example.edu', 'd1', 'scale-course', ?, 'SCALE-1', 'Scale', ?, ?)`,
			[]any{sp.OrgID, sp.CourseID, sp.OrgID, now, now}},
		{`INSERT INTO resource_links (org_id, id, course_id, issuer, deployment_id, resource_link_id, platform_id, title, created_at, updated_at) VALUES (?, ?, ?, 'https://lms.example.edu', 'd1', 'scale-link', ?, 'Discussion', ?, ?)`,
			[]any{sp.OrgID, sp.LinkID, sp.CourseID, sp.OrgID, now, now}},
		{`INSERT INTO cohorts (org_id, id, course_id, cohort_key, name, created_at) VALUES (?, ?, ?, 'course', 'Everyone', ?)`,
			[]any{sp.OrgID, sp.CohortID, sp.CourseID, now}},
	}
	for i := range n {
		id := fmt.Sprintf("scale-viewer-%02d", i)
		sp.Viewers = append(sp.Viewers, id)
		stmts = append(stmts,
			stmt{`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at) VALUES (?, ?, 'https://lms.example.edu', ?, ?, ?, ?, ?)`,
				[]any{sp.OrgID, id, "sub-" + id, fmt.Sprintf("Viewer %d", i), fmt.Sprintf("Viewer %02d", i), now, now}},
			stmt{`INSERT INTO memberships (org_id, course_id, user_id, roles, created_at, updated_at) VALUES (?, ?, ?, 'learner', ?, ?)`,
				[]any{sp.OrgID, sp.CourseID, id, now, now}},
			stmt{`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
				[]any{sp.OrgID, sp.CohortID, id, now}})
	}
	for _, s := range stmts {
		if err := db.WithContext(ctx).Exec(s.q, s.args...).Error; err != nil {
			return sp, fmt.Errorf("space: %w", err)
		}
	}
	found, err := space.NewStore(db).ForCohort(ctx, sp.OrgID, sp.CourseID, sp.LinkID, sp.CohortID)
	sp.SpaceID = found.ID
	return sp, err
}
