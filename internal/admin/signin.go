package admin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Sign-in attempts are paced, not locked out. Each attempt is counted in
// the database before its password is checked, under two subjects: the
// email address typed (whether or not an account has it, so the answers
// never tell which addresses exist) and the client's address. Past a few
// free attempts, each further one must wait a delay that doubles, up to a
// cap: a burst sent to any number of replicas checks no more passwords
// than the budget allows, a slow guesser gets one guess per wait, and the
// real administrator can always sign in once the wait is over.
//
// The per-address count lives in the database beside the per-email one,
// rather than in each replica's memory, for the same reason: a guesser
// spreading one password over many emails through several replicas meets
// one budget. The web layer adds a per-address request rate in memory in
// front (cheap refusals of floods before any database work).

// Backoff paces the sign-in attempts of one subject: Free attempts back to
// back, then each further attempt waits First, doubled for every attempt
// since, at most Max. A subject with no attempt for Forget starts again.
type Backoff struct {
	Free   int
	First  time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Wait is how long the attempt after the n-th must wait.
func (b Backoff) Wait(n int) time.Duration {
	if n < b.Free {
		return 0
	}
	d := b.First
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// The production pacing: five attempts per email, then waits of 30 s, 1,
// 2, 4, 8 and at most 15 minutes; twenty per client address, whatever the
// emails, then the same waits.
var (
	DefaultAccountBackoff = Backoff{Free: 5, First: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	DefaultAddressBackoff = Backoff{Free: 20, First: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
)

// WaitError refuses a sign-in attempt that comes before the wait set by
// earlier attempts is over. No password is checked.
type WaitError struct {
	Until time.Time
	// By is "email" or "address": whose attempts set the wait.
	By string
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("too many sign-in attempts by this %s: wait until %s", e.By, e.Until.UTC().Format(time.RFC3339))
}

// ErrBusy refuses a sign-in while MaxHashing passwords are being checked
// already: the answer comes at once instead of the attempt queueing for a
// core, and the attempt is not counted.
var ErrBusy = &roundtable.Error{Code: roundtable.ELIMITED, Message: "Roundtable is checking many sign-ins at this moment. Wait a few seconds and try again."}

type signinSubject struct {
	hash    string
	by      string
	backoff Backoff
}

func emailSubject(email string, b Backoff) signinSubject {
	return signinSubject{hash: hashSecret("email:" + email), by: "email", backoff: b}
}

// addressSubject counts an IPv6 client by its /64, the block one
// subscriber usually holds, so that changing addresses within it does not
// buy new attempts.
func addressSubject(addr string, b Backoff) signinSubject {
	if ip, err := netip.ParseAddr(addr); err == nil {
		ip = ip.WithZone("").Unmap()
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			addr = p.String()
		} else {
			addr = ip.String()
		}
	}
	return signinSubject{hash: hashSecret("addr:" + addr), by: "address", backoff: b}
}

// errRefused rolls the reservation back; the *WaitError is kept aside.
var errRefused = errors.New("sign-in attempt refused")

// reserve counts one attempt for every subject, in one transaction, or
// none when a subject must still wait (a *WaitError). The subject's row is
// locked from its read to its update (the transaction's write lock on
// SQLite, FOR UPDATE on Postgres), so attempts running at the same time,
// on any replica, are counted one after the other.
func (s *Store) reserve(ctx context.Context, now time.Time, subjects ...signinSubject) error {
	var refused *WaitError
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = " FOR UPDATE"
	}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		refused = nil
		for _, sub := range subjects {
			if err := tx.Exec(`INSERT INTO admin_signin_attempts (subject_hash, attempts, last_attempt_at) VALUES (?, 0, ?) ON CONFLICT (subject_hash) DO NOTHING`,
				sub.hash, now).Error; err != nil {
				return err
			}
			var row struct {
				Attempts      int
				NextAttemptAt *time.Time
				LastAttemptAt time.Time
			}
			if err := tx.Raw(`SELECT attempts, next_attempt_at, last_attempt_at FROM admin_signin_attempts WHERE subject_hash = ?`+lock, sub.hash).
				Scan(&row).Error; err != nil {
				return err
			}
			n := row.Attempts
			if now.Sub(row.LastAttemptAt) >= sub.backoff.Forget {
				n = 0
			}
			if n >= sub.backoff.Free && row.NextAttemptAt != nil && now.Before(*row.NextAttemptAt) {
				refused = &WaitError{Until: row.NextAttemptAt.UTC(), By: sub.by}
				return errRefused
			}
			n++
			var next *time.Time
			if w := sub.backoff.Wait(n); w > 0 {
				t := now.Add(w)
				next = &t
			}
			if err := tx.Exec(`UPDATE admin_signin_attempts SET attempts = ?, next_attempt_at = ?, last_attempt_at = ? WHERE subject_hash = ?`,
				n, next, now, sub.hash).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if refused != nil {
		return refused
	}
	if err != nil {
		return fmt.Errorf("count sign-in attempt: %w", err)
	}
	return nil
}

// signedIn ends the email's waits and gives the client address its
// attempt back: a success is no failure, but it does not wipe the
// failures the address made for other emails.
func (s *Store) signedIn(tx *gorm.DB, email, address signinSubject) error {
	if err := tx.Exec(`DELETE FROM admin_signin_attempts WHERE subject_hash = ?`, email.hash).Error; err != nil {
		return err
	}
	return tx.Exec(`UPDATE admin_signin_attempts SET attempts = attempts - 1 WHERE subject_hash = ? AND attempts > 0`, address.hash).Error
}

// ForgetAttempts deletes the counts of subjects quiet for longer than
// their Forget and no longer waiting: they would start again anyway.
func (s *Store) ForgetAttempts(ctx context.Context) (int64, error) {
	now := s.Now().UTC()
	quiet := now.Add(-max(s.AccountBackoff.Forget, s.AddressBackoff.Forget))
	res := s.db.WithContext(ctx).Exec(`DELETE FROM admin_signin_attempts WHERE last_attempt_at < ? AND (next_attempt_at IS NULL OR next_attempt_at < ?)`, quiet, now)
	return res.RowsAffected, res.Error
}

// takeHashSlot reserves one of the MaxHashing password checks that may
// run at once, without waiting.
func (s *Store) takeHashSlot() bool {
	s.slotsOnce.Do(func() { s.hashSlots = make(chan struct{}, max(1, s.MaxHashing)) })
	select {
	case s.hashSlots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Store) releaseHashSlot() { <-s.hashSlots }
