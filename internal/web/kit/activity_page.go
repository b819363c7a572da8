package kit

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/session"
)

// The parts every page of an activity shares, the discussion's and the
// staff's: the header, the session's hidden fields, the CSRF check.

// RequireCSRF refuses a state-changing request of a session whose form
// does not carry the session's CSRF token.
func (s *Base) RequireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		sess := c.Get(CtxSession).(session.Session)
		if !s.Sessions.CheckCSRF(sess, c.FormValue("csrf")) {
			return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Roundtable. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// ViewerOf is the session's person in its space (see RequireSession), with
// what the space's rules let them do there.
func ViewerOf(c echo.Context, sess session.Session) discussion.Viewer {
	in := c.Get(ctxSpace).(inSpace)
	may := in.Space.Rules(sess.Roles, in.Roles)
	return discussion.Viewer{SpaceID: in.Space.ID, OrgID: sess.OrgID, CourseID: sess.CourseID, LinkID: sess.LinkID,
		CohortID: sess.CohortID, UserID: sess.UserID, Staff: may.Moderate, Observer: sess.Roles.IsObserver()}
}

// ActivityBase is what every page of an activity shares.
type ActivityBase struct {
	L     Layout
	CSRF  string
	Form  HiddenFields
	Base  string // /a/<link>
	Staff bool
	// ReadOnly is true for observers (mentors): their pages offer no form
	// to post, reply or vote (see RefuseObservers).
	ReadOnly bool
	// Now is when the page is written: its times say how long ago.
	Now time.Time
	// UnreadNotifications is the count in the header's Notifications link.
	UnreadNotifications int
	// NoAnonymous hides the anonymous option of the post forms: the
	// activity turned anonymous posts off.
	NoAnonymous bool
	// rtQuery is the session token's query parameter, escaped once for
	// the hundreds of links of a thread page (see URL).
	rtQuery string
	// Suspended is true, on a GET, when the learner may not post in this
	// course.
	Suspended bool
}

// URL is L.URL(p) with the token escaped once per page.
func (b ActivityBase) URL(p string) string {
	q := b.SessionQuery()
	if q == "" {
		return p
	}
	if strings.Contains(p, "?") {
		return p + "&" + q
	}
	return p + "?" + q
}

// SessionQuery is the query parameter that carries the session token in
// links ("rt=..."), or empty when a cookie carries it.
func (b ActivityBase) SessionQuery() string {
	if b.L.SessionToken == "" || b.rtQuery != "" {
		return b.rtQuery
	}
	return "rt=" + url.QueryEscape(b.L.SessionToken)
}

// WithQuery sets the escaped session token of b's links.
func (b ActivityBase) WithQuery() ActivityBase {
	if b.L.SessionToken != "" {
		b.rtQuery = "rt=" + url.QueryEscape(b.L.SessionToken)
	}
	return b
}

func (s *Base) ActivityBase(c echo.Context, title string) (ActivityBase, session.Session) {
	sess := c.Get(CtxSession).(session.Session)
	l := s.SessionLayout(c, title)
	csrf := s.Sessions.CSRFToken(sess)
	b := ActivityBase{L: l, CSRF: csrf, Form: HiddenFields{CSRF: csrf, RT: l.SessionToken}, Base: BasePath(c),
		Staff: sess.Roles.IsStaff(), ReadOnly: sess.Roles.IsObserver(), Now: s.Now()}.WithQuery()
	if c.Request().Method == http.MethodGet {
		st := s.standing(c, sess)
		b.UnreadNotifications, b.Suspended = st.UnseenNotifications, st.Suspended
	}
	return b, sess
}

// SeeOther answers a POST with a 303 to path in this session (plus an
// optional #fragment).
func (s *Base) SeeOther(c echo.Context, path, fragment string) error {
	return c.Redirect(http.StatusSeeOther, s.SessionLayout(c, "").URL(path)+fragment)
}

// HiddenFields are the CSRF token and, without a cookie, the session token.
type HiddenFields struct {
	CSRF string
	RT   string
}

// standing is the viewer's standing for a page's header and forms; a
// failed read is logged and shows no count (posting still checks the
// suspension).
func (s *Base) standing(c echo.Context, sess session.Session) discussion.Standing {
	st, err := s.Discussions.Standing(c.Request().Context(), ViewerOf(c, sess))
	if err != nil {
		s.Logger.WarnContext(c.Request().Context(), "read the viewer's standing", slog.Any("err", err))
	}
	return st
}

// NotificationsBadge is the header's count of unseen notifications, "99+"
// when the count reached discussion.MaxUnreadCounted.
func (b ActivityBase) NotificationsBadge() string {
	if b.UnreadNotifications >= discussion.MaxUnreadCounted {
		return strconv.Itoa(discussion.MaxUnreadCounted-1) + "+"
	}
	return strconv.Itoa(b.UnreadNotifications)
}

// ThreadURL is the URL of a thread of the page's space, in its session.
func (b ActivityBase) ThreadURL(threadID string) templ.SafeURL {
	return templ.SafeURL(b.URL(b.Base + "/t/" + url.PathEscape(threadID)))
}

// TagURL is the URL of the list of the space's threads tagged tag.
func (b ActivityBase) TagURL(tag string) templ.SafeURL {
	return templ.SafeURL(b.URL(b.Base + "?tag=" + url.QueryEscape(tag)))
}
