package peerreview

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Kinds of the peer review's in-app notifications (listed with the
// discussion's, see discussion.Notification.Text): they name no author
// and no reviewer, whatever the anonymity.
const (
	NotifyReminder = "review_reminder"
	NotifyReleased = "review_released"
)

// notifyPerson writes one notification about the activity (no post) to
// userID, in the space of cohortID's discussion of the activity, where
// their notifications page lists it; fallbackSpace is used when that
// cohort has no space yet.
func notifyPerson(tx *gorm.DB, v Viewer, userID, cohortID, fallbackSpace, kind, detail string, now time.Time) error {
	spaceID := fallbackSpace
	var ids []string
	if err := tx.Raw(`SELECT id FROM spaces WHERE org_id = ? AND kind = 'activity_cohort' AND link_id = ? AND cohort_id = ?`,
		v.OrgID, v.LinkID, cohortID).Scan(&ids).Error; err != nil {
		return fmt.Errorf("find the cohort's space: %w", err)
	}
	if len(ids) > 0 {
		spaceID = ids[0]
	}
	if spaceID == "" {
		return nil
	}
	if err := tx.Exec(`INSERT INTO notifications (org_id, id, cohort_id, link_id, space_id, user_id, kind, actor_id, anonymous,
			thread_id, post_id, hidden, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, '', '', FALSE, ?, ?)`,
		v.OrgID, store.NewID(), cohortID, v.LinkID, spaceID, userID, kind, v.UserID, detail, now).Error; err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
