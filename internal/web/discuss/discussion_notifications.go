package discuss

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// The viewer's notifications, in this space and the others they may read:
// replies to them, mentions, answers, accepted answers and activity in the
// threads they follow.

type notificationView struct {
	discussion.Notification
	// URL opens the post; empty for a notification of another space,
	// which this session does not reach (its course opens it).
	URL string
}

type notificationsPage struct {
	kit.ActivityBase
	Notifications []notificationView
	MarkReadURL   string
	// UpTo is the newest notification shown: marking them read marks it
	// and those before it, not those that came since.
	UpTo string
	// Unseen is whether any shown is unseen (mark-seen.js then marks them).
	Unseen bool
}

// Notifications lists the viewer's newest notifications. It changes
// nothing: a GET can be made by anything that gets a reader's browser to
// ask (an image in a post did, marking every reader's notifications
// seen). The page's "Mark all as read" form marks them; with JavaScript,
// mark-seen.js posts it as the page opens, as opening the list once did.
func (s *Handlers) Notifications(c echo.Context) error {
	b, sess := s.ActivityBase(c, "Notifications")
	ns, err := s.Discussions.Notifications(c.Request().Context(), kit.ViewerOf(c, sess))
	if err != nil {
		return err
	}
	page := notificationsPage{ActivityBase: b, MarkReadURL: b.L.URL(b.Base + "/notifications/read")}
	for i, n := range ns {
		if i == 0 {
			page.UpTo = n.ID
		}
		page.Unseen = page.Unseen || n.Unseen
		view := notificationView{Notification: n}
		switch {
		case n.Elsewhere:
		case n.ThreadID == "":
			// About the activity, not a post (a peer review's reminder).
			view.URL = b.L.URL(b.Base)
		default:
			view.URL = postLink(b.L, b.Base, n.ThreadID, n.PostID)
		}
		page.Notifications = append(page.Notifications, view)
	}
	page.L.Scripts = []string{"js/mark-seen.js"}
	return s.RenderPage(c, http.StatusOK, notificationsView(page))
}

// MarkNotificationsRead marks the viewer's notifications as seen: all, or
// those up to the one named (upto). mark-seen.js posts it with quiet=1
// and needs no page back.
func (s *Handlers) MarkNotificationsRead(c echo.Context) error {
	b, sess := s.ActivityBase(c, "")
	if err := s.Discussions.MarkNotificationsRead(c.Request().Context(), kit.ViewerOf(c, sess), c.FormValue("upto")); err != nil {
		return err
	}
	if c.FormValue("quiet") == "1" {
		return c.NoContent(http.StatusNoContent)
	}
	return s.SeeOther(c, b.Base+"/notifications", "")
}
