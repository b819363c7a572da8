package admin_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

const (
	password = "a long enough password"
	wrong    = "wrong password!!"
)

func TestBackoffWaits(t *testing.T) {
	b := admin.DefaultAccountBackoff
	want := map[int]time.Duration{0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 9: 8 * time.Minute, 10: 15 * time.Minute, 1000: 15 * time.Minute}
	for n, w := range want {
		if got := b.Wait(n); got != w {
			t.Errorf("wait after attempt %d: %v, want %v", n, got, w)
		}
	}
}

// outcome is what a sign-in attempt told the client, in a form two
// attempts can be compared by.
func outcome(err error) string {
	var we *admin.WaitError
	switch {
	case err == nil:
		return "signed in"
	case errors.As(err, &we):
		return "wait until " + we.Until.Format(time.RFC3339) + " by " + we.By
	}
	return err.Error()
}

// Failed sign-ins make each further attempt wait, longer and longer but
// never more than the cap; the right password gets in once the wait is
// over and ends the waits. An email without an account goes through the
// same answers, attempt for attempt.
func TestSignInWaitsInsteadOfLocking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		if _, err := s.Create(ctx, "ada@example.edu", password); err != nil {
			t.Fatal(err)
		}
		start := clk.t
		run := func(email string, client string) []string {
			clk.t = start
			var got []string
			try := func(pw string) error {
				_, err := s.Authenticate(ctx, email, pw, client)
				got = append(got, outcome(err))
				return err
			}
			for i := 1; i <= 5; i++ {
				if err := try(wrong); !errors.Is(err, admin.ErrBadCredentials) {
					t.Fatalf("%s failure %d: %v", email, i, err)
				}
			}
			// The right password during the wait is not even checked.
			var we *admin.WaitError
			if err := try(password); !errors.As(err, &we) || !we.Until.Equal(start.Add(30*time.Second)) || we.By != "email" {
				t.Fatalf("%s: right password during the wait: %v", email, err)
			}
			clk.add(29 * time.Second)
			if err := try(password); !errors.As(err, &we) {
				t.Fatalf("%s: a second before the end of the wait: %v", email, err)
			}
			clk.add(time.Second)
			try(wrong)
			// Each failure past the free ones doubles the wait, up to 15 minutes.
			for i, w := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
				if err := try(wrong); !errors.As(err, &we) || !we.Until.Equal(clk.t.Add(w)) {
					t.Fatalf("%s: wait %d: %v, want %v", email, i, err, w)
				}
				clk.add(w)
				if err := try(wrong); !errors.Is(err, admin.ErrBadCredentials) {
					t.Fatalf("%s: after wait %d: %v", email, i, err)
				}
			}
			clk.add(15 * time.Minute)
			try(password)
			return got
		}
		known := run("ada@example.edu", "192.0.2.1")
		if known[len(known)-1] != "signed in" {
			t.Fatalf("the right password after the wait: %s", known[len(known)-1])
		}
		unknown := run("bob@example.edu", "192.0.2.2")
		if len(known) != len(unknown) {
			t.Fatalf("%d answers for an account, %d for an unknown email", len(known), len(unknown))
		}
		for i := range known[:len(known)-1] {
			if known[i] != unknown[i] {
				t.Errorf("attempt %d: %q for an account, %q for an unknown email", i+1, known[i], unknown[i])
			}
		}

		// The success ended the waits: five free attempts again.
		for i := 1; i <= 5; i++ {
			if _, err := s.Authenticate(ctx, "ada@example.edu", wrong, "192.0.2.1"); !errors.Is(err, admin.ErrBadCredentials) {
				t.Fatalf("failure %d after a success: %v", i, err)
			}
		}
		var we *admin.WaitError
		if _, err := s.Authenticate(ctx, "ada@example.edu", password, "192.0.2.1"); !errors.As(err, &we) {
			t.Fatalf("sixth attempt: %v", err)
		}
		// A new password ends the waits too.
		if err := s.SetPassword(ctx, "ada@example.edu", "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "ada@example.edu", "a brand new password", "192.0.2.1"); err != nil {
			t.Fatalf("after a password reset: %v", err)
		}
		// A day of quiet forgets the counts.
		for i := 0; i < 6; i++ {
			s.Authenticate(ctx, "bob@example.edu", wrong, "192.0.2.3")
		}
		clk.add(24*time.Hour + time.Second)
		if n, err := s.ForgetAttempts(ctx); err != nil || n == 0 {
			t.Fatalf("forget: %d %v", n, err)
		}
		if n := count(t, db); n != 0 {
			t.Errorf("%d subjects left after a quiet day", n)
		}
	})
}

func count(t *testing.T, db *store.DB) int64 {
	var n int64
	if err := db.Raw(`SELECT COUNT(*) FROM admin_signin_attempts`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// heldChecks replaces the password check with one that reports each call
// and waits to be released, so a test sees how many checks a burst starts.
type heldChecks struct {
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// holdChecks holds s's password checks until Release, or the end of the
// test.
func holdChecks(t *testing.T, s *admin.Store) *heldChecks {
	h := &heldChecks{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	s.Verify = func(encoded, pw string) (bool, error) {
		h.calls.Add(1)
		h.entered <- struct{}{}
		<-h.release
		return admin.CheckPassword(encoded, pw)
	}
	t.Cleanup(h.Release)
	return h
}

// Release lets every held check, and every later one, run.
func (h *heldChecks) Release() { h.once.Do(func() { close(h.release) }) }

// waitEntered waits until n checks have started.
func (h *heldChecks) waitEntered(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-h.entered:
		case <-timeout:
			t.Fatalf("only %d of %d password checks started", i, n)
		}
	}
}

// A burst of sign-ins sent at once, from as many addresses, checks no more
// passwords than the email's free attempts, and the right password sent
// while those are being checked is refused unchecked; after the wait it
// gets in.
func TestSignInBurstChecksOnlyTheBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		s.MaxHashing = 100
		if _, err := s.Create(ctx, "ada@example.edu", password); err != nil {
			t.Fatal(err)
		}
		checks := holdChecks(t, s)
		const burst = 40
		results := make(chan string, burst)
		var wg sync.WaitGroup
		attempt := func(i int, pw string) {
			defer wg.Done()
			_, err := s.Authenticate(ctx, "ada@example.edu", pw, fmt.Sprintf("198.51.100.%d", i))
			results <- outcome(err)
		}
		for i := 0; i < burst-1; i++ {
			wg.Add(1)
			go attempt(i, wrong)
		}
		free := s.AccountBackoff.Free
		checks.waitEntered(t, free)
		// The free attempts are all being checked: the right password now
		// comes during the wait.
		wg.Add(1)
		go attempt(burst, password)
		wait := "wait until " + clk.t.Add(30*time.Second).Format(time.RFC3339) + " by email"
		timeout := time.After(20 * time.Second)
		for i := 0; i < burst-free; i++ {
			select {
			case got := <-results:
				if got != wait {
					t.Fatalf("attempt beyond the budget: %s, want %s", got, wait)
				}
			case <-checks.entered:
				t.Fatalf("a password beyond the %d free attempts is being checked", free)
			case <-timeout:
				t.Fatalf("only %d attempts beyond the budget were answered", i)
			}
		}
		checks.Release()
		wg.Wait()
		close(results)
		for got := range results {
			if got != admin.ErrBadCredentials.Error() {
				t.Errorf("a checked attempt: %s", got)
			}
		}
		if n := checks.calls.Load(); n != int32(free) {
			t.Errorf("%d passwords checked, want %d", n, free)
		}
		clk.add(30 * time.Second)
		if _, err := s.Authenticate(ctx, "ada@example.edu", password, "198.51.100.200"); err != nil {
			t.Errorf("the right password after the wait: %v", err)
		}
	})
}

// One address trying many emails meets its own budget, whatever the
// emails; an IPv6 client is counted by its /64.
func TestSignInPacedPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		if _, err := s.Create(ctx, "ada@example.edu", password); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ first, next, other string }{
			{"203.0.113.7", "203.0.113.7", "203.0.113.8"},
			{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"},
		} {
			for i := 0; i < s.AddressBackoff.Free; i++ {
				if _, err := s.Authenticate(ctx, fmt.Sprintf("guess%d@example.edu", i), wrong, c.first); !errors.Is(err, admin.ErrBadCredentials) {
					t.Fatalf("%s: guess %d: %v", c.first, i, err)
				}
			}
			var we *admin.WaitError
			if _, err := s.Authenticate(ctx, "ada@example.edu", password, c.next); !errors.As(err, &we) || we.By != "address" {
				t.Fatalf("%s: past the address's budget: %v", c.next, err)
			}
			// Refused by the address, the attempt did not count for the email.
			if _, err := s.Authenticate(ctx, "ada@example.edu", password, c.other); err != nil {
				t.Fatalf("%s: the admin from another address: %v", c.other, err)
			}
			clk.add(time.Hour)
		}
		// A success gives the address its attempt back.
		for i := 0; i < s.AddressBackoff.Free+5; i++ {
			if _, err := s.Authenticate(ctx, "ada@example.edu", password, "192.0.2.50"); err != nil {
				t.Fatalf("signing in for the %d. time: %v", i+1, err)
			}
		}
	})
}

// When every hash slot is taken, a sign-in is refused at once, and the
// refusal costs the email none of its attempts.
func TestSignInBusyWhenHashSlotsAreFull(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(db)
		s.MaxHashing = 2
		if _, err := s.Create(ctx, "ada@example.edu", password); err != nil {
			t.Fatal(err)
		}
		checks := holdChecks(t, s)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.Authenticate(ctx, fmt.Sprintf("other%d@example.edu", i), wrong, "192.0.2.9")
			}()
		}
		checks.waitEntered(t, 2)
		for i := 0; i < 10; i++ {
			start := time.Now()
			_, err := s.Authenticate(ctx, "ada@example.edu", wrong, "192.0.2.10")
			if !errors.Is(err, admin.ErrBusy) || roundtable.ErrorCode(err) != roundtable.ELIMITED {
				t.Fatalf("with the slots full: %v", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("the busy answer took %v", took)
			}
		}
		checks.Release()
		wg.Wait()
		if _, err := s.Authenticate(ctx, "ada@example.edu", password, "192.0.2.10"); err != nil {
			t.Fatalf("after the busy refusals: %v", err)
		}
	})
}
