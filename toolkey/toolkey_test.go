package toolkey_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/store/storetest"
	"github.com/roundtable-lms/roundtable/toolkey"
)

func TestKeysAreEncryptedRotatedAndPublished(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks, err := toolkey.New(db, []byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		ks.Bits = 1024 // fast keys in tests
		if err := ks.EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ks.EnsureKey(ctx); err != nil {
			t.Fatal(err)
		}
		infos, err := ks.List(ctx)
		if err != nil || len(infos) != 1 {
			t.Fatalf("after EnsureKey twice: %v keys, err %v", len(infos), err)
		}
		first := infos[0].KID

		// The private key is not stored in the clear.
		var stored string
		db.Raw("SELECT private_key FROM tool_keys WHERE kid = ?", first).Scan(&stored)
		if strings.Contains(stored, "PRIVATE") || len(stored) < 100 {
			t.Fatalf("stored key looks unencrypted: %.40q", stored)
		}

		rotated, err := ks.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		signing, err := ks.Signing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if signing.KeyID() != rotated.KID {
			t.Fatalf("signing kid %q, want the new key %q", signing.KeyID(), rotated.KID)
		}
		set, err := ks.PublicSet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != 2 {
			t.Fatalf("published %d keys during rotation, want 2", set.Len())
		}
		raw, _ := json.Marshal(set)
		if strings.Contains(string(raw), `"d"`) {
			t.Fatal("JWKS leaks a private exponent")
		}
		for i := 0; i < set.Len(); i++ {
			k, _ := set.Key(i)
			if k.KeyID() == "" || k.Algorithm().String() != "RS256" || k.KeyUsage() != "sig" {
				t.Errorf("key %d lacks kid/alg/use: %v %v %v", i, k.KeyID(), k.Algorithm(), k.KeyUsage())
			}
		}

		if err := ks.Retire(ctx, rotated.KID); err == nil {
			t.Fatal("retiring the signing key must fail")
		}
		if err := ks.Retire(ctx, first); err != nil {
			t.Fatal(err)
		}
		set, _ = ks.PublicSet(ctx)
		if _, ok := set.LookupKeyID(first); ok || set.Len() != 1 {
			t.Fatalf("retired key still published (%d keys)", set.Len())
		}

		// Another secret cannot read the keys.
		other, _ := toolkey.New(db, []byte("another secret, another secret!!"))
		if _, err := other.Signing(ctx); err == nil {
			t.Fatal("a different secret decrypted the keys")
		}
	})
}
