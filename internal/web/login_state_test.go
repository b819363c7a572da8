package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// browserHash is the hash a login binds its state to, of the browser b's
// binding cookie.
func browserHash(t *testing.T, env *apptest.Env, b *ltiplatform.Browser) string {
	t.Helper()
	for _, c := range b.Cookies(env.App.URL("/lti/launch")) {
		if c.Name == "rt_browser" {
			sum := sha256.Sum256([]byte("browser\x00" + c.Value))
			return hex.EncodeToString(sum[:])
		}
	}
	t.Fatal("the browser has no binding cookie")
	return ""
}

// The login state travels with the platform: a launch refuses one that
// was altered, sealed under another secret, expired, or sealed for another
// registration than the one whose id_token comes with it, and stores
// nothing.
func TestLaunchRefusesStatesItDidNotSeal(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		unknown := func(t *testing.T, res *ltiplatform.Result) {
			t.Helper()
			mustReject(t, env, res, http.StatusUnauthorized)
			if !strings.Contains(res.Body, "already been used or has expired") {
				t.Errorf("refusal page:\n%.400s", res.Body)
			}
			if n := env.Count(t, "used_login_states"); n != 0 {
				t.Errorf("a refused state was spent (%d)", n)
			}
		}
		t.Run("altered", func(t *testing.T) {
			b, ar := login(t, env)
			st := ar.Fields.Get("state")
			for _, i := range []int{0, len(st) / 2, len(st) - 1} {
				forged := st[:i] + flip(st[i:i+1]) + st[i+1:]
				ar.Fields.Set("state", forged)
				unknown(t, post(t, b, ar))
			}
		})
		t.Run("sealed under another secret", func(t *testing.T) {
			b, ar := login(t, env)
			other := session.NewStore(nil, []byte("another server's secret, long enough"))
			ls, err := other.NewLoginState(env.Registered.ID, browserHash(t, env, b), "")
			if err != nil {
				t.Fatal(err)
			}
			ar.Fields.Set("state", ls.State)
			unknown(t, post(t, b, ar))
		})
		t.Run("expired", func(t *testing.T) {
			b, ar := login(t, env)
			clock := &fakeClock{}
			clock.set(time.Now().Add(session.LoginStateTTL + time.Second))
			env.App.Sessions.Now = clock.now
			defer func() { env.App.Sessions.Now = time.Now }()
			unknown(t, post(t, b, ar))
		})
		t.Run("another registration's", func(t *testing.T) {
			// A state this server sealed, bound to this browser, for another
			// registration: the id_token of the first is checked against
			// the second's issuer and client id, and refused, even when the
			// two share their keys.
			storetest.AddPlatform(t, env.DB, "other-lms", "https://other-lms.example")
			if err := env.DB.Exec(`UPDATE platforms SET jwks_url = (SELECT jwks_url FROM platforms WHERE id = ?) WHERE id = 'other-lms'`, env.Registered.ID).Error; err != nil {
				t.Fatal(err)
			}
			b, ar := login(t, env)
			ls, err := env.App.Sessions.NewLoginState("other-lms", browserHash(t, env, b), "")
			if err != nil {
				t.Fatal(err)
			}
			ar.Fields.Set("state", ls.State)
			mustReject(t, env, post(t, b, ar), http.StatusUnauthorized)
			if n := env.Count(t, "used_login_states"); n != 0 {
				t.Errorf("a refused state was spent (%d)", n)
			}
		})
	})
}

// A replayed state is refused, and what its launch would have written is
// not: here, the person's name brought up to date.
func TestReplayedStateWritesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, ar := login(t, env)
		if first := post(t, b, ar); first.StatusCode != http.StatusOK {
			t.Fatalf("first launch: %d", first.StatusCode)
		}
		if err := env.DB.Exec(`UPDATE users SET name = 'Old Name'`).Error; err != nil {
			t.Fatal(err)
		}
		before := rowCounts(t, env)
		second := post(t, b, ar)
		if second.StatusCode != http.StatusUnauthorized || !strings.Contains(second.Body, "already been used") {
			t.Fatalf("replayed launch: %d %.300s", second.StatusCode, second.Body)
		}
		sameRows(t, before, rowCounts(t, env))
		var names []string
		if err := env.DB.Raw(`SELECT name FROM users`).Scan(&names).Error; err != nil || len(names) != 1 || names[0] != "Old Name" {
			t.Errorf("after the replay the person is %v (%v)", names, err)
		}
	})
}
