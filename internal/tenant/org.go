package tenant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Organisation is a tenant: the people, courses and discussions of one
// customer, reached through one or more LMS registrations. Within it a
// person is one person, known by the issuer and sub LTI gives them,
// whichever registration they come through.
type Organisation struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	CreatedAt time.Time
	// Registrations are the ids of the organisation's registrations.
	Registrations []string `gorm:"-"`
}

func (Organisation) TableName() string { return "organisations" }

// newOrganisation creates the organisation a new registration starts,
// inside tx, with the registration's id (as migration 00027 gave every
// earlier registration's), which stays the organisation's when the
// registration is removed. A registration never joins another
// organisation by itself: several customers of one cloud LMS share an
// issuer.
func newOrganisation(tx *gorm.DB, id, name string, now time.Time) (string, error) {
	o := Organisation{ID: id, Name: strings.TrimSpace(name), CreatedAt: now}
	return o.ID, tx.Create(&o).Error
}

// orgExists reports whether tx holds organisation id.
func orgExists(tx *gorm.DB, id string) (bool, error) {
	var n int64
	err := tx.Raw(`SELECT COUNT(*) FROM organisations WHERE id = ?`, id).Scan(&n).Error
	return n > 0, err
}

// Organisations lists every organisation by name, with its registrations.
func (r *Registry) Organisations(ctx context.Context) ([]Organisation, error) {
	var os []Organisation
	if err := r.db.WithContext(ctx).Order("name, id").Find(&os).Error; err != nil {
		return nil, err
	}
	var regs []struct{ ID, OrgID string }
	if err := r.db.WithContext(ctx).Raw(`SELECT id, org_id FROM platforms ORDER BY name, id`).Scan(&regs).Error; err != nil {
		return nil, err
	}
	byOrg := map[string][]string{}
	for _, p := range regs {
		byOrg[p.OrgID] = append(byOrg[p.OrgID], p.ID)
	}
	for i := range os {
		os[i].Registrations = byOrg[os[i].ID]
	}
	return os, nil
}

// Organisation returns one organisation by id, with its registrations.
func (r *Registry) Organisation(ctx context.Context, id string) (Organisation, error) {
	var o Organisation
	if err := r.db.WithContext(ctx).Where("id = ?", id).First(&o).Error; err != nil {
		return Organisation{}, fmt.Errorf("organisation %q: %w", id, store.Translate(err))
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT id FROM platforms WHERE org_id = ? ORDER BY name, id`, id).Scan(&o.Registrations).Error; err != nil {
		return Organisation{}, err
	}
	return o, nil
}

// OrgHoldsData reports whether an organisation holds people or courses.
func orgHoldsData(tx *gorm.DB, orgID string) (bool, error) {
	var n int64
	err := tx.Raw(`SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE org_id = ? LIMIT 1) u)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM courses WHERE org_id = ? LIMIT 1) c)`, orgID, orgID).Scan(&n).Error
	return n > 0, err
}

// Attach moves registration platformID into organisation orgID, so that
// the people and courses it launches belong to that organisation: a person
// who comes through it and through another registration of orgID is one
// person. Only an admin attaches, never a registration by itself.
//
// It is refused (ECONFLICT) while the registration's organisation holds
// people or courses: their data would have to move, which Roundtable does
// not offer. The organisation the registration leaves is deleted when it
// holds no registration any more (it holds no data either).
func (r *Registry) Attach(ctx context.Context, platformID, orgID string) error {
	return r.db.Tx(ctx, func(tx *gorm.DB) error {
		var p Platform
		if err := tx.Where("id = ?", platformID).First(&p).Error; err != nil {
			return fmt.Errorf("platform %q: %w", platformID, store.Translate(err))
		}
		if p.OrgID == orgID {
			return nil
		}
		if ok, err := orgExists(tx, orgID); err != nil || !ok {
			return orRefuse(err, roundtable.Errorf(roundtable.ENOTFOUND, "There is no organisation %s.", orgID))
		}
		held, err := orgHoldsData(tx, p.OrgID)
		if err != nil {
			return err
		}
		if held {
			return roundtable.Errorf(roundtable.ECONFLICT,
				"%s cannot join another organisation: people or courses have already launched through its organisation, "+
					"and Roundtable does not move them. Register the LMS again (a new registration) and attach that one instead.", p.Name)
		}
		if err := tx.Exec(`UPDATE platforms SET org_id = ?, updated_at = ? WHERE id = ?`, orgID, r.Now().UTC(), p.ID).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM organisations WHERE id = ? AND NOT EXISTS (SELECT 1 FROM platforms WHERE org_id = ?)`, p.OrgID, p.OrgID).Error
	})
}

// orgTables are the product's tables keyed by organisation without a
// foreign key to it: deleting an organisation deletes their rows itself.
// (users and courses, and the activities, cohorts and grades hanging on
// them, follow by cascade; memberships keep no key, see migration 00029.)
// Posts go before threads: SQLite's search index forgets a post by its
// thread's title.
var orgTables = []string{
	"posts", "threads", "thread_tags", "post_revisions", "post_votes", "thread_follows", "thread_visits",
	"participation_events", "post_flags", "course_suspensions", "moderation_log", "notifications",
	"roster_link_members", "link_openings", "grade_rescores", "spaces", "memberships", "cohort_members", "attachments",
	"pr_submissions", "pr_versions", "pr_files", "pr_reviews", "pr_allocation_log", "pr_rubrics", "pr_examples",
	"pr_calibrations", "pr_flags", "pr_overrides", "pr_grades", "pr_insights", "pr_activity_state",
}

// DeleteOrganisation deletes an organisation with its registrations and
// everything its people wrote: people, courses, activities, discussions,
// grades. Nothing of it can be brought back.
func (r *Registry) DeleteOrganisation(ctx context.Context, orgID string) error {
	var regs, files []string
	err := r.db.Tx(ctx, func(tx *gorm.DB) error {
		if ok, err := orgExists(tx, orgID); err != nil || !ok {
			return orRefuse(err, fmt.Errorf("organisation %q: %w", orgID, store.ErrNotFound))
		}
		if err := tx.Raw(`SELECT id FROM platforms WHERE org_id = ?`, orgID).Scan(&regs).Error; err != nil {
			return err
		}
		// A peer review's versions may share a file's bytes: each key once.
		if err := tx.Raw(`SELECT blob_key FROM attachments WHERE org_id = ?
			UNION SELECT blob_key FROM pr_files WHERE org_id = ?`, orgID, orgID).Scan(&files).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM space_roles WHERE space_id IN (SELECT id FROM spaces WHERE org_id = ?)`, orgID).Error; err != nil {
			return err
		}
		for _, t := range orgTables {
			if err := tx.Exec(`DELETE FROM `+t+` WHERE org_id = ?`, orgID).Error; err != nil {
				return fmt.Errorf("delete %s: %w", t, err)
			}
		}
		if err := tx.Exec(`DELETE FROM platforms WHERE org_id = ?`, orgID).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM organisations WHERE id = ?`, orgID).Error
	})
	if err != nil {
		return err
	}
	var errs []error
	if r.Files != nil {
		// The files' bytes go once no row names them: a failure here
		// leaves bytes nobody can reach, never a row without its file.
		for _, key := range files {
			if err := r.Files.Delete(ctx, key); err != nil {
				errs = append(errs, fmt.Errorf("delete a file of organisation %q: %w", orgID, err))
			}
		}
	}
	if r.Keys != nil {
		for _, id := range regs {
			// Their JWKS URLs stop publishing at once.
			if err := r.Keys.Forget(ctx, id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
