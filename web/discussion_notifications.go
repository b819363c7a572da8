package web

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/session"
)

// The viewer's notifications in this space: replies to them, mentions,
// answers, accepted answers and activity in the threads they follow.

type notificationView struct {
	discussion.Notification
	URL string
}

type notificationsPage struct {
	discussionBase
	Notifications []notificationView
	MarkReadURL   string
}

// notifications lists the viewer's newest notifications, and marks those
// shown as seen.
func (s *Server) notifications(c echo.Context) error {
	b, sess := s.discussionBase(c, "Notifications")
	ns, err := s.Discussions.Notifications(c.Request().Context(), viewerOf(sess))
	if err != nil {
		return err
	}
	page := notificationsPage{discussionBase: b, MarkReadURL: b.L.URL(b.Base + "/notifications/read")}
	for _, n := range ns {
		if n.Unseen && page.UnreadNotifications < discussion.MaxUnreadCounted {
			// Shown now, so seen: the header counts what is left (past
			// the counted maximum, more than that are left).
			page.UnreadNotifications = max(0, page.UnreadNotifications-1)
		}
		page.Notifications = append(page.Notifications, notificationView{Notification: n,
			URL: b.L.URL(b.Base+"/t/"+n.ThreadID) + "#post-" + n.PostID})
	}
	return s.render(c, http.StatusOK, "discussion_notifications", page)
}

// markNotificationsRead marks all the viewer's notifications as seen.
func (s *Server) markNotificationsRead(c echo.Context) error {
	b, sess := s.discussionBase(c, "")
	if err := s.Discussions.MarkNotificationsRead(c.Request().Context(), viewerOf(sess), c.FormValue("upto")); err != nil {
		return err
	}
	return s.seeOther(c, b.Base+"/notifications", "")
}

// standing is the viewer's standing for a page's header and forms; a
// failed read is logged and shows no count (posting still checks the
// suspension).
func (s *Server) standing(c echo.Context, sess session.Session) discussion.Standing {
	st, err := s.Discussions.Standing(c.Request().Context(), viewerOf(sess))
	if err != nil {
		s.Logger.WarnContext(c.Request().Context(), "read the viewer's standing", slog.Any("err", err))
	}
	return st
}
