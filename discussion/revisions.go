package discussion

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// Earlier versions of posts. Each edit keeps the version it replaces, and
// a removal keeps the removed text, so staff can see what was said.

// MaxRevisions bounds the earlier versions one post keeps: every reader of
// its history reads them all. An edit past it is refused (post what
// changed as a reply instead); a removal, which may be what takes
// personal data off the page, is never refused. Folding old versions away
// instead would let an author bury what a moderator needs to read.
const MaxRevisions = 50

// ActionRedact is the moderation log's record of a redacted version.
const ActionRedact = "redact"

// checkRevisions refuses an edit that would keep more than MaxRevisions
// earlier versions of a post.
func checkRevisions(tx *gorm.DB, v Viewer, postID string) error {
	var n int
	if err := tx.Raw(`SELECT COUNT(*) FROM post_revisions WHERE org_id = ? AND post_id = ?`, v.OrgID, postID).Row().Scan(&n); err != nil {
		return err
	}
	if n >= MaxRevisions {
		return fieldErr("body", roundtable.EINVALID,
			"This post has been edited %d times, the most a post keeps a history of. Post what changed as a reply instead; your text is kept below.", n)
	}
	return nil
}

// RedactRevision removes an earlier version's title and text from the
// database, for personal data posted by mistake; staff only. The history
// then says the version was redacted, and when; the redaction is written
// to the moderation log (with reason, which should not repeat what was
// redacted). The current version is not a revision: edit the post (or
// remove it), then redact the version that now holds the text. Redacting
// a redacted version changes nothing.
func (s *Store) RedactRevision(ctx context.Context, v Viewer, postID, revisionID, reason string) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	now := s.now()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		res := tx.Exec(`UPDATE post_revisions SET title = '', body = '', redacted_at = ?, redacted_by = ?
			WHERE org_id = ? AND post_id = ? AND id = ? AND redacted_at IS NULL`, now, v.UserID, v.OrgID, p.ID, revisionID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int
			if err := tx.Raw(`SELECT COUNT(*) FROM post_revisions WHERE org_id = ? AND post_id = ? AND id = ?`,
				v.OrgID, p.ID, revisionID).Row().Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return roundtable.Errorf(roundtable.ENOTFOUND, "That earlier version of the post does not exist.")
			}
			return nil
		}
		return logAction(tx, v, now, ActionRedact, p.ThreadID, p.ID, p.AuthorID, reason)
	})
	if err != nil {
		return fmt.Errorf("redact revision: %w", err)
	}
	return nil
}
