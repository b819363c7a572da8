package toolkey_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
)

const secret = "0123456789abcdef0123456789abcdef"

func newStore(t *testing.T, db *store.DB) *toolkey.Store {
	t.Helper()
	ks, err := toolkey.New(db, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	ks.Bits = 1024 // fast keys in tests
	return ks
}

func kids(set jwk.Set) []string {
	var out []string
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		out = append(out, k.KeyID())
	}
	return out
}

func has(set jwk.Set, kid string) bool {
	_, ok := set.LookupKeyID(kid)
	return ok
}

func TestEachRegistrationHasItsOwnKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks := newStore(t, db)
		a, b := store.NewID(), store.NewID()
		for _, id := range []string{a, b} {
			made, err := ks.EnsureKey(ctx, id)
			if err != nil || !made {
				t.Fatalf("EnsureKey %s: %v %v", id, made, err)
			}
			if made, err := ks.EnsureKey(ctx, id); err != nil || made {
				t.Fatalf("EnsureKey twice made another key: %v %v", made, err)
			}
		}
		signA, err := ks.Signing(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		signB, err := ks.Signing(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if signA.KeyID() == signB.KeyID() {
			t.Fatalf("two registrations sign with the same key %s", signA.KeyID())
		}
		setA, err := ks.PublicSet(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		setB, err := ks.PublicSet(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		// Registration A's JWKS holds A's key and not B's, and the other
		// way round: what Roundtable signs for B never verifies with A's.
		if setA.Len() != 1 || !has(setA, signA.KeyID()) || has(setA, signB.KeyID()) {
			t.Errorf("A's JWKS %v, want only %s", kids(setA), signA.KeyID())
		}
		if setB.Len() != 1 || !has(setB, signB.KeyID()) || has(setB, signA.KeyID()) {
			t.Errorf("B's JWKS %v, want only %s", kids(setB), signB.KeyID())
		}
		// Nothing is shared.
		shared, err := ks.SharedSet(ctx)
		if err != nil || shared.Len() != 0 {
			t.Errorf("shared JWKS %v %v, want empty", kids(shared), err)
		}
		// An unknown registration has no keys, and none is made by asking
		// for its JWKS.
		if _, err := ks.PublicSet(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("JWKS of an unknown registration: %v", err)
		}

		// The private key is not stored in the clear, and the JWKS holds
		// only public parts with kid, alg and use.
		var stored string
		db.Raw("SELECT private_key FROM registration_keys WHERE kid = ?", signA.KeyID()).Scan(&stored)
		if strings.Contains(stored, "PRIVATE") || len(stored) < 100 {
			t.Fatalf("stored key looks unencrypted: %.40q", stored)
		}
		raw, _ := json.Marshal(setA)
		if strings.Contains(string(raw), `"d"`) {
			t.Fatal("JWKS leaks a private exponent")
		}
		k, _ := setA.Key(0)
		if k.KeyID() == "" || k.Algorithm().String() != "RS256" || k.KeyUsage() != "sig" {
			t.Errorf("key lacks kid/alg/use: %v %v %v", k.KeyID(), k.Algorithm(), k.KeyUsage())
		}

		// Another secret cannot read the keys.
		other, _ := toolkey.New(db, []byte("another secret, another secret!!"))
		if _, err := other.Signing(ctx, a); err == nil {
			t.Fatal("a different secret decrypted the keys")
		}
		if err := other.Check(ctx); err == nil {
			t.Fatal("Check accepted a different secret")
		}
		if err := ks.Check(ctx); err != nil {
			t.Fatal(err)
		}

		// Forgetting a registration's keys leaves the other's alone.
		if err := ks.Forget(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.PublicSet(ctx, a); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A's JWKS after Forget: %v", err)
		}
		if set, err := ks.PublicSet(ctx, b); err != nil || set.Len() != 1 {
			t.Errorf("B's JWKS after forgetting A: %v", err)
		}
	})
}

func TestRotationOfOneRegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks := newStore(t, db)
		a, b := store.NewID(), store.NewID()
		first, err := ks.Rotate(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		bKey, err := ks.Rotate(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		rotated, err := ks.Rotate(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		signing, err := ks.Signing(ctx, a)
		if err != nil || signing.KeyID() != rotated.KID {
			t.Fatalf("signing kid %v %v, want the new key %q", signing, err, rotated.KID)
		}
		set, _ := ks.PublicSet(ctx, a)
		if set.Len() != 2 || !has(set, first.KID) || !has(set, rotated.KID) {
			t.Fatalf("A's JWKS during rotation %v, want both of its keys", kids(set))
		}
		if s, _ := ks.Signing(ctx, b); s.KeyID() != bKey.KID {
			t.Errorf("rotating A changed B's signing key to %s", s.KeyID())
		}
		list, err := ks.List(ctx, a)
		if err != nil || len(list) != 2 || !list[0].Signing || list[1].Signing || list[0].KID != rotated.KID {
			t.Fatalf("List %+v %v", list, err)
		}

		if err := ks.Retire(ctx, a, rotated.KID); !errors.Is(err, toolkey.ErrSigningKey) {
			t.Fatalf("retiring the signing key: %v", err)
		}
		if err := ks.Retire(ctx, b, first.KID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B retiring A's key: %v", err)
		}
		if err := ks.Retire(ctx, a, first.KID); err != nil {
			t.Fatal(err)
		}
		set, _ = ks.PublicSet(ctx, a)
		if has(set, first.KID) || set.Len() != 1 {
			t.Fatalf("retired key still published: %v", kids(set))
		}
		all, err := ks.All(ctx)
		if err != nil || len(all) != 3 {
			t.Fatalf("All: %d keys, %v", len(all), err)
		}
	})
}

// A rotation made by another process shows up once the cache expires.
func TestAnotherProcessRotationShowsAfterTheCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		here, there := newStore(t, db), newStore(t, db)
		here.Now = func() time.Time { return now }
		id := store.NewID()
		first, _ := there.Rotate(ctx, id)
		if s, _ := here.Signing(ctx, id); s.KeyID() != first.KID {
			t.Fatalf("signing %s, want %s", s.KeyID(), first.KID)
		}
		next, _ := there.Rotate(ctx, id)
		if s, _ := here.Signing(ctx, id); s.KeyID() != first.KID {
			t.Errorf("cached key replaced before CacheTTL: %s", s.KeyID())
		}
		now = now.Add(here.CacheTTL)
		if s, _ := here.Signing(ctx, id); s.KeyID() != next.KID {
			t.Errorf("after CacheTTL signing %s, want %s", s.KeyID(), next.KID)
		}
	})
}

// The keys of a registration that was never saved (a dynamic registration
// cut short) are deleted after a while; a saved registration's stay.
func TestForgetAbandoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks := newStore(t, db)
		saved, abandoned := store.NewID(), store.NewID()
		now := time.Now().UTC()
		must(t, db.Exec(`INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
			VALUES (?, 'LMS', 'https://lms.example.edu', 'c', 'https://lms.example.edu/auth', 'https://lms.example.edu/jwks', ?, ?)`, saved, now, now).Error)
		for _, id := range []string{saved, abandoned} {
			if _, err := ks.Rotate(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := ks.ForgetAbandoned(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("young keys deleted: %d %v", n, err)
		}
		if n, err := ks.ForgetAbandoned(ctx, now.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("abandoned keys deleted: %d %v", n, err)
		}
		if _, err := ks.PublicSet(ctx, abandoned); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("abandoned registration still has keys: %v", err)
		}
		if _, err := ks.PublicSet(ctx, saved); err != nil {
			t.Errorf("saved registration lost its keys: %v", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
