package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// The demo course's discussion activity.
const (
	discussionTitle       = "Cohort discussion: cleaning messy data"
	discussionDescription = "Share a dataset that fought back, and how you tamed it. Ask the cohort when you are stuck."
)

// seedDiscussion gives the demo course's discussion a realistic start:
// questions (answered and not), discussions and replies by learners and
// staff. The people, course and activity are recorded as their launches
// would record them, at the times of a history that began four days ago,
// so a real launch later finds the same rows. It writes only when the
// discussion has no thread yet, so a restart changes nothing.
func (d *Demo) seedDiscussion(ctx context.Context) error {
	a := d.App
	reg, err := d.registration(ctx)
	if err != nil {
		return err
	}
	// Seeded once: a restart must not write the seeded launches again over
	// the real ones made since.
	var seeded bool
	if err := a.DB.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM resource_links l
		JOIN threads t ON t.org_id = l.org_id AND t.link_id = l.id
		WHERE l.org_id = ? AND l.resource_link_id = ?)`, reg.OrgID, DiscussionID).Scan(&seeded).Error; err != nil || seeded {
		return err
	}
	// The seeded history starts four days ago: each person opened the
	// activity a little before the first thread, so the roster, the
	// participation page and the threads tell one story.
	start := time.Now().UTC().Add(-96 * time.Hour)
	recs, err := d.recordLaunches(ctx, reg, DiscussionID, discussionTitle, discussionDescription, func(i int) time.Time {
		return start.Add(-time.Duration(len(people)-i) * 37 * time.Minute)
	})
	if err != nil {
		return err
	}
	spaces := space.NewStore(a.DB)
	viewers := map[string]discussion.Viewer{}
	for _, p := range people {
		rec := recs[p.id]
		sp, err := spaces.ForCohort(ctx, reg.OrgID, rec.Course.ID, rec.Link.ID, rec.Cohort.ID)
		if err != nil {
			return fmt.Errorf("demo: the space of %s: %w", p.id, err)
		}
		viewers[p.id] = discussion.Viewer{SpaceID: sp.ID, OrgID: reg.OrgID, CourseID: rec.Course.ID, LinkID: rec.Link.ID,
			CohortID: rec.Cohort.ID, UserID: rec.User.ID, Staff: sp.Rules(rec.Roles, nil).Moderate}
	}
	// The seeded activity is set up, so staff who open it land on the
	// discussion rather than on its first-launch setup page.
	maya := viewers["maya.chen"]
	st, err := a.Courses.Settings(ctx, maya.OrgID, maya.LinkID)
	if err != nil {
		return err
	}
	if !st.Configured {
		if err := a.DB.Tx(ctx, func(tx *gorm.DB) error { return a.Courses.SaveSettings(ctx, tx, st) }); err != nil {
			return fmt.Errorf("demo: configure the discussion: %w", err)
		}
	}
	s := discussion.NewStore(a.DB)
	s.PostsPerMinute = 0
	// Threads written over the past few days, oldest first.
	clock := start
	s.Now = func() time.Time { return clock }
	tick := func(d time.Duration) { clock = clock.Add(d) }
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	thread := func(who string, in discussion.ThreadInput) string {
		tick(47 * time.Minute)
		id, err := s.CreateThread(ctx, viewers[who], in)
		check(err)
		return id
	}
	reply := func(who, threadID, parent, body string) string {
		tick(23 * time.Minute)
		id, err := s.Reply(ctx, viewers[who], threadID, discussion.ReplyInput{ParentID: parent, Body: body})
		check(err)
		return id
	}
	check2 := func(_ bool, err error) { check(err) }
	vote := func(postID string, who ...string) {
		for _, w := range who {
			_, err := s.ToggleVote(ctx, viewers[w], postID)
			check(err)
		}
	}

	intro := thread("maya.chen", discussion.ThreadInput{Kind: discussion.Discussion, Title: "Introduce yourself: what data do you work with?",
		Body: "Welcome to **Data Analysis Fundamentals**! Tell the cohort your name, what kind of data you deal with at work or in study, and one thing you hope to get better at.\n\nI'll start: I'm Maya, I teach this course and spend my days with public health survey data."})
	check(s.SetFlag(ctx, viewers["maya.chen"], intro, discussion.FlagPinned, true))
	reply("aisha.rahman", intro, "", "Hi all, I'm Aisha. I work in a small logistics company: delivery times, routes, lots of spreadsheets. I want to stop doing everything by hand in Excel.")
	reply("kenji.watanabe", intro, "", "Kenji here. Sensor data from a factory line, sampled every second. Mostly I want to learn to spot bad readings before they ruin a report.")
	reply("olivia.bennett", intro, "", "Olivia, marketing analyst. Campaign results and survey answers. Hoping to finally understand when a difference is *real*.")

	dates := thread("aisha.rahman", discussion.ThreadInput{Kind: discussion.Question, Title: "Why does pandas read my delivery dates as text?",
		Tags: "pandas dates", Body: "I load our delivery log with\n\n```python\ndf = pd.read_csv(\"deliveries.csv\")\ndf.dtypes\n```\n\nand `delivered_at` comes out as `object`, so I can't subtract dates. The values look like `03/04/2024 14:05`. What am I missing?"})
	ans := reply("lucas.moreau", dates, "", "`read_csv` doesn't guess dates unless you ask. Try:\n\n```python\ndf = pd.read_csv(\"deliveries.csv\", parse_dates=[\"delivered_at\"], dayfirst=True)\n```\n\n`dayfirst=True` matters here: `03/04` is 3 April in most of Europe but 4 March in the US.")
	reply("kenji.watanabe", dates, ans, "Good catch on `dayfirst`. I got bitten by that last month: half my timestamps silently swapped month and day.")
	reply("aisha.rahman", dates, ans, "That was it, thank you @lucas.moreau! The durations finally make sense.")
	vote(ans, "aisha.rahman", "kenji.watanabe", "priya.natarajan")
	check2(s.Accept(ctx, viewers["aisha.rahman"], ans))
	check(s.Endorse(ctx, viewers["maya.chen"], ans))

	skew := thread("priya.natarajan", discussion.ThreadInput{Kind: discussion.Question, Title: "Mean or median for salary data with a few huge values?",
		Tags: "statistics", Body: "Our salary table has a handful of executives earning 20× everyone else. The mean looks misleading. Should I report the median instead, or remove the outliers?"})
	reply("tomas.garcia", skew, "", "I'd report the median and say why. Removing the executives changes the question you're answering.")
	ta := reply("samuel.okoro", skew, "", "Both instincts are right, with a nuance:\n\n- **Median** (and the interquartile range) describe a *typical* salary; they barely move with extreme values.\n- The **mean** answers a different question: total payroll divided by headcount. Report it if budget is the point.\n- Don't delete real values just because they are extreme. Remove a row only if it is an *error*.\n\nA quick histogram on a log scale usually makes the case to your readers.")
	reply("hannah.schmidt", skew, ta, "The log-scale histogram tip is great, I'm stealing it.")
	vote(ta, "priya.natarajan", "tomas.garcia", "hannah.schmidt", "olivia.bennett")
	check2(s.Accept(ctx, viewers["priya.natarajan"], ta))

	missing := thread("olivia.bennett", discussion.ThreadInput{Kind: discussion.Question, Title: "Is it OK to drop every row with a missing value?",
		Tags: "cleaning missing-data", Anonymous: true, Body: "My survey export has blanks in about 15% of rows, spread over different questions. `dropna()` makes them all go away, but I lose a lot of answers. Is that acceptable?"})
	inst := reply("maya.chen", missing, "", "Usually not with 15%. Ask first *why* values are missing:\n\n1. If a question was optional, a blank is an answer in itself: keep the row and analyse that question on who answered.\n2. Drop rows only for the columns a given analysis needs (`df.dropna(subset=[...])`).\n3. Check whether people with blanks differ from the others; if they do, dropping them biases your results.\n\nWe cover imputation in week 4.")
	vote(inst, "kenji.watanabe", "mateus.silva")
	check2(s.Accept(ctx, viewers["olivia.bennett"], inst))

	thread("mateus.silva", discussion.ThreadInput{Kind: discussion.Question, Title: "How do I merge two CSVs whose key columns have different names?",
		Tags: "pandas merge", Body: "One file calls it `customer_id`, the other `CustID`, and some ids have leading zeros in one file only. `pd.merge` gives me an empty table. Any ideas?"})

	messy := thread("hannah.schmidt", discussion.ThreadInput{Kind: discussion.Discussion, Title: "The messiest dataset I ever cleaned",
		Tags: "cleaning", Body: "Share your horror stories! Mine: a supplier list where the *country* column contained phone numbers for about 200 rows, because someone had pasted from a PDF."})
	r := reply("kenji.watanabe", messy, "", "A temperature sensor that reported -273.15 °C whenever it lost power. Absolute zero in a bakery oven.")
	reply("priya.natarajan", messy, r, "@kenji.watanabe that is both terrible and beautiful.")
	reply("tomas.garcia", messy, "", "Excel turned our gene names into dates (`MARCH1` → 1 March). Now I import everything as text first.")

	// A busier week: the kinds of threads a cohort writes once it settles
	// in, over the last three days.
	thread = func(who string, in discussion.ThreadInput) string {
		tick(6 * time.Hour)
		id, err := s.CreateThread(ctx, viewers[who], in)
		check(err)
		return id
	}
	dupes := thread("lucas.moreau", discussion.ThreadInput{Kind: discussion.Question, Title: "How do I find duplicate customers whose names are spelled differently?",
		Tags: "cleaning", Body: "Our CRM has *Jon Smith*, *John Smith* and *J. Smith* at the same address. `drop_duplicates()` keeps all three. Is there a standard way to match near-duplicates?"})
	fuzzy := reply("samuel.okoro", dupes, "", "Look up *record linkage*. Normalise first (lower case, strip titles and punctuation), then compare with a string similarity such as Jaro-Winkler, and only within a block that must match exactly, like the postcode. The `recordlinkage` package does all three.")
	vote(fuzzy, "lucas.moreau", "aisha.rahman")
	check2(s.Accept(ctx, viewers["lucas.moreau"], fuzzy))

	thread("kenji.watanabe", discussion.ThreadInput{Kind: discussion.Question, Title: "Rolling average over sensor data with gaps in the timestamps",
		Tags: "pandas time-series", Body: "My readings should come every second but sometimes skip a minute. `df.rolling(60).mean()` then averages over more than a minute. How do I make the window one minute of *time*?"})

	charts := thread("olivia.bennett", discussion.ThreadInput{Kind: discussion.Discussion, Title: "Which chart would you use to compare survey answers across regions?",
		Tags: "visualisation", Body: "Five regions, a 1–5 agreement scale, about 2,000 answers. Stacked bars feel cluttered. What has worked for you?"})
	reply("priya.natarajan", charts, "", "Diverging stacked bars centred on the neutral answer. They read much better than plain stacked bars.")
	reply("hannah.schmidt", charts, "", "Small multiples: one small bar chart per region, same axes.")

	thread("tomas.garcia", discussion.ThreadInput{Kind: discussion.Question, Title: "Excel shows 1.23E+15 instead of my order numbers",
		Tags: "excel", Body: "When I open the export, long order numbers turn into scientific notation and the last digits become zeros. Can I get them back?"})

	thread("maya.chen", discussion.ThreadInput{Kind: discussion.Discussion, Title: "Week 2 office hours: bring your messiest column",
		Tags: "announcements", Body: "Thursday at 17:00 UTC I'll clean a column you send me, live. Reply here with a sample (no personal data, please)."})

	outliers := thread("aisha.rahman", discussion.ThreadInput{Kind: discussion.Question, Title: "When is an outlier an error and when is it real?",
		Tags: "statistics cleaning", Body: "One delivery took 19 days. It might be a typo for 1.9, or a lost parcel. How do people decide?"})
	reply("kenji.watanabe", outliers, "", "I check the other columns of the same row. If the dates around it agree with 19 days, it's real.")

	thread("mateus.silva", discussion.ThreadInput{Kind: discussion.Question, Title: "Why does groupby drop the rows where the region is empty?",
		Tags: "pandas", Body: "`df.groupby(\"region\").size()` adds up to fewer rows than the table has. Where did the others go?"})

	thread("priya.natarajan", discussion.ThreadInput{Kind: discussion.Discussion, Title: "Tips for naming columns so future-you understands them",
		Tags: "cleaning", Body: "I inherited a table with columns `x1` to `x48`. What conventions do you follow?"})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: seed discussion: %w", err)
	}
	return nil
}

// registration is the demo LMS's registration the demo seeds under.
func (d *Demo) registration(ctx context.Context) (tenant.Platform, error) {
	regs, err := d.App.Registry.List(ctx)
	if err != nil {
		return tenant.Platform{}, err
	}
	for _, r := range regs {
		if r.ClientID == d.ClientID && r.Issuer == d.Platform.Issuer() && len(r.Deployments) > 0 {
			return r, nil
		}
	}
	return tenant.Platform{}, fmt.Errorf("demo: no registration of the demo LMS to seed under")
}

// recordLaunches records every person's launch of the demo course's link
// linkID as a launch would record it, the i-th person opening it at
// openedAt(i), so a real launch later finds the same rows.
func (d *Demo) recordLaunches(ctx context.Context, reg tenant.Platform, linkID, title, description string, openedAt func(i int) time.Time) (map[string]course.Recorded, error) {
	a := d.App
	courses := course.NewStore(a.DB)
	out := map[string]course.Recorded{}
	for i, p := range people {
		at := openedAt(i)
		courses.Now = func() time.Time { return at }
		roles := course.Roles{course.Learner}
		switch p.role {
		case lti.RoleInstructor:
			roles = course.Roles{course.Instructor}
		case lti.RoleTeachingAssistant:
			roles = course.Roles{course.TeachingAssistant}
		}
		in := course.LaunchInput{
			OrgID: reg.OrgID, PlatformID: reg.ID, Issuer: reg.Issuer, DeploymentID: reg.Deployments[0],
			Subject: p.id, Name: p.given + " " + p.family, GivenName: p.given, FamilyName: p.family,
			Email: p.id + "@learn.example.org", Locale: "en", Roles: roles, LTIRoles: []string{p.role},
			ContextID: CourseID, ContextLabel: "DATA-101", ContextTitle: "Data Analysis Fundamentals",
			ResourceLinkID: linkID, LinkTitle: title, LinkDescription: description,
		}
		var rec course.Recorded
		if err := a.DB.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			if rec, err = courses.RecordLaunch(ctx, tx, in); err != nil {
				return err
			}
			// What a launch's session records (see the sessions trigger),
			// at the time of this seeded opening; a real launch later
			// moves its last opening on.
			return tx.Exec(`INSERT INTO link_openings (org_id, link_id, user_id, first_opened_at, last_opened_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, link_id, user_id) DO NOTHING`,
				reg.OrgID, rec.Link.ID, rec.User.ID, at, at).Error
		}); err != nil {
			return nil, fmt.Errorf("demo: record %s: %w", p.id, err)
		}
		rec.Roles = roles
		out[p.id] = rec
	}
	return out, nil
}
