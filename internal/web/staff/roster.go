package staff

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The roster, for staff: everyone the LMS lists in the course (or who can
// see this activity), who has never opened the activity, and a button that
// reads the roster from the LMS again.

type rosterPage struct {
	kit.ActivityBase
	Roster      roster.LinkRoster
	Rows        []rosterRow
	NeverOpened []rosterRow
	Course      syncView
	Link        syncView
	// Outcome is what the refresh the page follows did; Error why it
	// failed.
	Outcome string
	Error   string
	Action  string
}

type rosterRow struct {
	roster.Member
	StatusLabel string
	StatusKey   string
	LastOpened  kit.TimeView
	LastLaunch  kit.TimeView
}

type syncView struct {
	roster.Sync
	Attempted kit.TimeView
	Synced    kit.TimeView
}

// requireRosterStaff refuses learners and a Roundtable without rosters.
func (s *Handlers) requireRosterStaff(c echo.Context) (session.Session, error) {
	sess := c.Get(kit.CtxSession).(session.Session)
	if !sess.Roles.IsStaff() {
		return sess, roundtable.Errorf(roundtable.EFORBIDDEN, "Only instructors and teaching assistants of this course can see its roster.")
	}
	if s.Roster == nil {
		return sess, roundtable.Errorf(roundtable.ENOTFOUND, "Course rosters are not available on this Roundtable.")
	}
	return sess, nil
}

func (s *Handlers) rosterRows(ms []roster.Member) []rosterRow {
	out := make([]rosterRow, len(ms))
	for i, m := range ms {
		r := rosterRow{Member: m, LastOpened: s.TimeView(&ms[i].LastOpened), LastLaunch: s.TimeView(&ms[i].LastLaunch)}
		switch {
		case m.Inactive():
			r.StatusKey, r.StatusLabel = "inactive", "Inactive in the LMS"
		case m.Opened():
			r.StatusKey, r.StatusLabel = "active", "Active"
		case m.Status == roster.StatusNotYetActive:
			r.StatusKey, r.StatusLabel = "never-opened", "Never opened this activity (never launched Roundtable)"
		default:
			r.StatusKey, r.StatusLabel = "never-opened", "Never opened this activity"
		}
		out[i] = r
	}
	return out
}

func (s *Handlers) syncView(st roster.Sync) syncView {
	return syncView{Sync: st, Attempted: s.TimeView(&st.AttemptedAt), Synced: s.TimeView(&st.SyncedAt)}
}

// RosterPage shows the activity's roster.
func (s *Handlers) RosterPage(c echo.Context) error {
	sess, err := s.requireRosterStaff(c)
	if err != nil {
		return err
	}
	b, _ := s.ActivityBase(c, "Roster")
	r, err := s.Roster.Roster(c.Request().Context(), sess.OrgID, sess.LinkID)
	if err != nil {
		return err
	}
	page := rosterPage{ActivityBase: b, Roster: r, Rows: s.rosterRows(r.Members), NeverOpened: s.rosterRows(r.NeverOpened),
		Course: s.syncView(r.Course), Link: s.syncView(r.Link), Action: b.Base + "/roster/refresh"}
	if c.QueryParam("done") == "1" {
		// The outcome of the refresh just made: the activity's own row
		// holds it.
		if r.Link.Error != "" {
			page.Error = r.Link.Error
		} else if r.HasLink {
			page.Outcome = outcomeText(r.Link)
		}
	}
	return s.RenderPage(c, http.StatusOK, rosterPageView(page))
}

func outcomeText(st roster.Sync) string {
	scope := "the whole course"
	if st.Scoped {
		scope = "this activity's roster"
	}
	return fmt.Sprintf("Roster refreshed from the LMS (%s): %s, %d added, %d updated, %d made inactive.",
		scope, kit.Plural(st.Members, "member"), st.Added, st.Updated, st.Deactivated)
}

// RefreshRoster reads the roster from the LMS now and shows the outcome.
func (s *Handlers) RefreshRoster(c echo.Context) error {
	sess, err := s.requireRosterStaff(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.Roster.SyncLink(ctx, sess.OrgID, sess.LinkID)
	var se *roster.SyncError
	switch {
	case errors.As(err, &se):
		// Recorded on the activity's row: the page shows it.
		s.Logger.WarnContext(ctx, "roster refresh failed", slog.String("platform", sess.PlatformID), slog.String("course", sess.CourseID),
			slog.String("kind", se.Kind), slog.Any("error", err))
	case err != nil:
		return err
	default:
		s.Logger.InfoContext(ctx, "roster refreshed by staff", slog.String("platform", sess.PlatformID), slog.String("course", sess.CourseID),
			slog.String("by", sess.UserID), slog.Int("members", res.Members), slog.Int("added", res.Added), slog.Bool("scoped", res.Scoped))
	}
	return s.SeeOther(c, "/a/"+sess.LinkID+"/roster?done=1", "")
}
