package tenant

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/lti"
)

// ErrorInterval is how often RecordRefusal writes a platform's last error
// at most: once per process, and across processes by a condition on the
// row. The log has every refusal; the console shows the latest recorded.
const ErrorInterval = time.Minute

// Bounds of the request's values kept with a refusal.
const (
	maxGivenValues = 4
	maxGivenName   = 40
	maxGivenValue  = 100
)

// RecordRefusal notes a refused login or launch of a platform, for the
// admin's health view: its typed reason, and apart from it the values the
// request carried (see GivenText), which anyone can choose and the console
// labels as the request's. It writes at most once per ErrorInterval per
// platform, so a flood of refusals costs no more than one write a minute;
// recorded tells whether this one was written. Call it outside any
// transaction.
func (r *Registry) RecordRefusal(ctx context.Context, platformID string, refusal *lti.Error) (recorded bool, err error) {
	now := r.Now().UTC()
	if !r.refusals.claim(platformID, now, ErrorInterval) {
		return false, nil
	}
	res := r.db.WithContext(ctx).Exec(`UPDATE platforms SET last_error_reason = ?, last_error = ?, last_error_at = ?
		WHERE id = ? AND (last_error_at IS NULL OR last_error_at <= ? OR last_error_at > ?)`,
		string(refusal.Reason), GivenText(refusal.Given), now, platformID, now.Add(-ErrorInterval), now)
	if res.Error != nil {
		// Let the next refusal try again.
		r.refusals.release(platformID, now)
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// GivenText writes a refused request's values for people to read: each as
// name = "value", quoted with every invisible or control character escaped,
// and cut after maxGivenValue characters with the length it had.
func GivenText(given []lti.Given) string {
	var parts []string
	for i, g := range given {
		if i == maxGivenValues {
			parts = append(parts, fmt.Sprintf("and %d more", len(given)-i))
			break
		}
		value, cut := clipRunes(g.Value, maxGivenValue)
		name, _ := clipRunes(g.Name, maxGivenName)
		part := strconv.QuoteToGraphic(name)
		part = part[1:len(part)-1] + " = " + strconv.QuoteToGraphic(value)
		if cut {
			part += fmt.Sprintf("… (%d characters in all)", utf8.RuneCountInString(g.Value))
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

func clipRunes(s string, n int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	return string([]rune(s)[:n]), true
}

// claim reports whether a write for id is due at now, at most one per
// every, and if so notes it as done.
func (t *touchLog) claim(id string, now time.Time, every time.Duration) bool {
	t.Lock()
	defer t.Unlock()
	if t.at == nil {
		t.at = map[string]time.Time{}
	}
	last, seen := t.at[id]
	if seen && now.Sub(last) < every && !now.Before(last) {
		return false
	}
	t.at[id] = now
	return true
}

// release forgets a claimed write that failed, so the next one is due.
func (t *touchLog) release(id string, now time.Time) {
	t.Lock()
	defer t.Unlock()
	if t.at[id].Equal(now) {
		delete(t.at, id)
	}
}
