package tenant_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

func TestFieldErrors(t *testing.T) {
	p := tenant.Platform{Issuer: "moodle.example.edu", ClientID: " ", AuthURL: "http://lms.example.edu/auth", TokenURL: "", JWKSURL: "https://lms.example.edu/jwks"}
	var got []string
	for _, fe := range p.FieldErrors() {
		got = append(got, fe.Field)
	}
	if want := []string{"Name", "Issuer", "ClientID", "AuthURL"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fields in error %v, want %v (%+v)", got, want, p.FieldErrors())
	}
	if errs := canvas("1").FieldErrors(); len(errs) != 0 {
		t.Errorf("a valid registration has errors: %+v", errs)
	}
}

func TestUpdateStatusAndDeployments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		a, err := reg.Add(ctx, canvas("100"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := reg.Add(ctx, canvas("200"))
		if err != nil {
			t.Fatal(err)
		}

		a.Name, a.TokenAudience, a.Deployments = "Canvas (renamed)", "https://aud.example.edu", []string{"2:def", "3:ghi"}
		a.Status = tenant.StatusDisabled // ignored: Update leaves the status alone
		got, err := reg.Update(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Canvas (renamed)" || got.TokenAudience != "https://aud.example.edu" || got.Status != tenant.StatusActive ||
			!reflect.DeepEqual(got.Deployments, []string{"2:def", "3:ghi"}) {
			t.Errorf("after update: %+v", got)
		}
		// Keeping a deployment and adding one.
		a.Deployments = []string{"3:ghi", "4:jkl", "3:ghi"}
		if got, err = reg.Update(ctx, a); err != nil || !reflect.DeepEqual(got.Deployments, []string{"3:ghi", "4:jkl"}) {
			t.Fatalf("update keeping a deployment: %+v %v", got.Deployments, err)
		}
		a.Deployments = []string{"2:def", "3:ghi"}
		if _, err := reg.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		b.ClientID = "100"
		if _, err := reg.Update(ctx, b); roundtable.ErrorCode(err) != roundtable.ECONFLICT {
			t.Errorf("update onto another registration's issuer and client id: %v", err)
		}
		b.ClientID, b.Issuer = "200", "not a URL"
		if _, err := reg.Update(ctx, b); roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Errorf("invalid update: %v", err)
		}
		if _, err := reg.Update(ctx, tenant.Platform{ID: "missing", Name: "x", Issuer: "https://x.example", ClientID: "x",
			AuthURL: "https://x.example/a", JWKSURL: "https://x.example/j"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of a missing platform: %v", err)
		}

		if err := reg.SetStatus(ctx, a.ID, tenant.StatusPending); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.FindRegistration(ctx, a.Issuer, a.ClientID); reason(err) != lti.ReasonPlatformPending {
			t.Errorf("pending: %v", err)
		}
		if err := reg.SetStatus(ctx, a.ID, tenant.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.FindRegistration(ctx, a.Issuer, a.ClientID); reason(err) != lti.ReasonPlatformDisabled {
			t.Errorf("disabled: %v", err)
		}
		if err := reg.SetStatus(ctx, a.ID, tenant.StatusActive); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.FindRegistration(ctx, a.Issuer, a.ClientID); err != nil {
			t.Errorf("active again: %v", err)
		}
		if err := reg.SetStatus(ctx, a.ID, "banana"); roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Errorf("unknown status: %v", err)
		}
		if err := reg.SetStatus(ctx, "missing", tenant.StatusActive); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("status of a missing platform: %v", err)
		}

		if err := reg.RemoveDeployment(ctx, a.ID, "2:def"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := reg.HasDeployment(ctx, a.ID, "2:def"); ok {
			t.Error("a removed deployment is still known")
		}
		if err := reg.RemoveDeployment(ctx, a.ID, "2:def"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removing it twice: %v", err)
		}
		u, err := reg.Usage(ctx, a.ID)
		if err != nil || u.Deployments != 1 || u.Courses != 0 {
			t.Errorf("usage %+v %v", u, err)
		}
	})
}

func TestTouchLaunchIsThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		reg.Now = func() time.Time { return now }
		p, err := reg.Add(ctx, canvas("300"))
		if err != nil {
			t.Fatal(err)
		}
		lastLaunch := func() time.Time {
			got, err := reg.Get(ctx, p.ID)
			if err != nil || got.LastLaunchAt == nil {
				t.Fatalf("no last launch: %v", err)
			}
			return got.LastLaunchAt.UTC()
		}
		if err := reg.TouchLaunch(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		first := now
		if got := lastLaunch(); !got.Equal(first) {
			t.Errorf("last launch %v, want %v", got, first)
		}
		now = now.Add(30 * time.Second)
		reg.TouchLaunch(ctx, p.ID)
		if got := lastLaunch(); !got.Equal(first) {
			t.Errorf("written again within a minute: %v", got)
		}
		now = now.Add(31 * time.Second)
		reg.TouchLaunch(ctx, p.ID)
		if got := lastLaunch(); !got.Equal(now) {
			t.Errorf("not written after a minute: %v, want %v", got, now)
		}
	})
}
