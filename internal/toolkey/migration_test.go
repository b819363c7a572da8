package toolkey_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// An installation from before keys were per registration has one set of
// tool keys every LMS trusts at /.well-known/jwks.json. Migration 15 gives
// each existing registration those keys, so every LMS keeps verifying what
// Roundtable signs, at the old URL and at the registration's own; from
// there each registration rotates on its own.
func TestMigrationGivesExistingRegistrationsTheSharedKeys(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.Config(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			must(t, db.MigrateTo(ctx, 14))
			ks := newStore(t, db)

			// The data an older Roundtable left: two registrations, a
			// retired key, an older key still published and the signing key.
			now := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
			a, b := store.NewID(), store.NewID()
			for _, id := range []string{a, b} {
				must(t, db.Exec(`INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
					VALUES (?, 'LMS', 'https://lms.example.edu', ?, 'https://lms.example.edu/auth', 'https://lms.example.edu/jwks', ?, ?)`,
					id, "client-"+id, now, now).Error)
			}
			privs := map[string]*rsa.PrivateKey{}
			for i, k := range []struct {
				kid     string
				retired bool
			}{{"20250101-retired", true}, {"20250601-published", false}, {"20251201-signing", false}} {
				priv, err := rsa.GenerateKey(rand.Reader, 1024)
				must(t, err)
				der, err := x509.MarshalPKCS8PrivateKey(priv)
				must(t, err)
				privs[k.kid] = priv
				var retiredAt *time.Time
				if k.retired {
					r := now
					retiredAt = &r
				}
				must(t, db.Exec(`INSERT INTO tool_keys (kid, private_key, created_at, retired_at) VALUES (?, ?, ?, ?)`,
					k.kid, ks.Seal(der), now.Add(time.Duration(i)*time.Hour), retiredAt).Error)
			}

			must(t, db.Migrate(ctx))

			for _, id := range []string{a, b} {
				signing, err := ks.Signing(ctx, id)
				if err != nil || signing.KeyID() != "20251201-signing" {
					t.Fatalf("registration signs with %v (%v), want the old signing key", signing, err)
				}
				set, err := ks.PublicSet(ctx, id)
				if err != nil || set.Len() != 2 || !has(set, "20250601-published") || !has(set, "20251201-signing") {
					t.Errorf("registration JWKS %v %v, want the two keys not retired", kids(set), err)
				}
				list, _ := ks.List(ctx, id)
				for _, in := range list {
					if !in.Shared {
						t.Errorf("adopted key %s not marked shared", in.KID)
					}
				}
			}
			// The old URL keeps publishing them, once each.
			shared, err := ks.SharedSet(ctx)
			if err != nil || shared.Len() != 2 || has(shared, "20250101-retired") {
				t.Fatalf("shared JWKS %v %v", kids(shared), err)
			}
			// What Roundtable signs now verifies with the key the LMS held
			// before the upgrade.
			signing, _ := ks.Signing(ctx, a)
			msg, err := jws.Sign([]byte("hello"), jws.WithKey(jwa.RS256, signing))
			must(t, err)
			held, err := jwk.FromRaw(privs["20251201-signing"].Public())
			must(t, err)
			if _, err := jws.Verify(msg, jws.WithKey(jwa.RS256, held)); err != nil {
				t.Errorf("a message signed after the upgrade does not verify with the key the LMS held: %v", err)
			}

			// A registration saved after the migration by an older
			// Roundtable (a rolling deploy), with no key, adopts them too.
			c := store.NewID()
			must(t, db.Exec(`INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
				VALUES (?, 'LMS', 'https://lms.example.edu', 'client-c', 'https://lms.example.edu/auth', 'https://lms.example.edu/jwks', ?, ?)`, c, now, now).Error)
			if s, err := ks.Signing(ctx, c); err != nil || s.KeyID() != "20251201-signing" {
				t.Errorf("a registration without keys signs with %v (%v), want the shared key", s, err)
			}

			// A rotates: its new key is its own, published only at its URL;
			// B is untouched; the shared URL keeps the keys B and C hold.
			rotated, err := ks.Rotate(ctx, a)
			must(t, err)
			must(t, ks.Retire(ctx, a, "20250601-published"))
			must(t, ks.Retire(ctx, a, "20251201-signing"))
			setA, _ := ks.PublicSet(ctx, a)
			if setA.Len() != 1 || !has(setA, rotated.KID) {
				t.Errorf("A's JWKS after rotating and retiring %v", kids(setA))
			}
			if s, _ := ks.Signing(ctx, b); s.KeyID() != "20251201-signing" {
				t.Errorf("B signs with %s after A rotated", s.KeyID())
			}
			shared, _ = ks.SharedSet(ctx)
			if shared.Len() != 2 || has(shared, rotated.KID) {
				t.Errorf("shared JWKS %v after A rotated, want B's and C's shared keys only", kids(shared))
			}
			// Once no registration holds a shared key, the old URL stops
			// publishing it.
			for _, id := range []string{b, c} {
				_, err := ks.Rotate(ctx, id)
				must(t, err)
				must(t, ks.Retire(ctx, id, "20250601-published"))
			}
			shared, _ = ks.SharedSet(ctx)
			if shared.Len() != 1 || !has(shared, "20251201-signing") {
				t.Errorf("shared JWKS %v, want only the key B and C still hold", kids(shared))
			}
		})
	}
}

// On an installation that never shared keys, a registration without keys
// gets its own when it first signs.
func TestARegistrationWithoutKeysGetsItsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks := newStore(t, db)
		id := store.NewID()
		s, err := ks.Signing(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := ks.List(ctx, id)
		if len(list) != 1 || list[0].KID != s.KeyID() || list[0].Shared {
			t.Errorf("keys %+v", list)
		}
		if shared, _ := ks.SharedSet(ctx); shared.Len() != 0 {
			t.Errorf("shared JWKS %v", kids(shared))
		}
	})
}
