package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// signInForm is the sign-in page's double-submit pair, reused by every
// post of a test (the server checks that the two match, not that they are
// fresh).
type signInForm struct {
	cookie string // name=value
	csrf   string
}

// clientFrom sends requests from a loopback address of its own, as
// clients on other machines do, without following redirects. Linux
// answers on all of 127.0.0.0/8; elsewhere the test is skipped.
func clientFrom(t *testing.T, env *apptest.Env, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", env.App.Addr())
	if err != nil {
		t.Skipf("cannot send from %s here: %v", ip, err)
	}
	conn.Close()
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// answer is a response reduced to what a client could tell apart: status,
// the headers that matter, and the page with the tokens that differ on
// every answer (CSRF, request id) and the email typed blanked out.
type answer struct {
	Status     int
	RetryAfter string
	Location   string
	Cookies    string
	Body       string
}

var csrfValue = regexp.MustCompile(`name="csrf" value="[^"]*"`)

func signInOnce(t *testing.T, env *apptest.Env, client *http.Client, form signInForm, email, password string) answer {
	t.Helper()
	body := url.Values{"email": {email}, "password": {password}, "csrf": {form.csrf}, "next": {"/admin/platforms"}}
	req, err := http.NewRequest(http.MethodPost, "http://"+env.App.Addr()+"/admin/login", strings.NewReader(body.Encode()))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", form.cookie)
	resp, err := client.Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := csrfValue.ReplaceAllString(string(b), `name="csrf" value="TOKEN"`)
	page = strings.ReplaceAll(page, email, "EMAIL")
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		page = strings.ReplaceAll(page, id, "REQUEST-ID")
	}
	var names []string
	for _, c := range resp.Cookies() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Location: resp.Header.Get("Location"),
		Cookies: strings.Join(names, ","), Body: page}
}

// openSignIn loads the sign-in page and keeps its form token and cookie.
func openSignIn(t *testing.T, env *apptest.Env) signInForm {
	t.Helper()
	resp, err := http.Get("http://" + env.App.Addr() + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	token := attr(doc(t, string(b)), "form[action='/admin/login'] input[name=csrf]", "value")
	for _, c := range resp.Cookies() {
		if c.Value == token && token != "" {
			return signInForm{cookie: c.Name + "=" + c.Value, csrf: token}
		}
	}
	t.Fatalf("the sign-in page set no cookie matching its form token %q", token)
	return signInForm{}
}

// heldChecks holds the admin store's password checks until released.
type heldChecks struct {
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

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

func (h *heldChecks) Release() { h.once.Do(func() { close(h.release) }) }

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

// A burst of 40 sign-ins sent at once from 40 addresses, the right
// password among them, checks only the email's five free attempts; the
// right password, arriving while those five are being checked, is refused
// unchecked; once the wait is over, the administrator signs in. An email
// without an account gets, answer for answer, the same pages, statuses
// and headers, and costs the same number of password checks.
func TestAdminSignInBurst(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		admins := env.App.Admins
		clk := &fakeClock{}
		clk.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		admins.Now, admins.Params, admins.MaxHashing = clk.now, admin.Params{Memory: 1024, Time: 1, Threads: 1}, 100
		if _, err := admins.Create(context.Background(), adminEmail, adminPassword); err != nil {
			t.Fatal(err)
		}
		form := openSignIn(t, env)
		const burst = 40
		free := admins.AccountBackoff.Free
		var clients []*http.Client
		for i := 0; i <= burst; i++ {
			clients = append(clients, clientFrom(t, env, fmt.Sprintf("127.0.1.%d", i+1)))
		}

		// run sends the burst for one email and the right password after the
		// wait, and returns the answers of the burst in a stable order.
		run := func(email string) (burstAnswers []answer, after answer, checked int32) {
			checks := holdChecks(t, admins)
			answers := make(chan answer, burst)
			var wg sync.WaitGroup
			for i := 0; i < burst-1; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					answers <- signInOnce(t, env, clients[i], form, email, "wrong password number")
				}()
			}
			checks.waitEntered(t, free)
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers <- signInOnce(t, env, clients[burst-1], form, email, adminPassword)
			}()
			timeout := time.After(30 * time.Second)
			for i := 0; i < burst-free; i++ {
				select {
				case a := <-answers:
					if a.Status != http.StatusTooManyRequests || a.RetryAfter != "30" || !strings.Contains(a.Body, "Wait 30 seconds") {
						t.Fatalf("%s: an attempt beyond the budget: %d, Retry-After %q\n%.2000s", email, a.Status, a.RetryAfter, a.Body)
					}
					burstAnswers = append(burstAnswers, a)
				case <-checks.entered:
					t.Fatalf("%s: a password beyond the %d free attempts is being checked", email, free)
				case <-timeout:
					t.Fatalf("%s: only %d of the attempts beyond the budget were answered", email, i)
				}
			}
			checks.Release()
			wg.Wait()
			close(answers)
			for a := range answers {
				if a.Status != http.StatusUnauthorized || !strings.Contains(a.Body, "do not match an administrator account") {
					t.Errorf("%s: a checked attempt: %d\n%.2000s", email, a.Status, a.Body)
				}
				burstAnswers = append(burstAnswers, a)
			}
			checked = checks.calls.Load()
			admins.Verify = admin.CheckPassword
			clk.add(30 * time.Second)
			after = signInOnce(t, env, clients[burst], form, email, adminPassword)
			return burstAnswers, after, checked
		}

		knownBurst, knownAfter, knownChecked := run(adminEmail)
		if knownChecked != int32(free) {
			t.Errorf("the burst checked %d passwords, want %d", knownChecked, free)
		}
		if knownAfter.Status != http.StatusSeeOther || knownAfter.Location != "/admin/platforms" {
			t.Errorf("the right password after the wait: %d to %q", knownAfter.Status, knownAfter.Location)
		}
		unknownBurst, unknownAfter, unknownChecked := run("nobody@example.edu")
		if unknownChecked != knownChecked {
			t.Errorf("an unknown email cost %d password checks, an account %d", unknownChecked, knownChecked)
		}
		if unknownAfter.Status != http.StatusUnauthorized {
			t.Errorf("unknown email after the wait: %d", unknownAfter.Status)
		}
		if len(knownBurst) != len(unknownBurst) {
			t.Fatalf("%d answers for the account, %d for the unknown email", len(knownBurst), len(unknownBurst))
		}
		for i := range knownBurst {
			if knownBurst[i] != unknownBurst[i] {
				t.Fatalf("answer %d differs:\naccount: %+v\nunknown: %+v", i+1, knownBurst[i], unknownBurst[i])
			}
		}
	})
}

// When every password check slot is taken, a sign-in is answered 429 at
// once, with Retry-After and a page that says what to do.
func TestAdminSignInBusy(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		admins := env.App.Admins
		admins.Params, admins.MaxHashing = admin.Params{Memory: 1024, Time: 1, Threads: 1}, 2
		if _, err := admins.Create(context.Background(), adminEmail, adminPassword); err != nil {
			t.Fatal(err)
		}
		form := openSignIn(t, env)
		checks := holdChecks(t, admins)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			client := clientFrom(t, env, fmt.Sprintf("127.0.2.%d", i+1))
			wg.Add(1)
			go func() {
				defer wg.Done()
				signInOnce(t, env, client, form, fmt.Sprintf("other%d@example.edu", i), "wrong password number")
			}()
		}
		checks.waitEntered(t, 2)
		start := time.Now()
		a := signInOnce(t, env, clientFrom(t, env, "127.0.2.9"), form, adminEmail, adminPassword)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the busy answer took %v", took)
		}
		if a.Status != http.StatusTooManyRequests || a.RetryAfter == "" || !strings.Contains(a.Body, "checking many sign-ins") {
			t.Errorf("with every slot busy: %d, Retry-After %q\n%.1500s", a.Status, a.RetryAfter, a.Body)
		}
		checks.Release()
		wg.Wait()
		// The refused attempt cost nothing: the right password gets in.
		if a := signInOnce(t, env, clientFrom(t, env, "127.0.2.9"), form, adminEmail, adminPassword); a.Status != http.StatusSeeOther {
			t.Errorf("after the busy moment: %d", a.Status)
		}
	})
}

// One address posting the sign-in form again and again is refused by its
// request rate before any password check.
func TestAdminSignInRatePerAddress(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	form := openSignIn(t, env)
	one, other := clientFrom(t, env, "127.0.3.1"), clientFrom(t, env, "127.0.3.2")
	var refused *answer
	for i := 0; i < 30 && refused == nil; i++ {
		// No password: the form is refused before any check, but the post counts.
		a := signInOnce(t, env, one, form, adminEmail, "")
		if a.Status == http.StatusTooManyRequests {
			refused = &a
		}
	}
	if refused == nil || refused.RetryAfter == "" || !strings.Contains(refused.Body, "from your network") {
		t.Fatalf("30 posts from one address in a row were not refused: %+v", refused)
	}
	if a := signInOnce(t, env, other, form, adminEmail, ""); a.Status != http.StatusUnprocessableEntity {
		t.Errorf("another address: %d", a.Status)
	}
}
