package tenant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Anyone who can open /lti/register can make Roundtable register with an
// "LMS" of their own. What bounds that: a pending registration nobody
// approves goes away, the number of registrations an hour is capped (by
// the caller, with DynamicSince), and failed attempts are kept for
// administrators only for a while.
const (
	// PendingLifetime is how long a dynamic registration waits for an
	// administrator's approval before it is removed.
	PendingLifetime = 7 * 24 * time.Hour
	// failureRetention is how long failed registrations stay in the
	// console, and maxFailures how many at most.
	failureRetention = 30 * 24 * time.Hour
	maxFailures      = 1000
)

// DynamicSince counts the platforms that registered by LTI Dynamic
// Registration at or after since, whatever their status, and tells when the
// oldest of them registered.
func (r *Registry) DynamicSince(ctx context.Context, since time.Time) (int, time.Time, error) {
	q := r.db.WithContext(ctx).Model(&Platform{}).Where("registered_by = ? AND created_at >= ?", RegisteredDynamically, since.UTC())
	var n int64
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return int(n), time.Time{}, err
	}
	var first Platform
	err := r.db.WithContext(ctx).Select("created_at").Where("registered_by = ? AND created_at >= ?", RegisteredDynamically, since.UTC()).
		Order("created_at").Limit(1).Find(&first).Error
	return int(n), first.CreatedAt, err
}

// DeleteExpiredPending removes the dynamic registrations that waited for
// approval longer than PendingLifetime. A pending platform cannot launch,
// so it owns no course data; its deployments go with it.
func (r *Registry) DeleteExpiredPending(ctx context.Context) (int64, error) {
	res := r.db.WithContext(ctx).Where("status = ? AND registered_by = ? AND created_at < ?",
		StatusPending, RegisteredDynamically, r.Now().UTC().Add(-PendingLifetime)).Delete(&Platform{})
	return res.RowsAffected, res.Error
}

// NoteGrantedScopes adds the scopes the LMS granted with a token to those
// the platform is known to have granted. It is called on every token an
// LMS issues, from the request waiting for it: a read, and a write only
// when a scope is new (compare-and-set, so two at once lose nothing).
func (r *Registry) NoteGrantedScopes(ctx context.Context, platformID string, scopes []string) error {
	for range 3 {
		var have string
		err := r.db.WithContext(ctx).Model(&Platform{}).Select("granted_scopes").Where("id = ?", platformID).Take(&have).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		all := slices.Concat(strings.Fields(have), scopes)
		slices.Sort(all)
		all = slices.Compact(all)
		if len(all) == len(strings.Fields(have)) {
			return nil
		}
		res := r.db.WithContext(ctx).Model(&Platform{}).Where("id = ? AND granted_scopes = ?", platformID, have).
			Updates(map[string]any{"granted_scopes": strings.Join(all, " "), "scopes_granted_at": r.Now().UTC()})
		if res.Error != nil || res.RowsAffected == 1 {
			return res.Error
		}
	}
	return nil
}

// RegistrationFailure is a dynamic registration that did not succeed, as
// the console shows it to administrators.
type RegistrationFailure struct {
	ID string `gorm:"primaryKey"`
	// Reference is the request id the visitor saw on the page.
	Reference           string
	CreatedAt           time.Time
	ClientIP            string `gorm:"column:client_ip"`
	OpenIDConfiguration string `gorm:"column:openid_configuration"`
	// Reason is machine-readable (lti.Reason); Message is what the page
	// said, in Roundtable's words; Detail is for the operator.
	Reason  string
	Message string
	Detail  string
	// What the LMS answered, when it answered: status, its own reason in
	// one line, and the start of its body. Shown only to administrators.
	AnswerStatus int
	AnswerSaid   string
	AnswerBody   string
}

// RecordRegistrationFailure keeps a failed registration for the console.
// Text from the LMS or the visitor is cut to size and made valid UTF-8.
func (r *Registry) RecordRegistrationFailure(ctx context.Context, f RegistrationFailure) error {
	f.ID = store.NewID()
	f.CreatedAt = r.Now().UTC()
	f.Reference = cleanText(f.Reference, 64)
	f.ClientIP = cleanText(f.ClientIP, 64)
	f.OpenIDConfiguration = cleanText(f.OpenIDConfiguration, 2048)
	f.Reason = cleanText(f.Reason, 64)
	f.Message = cleanText(f.Message, 1000)
	f.Detail = cleanText(f.Detail, 2000)
	f.AnswerSaid = cleanText(f.AnswerSaid, 1000)
	f.AnswerBody = cleanText(f.AnswerBody, 4000)
	return r.db.WithContext(ctx).Create(&f).Error
}

// RegistrationFailures lists the latest failed registrations, newest first.
func (r *Registry) RegistrationFailures(ctx context.Context, limit int) ([]RegistrationFailure, error) {
	var fs []RegistrationFailure
	err := r.db.WithContext(ctx).Order("created_at DESC, id").Limit(limit).Find(&fs).Error
	return fs, err
}

// PruneRegistrationFailures forgets failures older than a month, and all
// but the latest thousand.
func (r *Registry) PruneRegistrationFailures(ctx context.Context) (int64, error) {
	db := r.db.WithContext(ctx)
	res := db.Where("created_at < ?", r.Now().UTC().Add(-failureRetention)).Delete(&RegistrationFailure{})
	if res.Error != nil {
		return 0, res.Error
	}
	n := res.RowsAffected
	res = db.Exec(`DELETE FROM registration_failures WHERE id NOT IN
		(SELECT id FROM registration_failures ORDER BY created_at DESC, id LIMIT ?)`, maxFailures)
	return n + res.RowsAffected, res.Error
}

// cleanText makes s storable: valid UTF-8 without NUL, at most max bytes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
