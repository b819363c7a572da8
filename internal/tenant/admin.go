package tenant

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// What the admin console needs of the registry beyond launches: editing a
// registration, changing its status, its deployments, and its health.

// FieldError is a problem with one field of a registration, named by the
// Platform field it concerns.
type FieldError struct {
	Field   string
	Message string
}

// FieldErrors checks a registration field by field, in form order, with
// the same rules as Validate, so that a form can show each problem beside
// its field.
func (p Platform) FieldErrors() []FieldError {
	var errs []FieldError
	req := func(field, label, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, FieldError{field, label + " is required."})
		}
	}
	urlField := func(field, label, v string, required bool) {
		v = strings.TrimSpace(v)
		if v == "" {
			if required {
				errs = append(errs, FieldError{field, label + " is required."})
			}
			return
		}
		if err := checkURL(v); err != nil {
			errs = append(errs, FieldError{field, label + " " + err.Error() + "."})
		}
	}
	req("Name", "Name", p.Name)
	urlField("Issuer", "Issuer", p.Issuer, true)
	req("ClientID", "Client ID", p.ClientID)
	urlField("AuthURL", "Authentication request URL", p.AuthURL, true)
	urlField("TokenURL", "Access token URL", p.TokenURL, false)
	urlField("JWKSURL", "Public keyset URL", p.JWKSURL, true)
	return errs
}

// Update saves the editable fields of a registration (name, issuer, client
// id, URLs, token audience) and replaces its deployments with
// p.Deployments. Its status and health are left alone.
func (r *Registry) Update(ctx context.Context, p Platform) (Platform, error) {
	status := p.Status
	if err := p.Validate(); err != nil {
		return Platform{}, err
	}
	p.Status = status
	now := r.Now().UTC()
	err := r.db.Tx(ctx, func(tx *gorm.DB) error {
		if holder, err := clientIDHolder(tx, p.Issuer, p.ClientID, p.ID); err != nil || holder != "" {
			return orRefuse(err, ClientIDTaken(p.Issuer, p.ClientID))
		}
		res := tx.Model(&Platform{}).Where("id = ?", p.ID).Updates(map[string]any{
			"name": p.Name, "issuer": p.Issuer, "client_id": p.ClientID, "auth_url": strings.TrimSpace(p.AuthURL),
			"token_url": strings.TrimSpace(p.TokenURL), "token_audience": strings.TrimSpace(p.TokenAudience),
			"jwks_url": strings.TrimSpace(p.JWKSURL), "updated_at": now,
		})
		if res.Error != nil {
			if store.IsUniqueViolation(res.Error) {
				return ClientIDTaken(p.Issuer, p.ClientID)
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("platform %q: %w", p.ID, store.ErrNotFound)
		}
		keep := map[string]bool{}
		for _, d := range p.Deployments {
			if d = strings.TrimSpace(d); d != "" {
				keep[d] = true
			}
		}
		var have []deploymentRow
		if err := tx.Where("platform_id = ?", p.ID).Find(&have).Error; err != nil {
			return err
		}
		for _, d := range have {
			if keep[d.DeploymentID] {
				delete(keep, d.DeploymentID)
				continue
			}
			if err := tx.Where("platform_id = ? AND deployment_id = ?", p.ID, d.DeploymentID).Delete(&deploymentRow{}).Error; err != nil {
				return err
			}
		}
		var added []string
		for _, d := range p.Deployments {
			if d = strings.TrimSpace(d); keep[d] {
				added = append(added, d)
				delete(keep, d)
			}
		}
		return addDeployments(tx, p.ID, added, now)
	})
	if err != nil {
		return Platform{}, err
	}
	return r.Get(ctx, p.ID)
}

// SetStatus approves (active), disables or re-enables a registration.
func (r *Registry) SetStatus(ctx context.Context, id, status string) error {
	switch status {
	case StatusActive, StatusPending, StatusDisabled:
	default:
		return roundtable.Errorf(roundtable.EINVALID, "status %q is not active, pending or disabled", status)
	}
	res := r.db.WithContext(ctx).Model(&Platform{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "updated_at": r.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("platform %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// RemoveDeployment unregisters one deployment: launches from it are
// refused from then on. What its courses hold stays.
func (r *Registry) RemoveDeployment(ctx context.Context, platformID, deploymentID string) error {
	res := r.db.WithContext(ctx).Where("platform_id = ? AND deployment_id = ?", platformID, deploymentID).Delete(&deploymentRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("deployment %q of platform %q: %w", deploymentID, platformID, store.ErrNotFound)
	}
	return nil
}

// Usage counts what a registration holds of its own (deployments, open
// sessions: removing it deletes them) and what its organisation holds
// (people, courses, activities: they stay when the registration is
// removed, and go only with the organisation).
type Usage struct {
	Deployments int64
	Sessions    int64

	OrgID         string
	OrgName       string
	Registrations int64 // of the organisation, this one included
	Courses       int64
	Users         int64
	ResourceLinks int64
}

// Usage counts the rows that belong to a registration and to its
// organisation.
func (r *Registry) Usage(ctx context.Context, id string) (Usage, error) {
	var u Usage
	if err := r.db.WithContext(ctx).Raw(`SELECT o.id AS org_id, o.name AS org_name FROM platforms p JOIN organisations o ON o.id = p.org_id
		WHERE p.id = ?`, id).Scan(&u).Error; err != nil {
		return Usage{}, err
	}
	for _, c := range []struct {
		query string
		arg   string
		n     *int64
	}{
		{`SELECT COUNT(*) FROM deployments WHERE platform_id = ?`, id, &u.Deployments},
		{`SELECT COUNT(*) FROM sessions WHERE platform_id = ?`, id, &u.Sessions},
		{`SELECT COUNT(*) FROM platforms WHERE org_id = ?`, u.OrgID, &u.Registrations},
		{`SELECT COUNT(*) FROM courses WHERE org_id = ?`, u.OrgID, &u.Courses},
		{`SELECT COUNT(*) FROM users WHERE org_id = ?`, u.OrgID, &u.Users},
		{`SELECT COUNT(*) FROM resource_links WHERE org_id = ?`, u.OrgID, &u.ResourceLinks},
	} {
		if err := r.db.WithContext(ctx).Raw(c.query, c.arg).Scan(c.n).Error; err != nil {
			return Usage{}, err
		}
	}
	return u, nil
}

// TouchInterval is how often TouchLaunch writes a platform's last launch
// time at most, per process.
const TouchInterval = time.Minute

// touchLog remembers when this registry last wrote each platform's
// last_launch_at.
type touchLog struct {
	sync.Mutex
	at map[string]time.Time
}

// TouchLaunch records that a platform launched, for the admin's health
// view. It writes at most once per TouchInterval per platform and process,
// so a class launching together does not queue on the platform's row. Call
// it after the launch's transaction has committed, never inside it.
func (r *Registry) TouchLaunch(ctx context.Context, platformID string) error {
	now := r.Now().UTC()
	if !r.touches.claim(platformID, now, TouchInterval) {
		return nil
	}
	err := r.db.WithContext(ctx).Exec(`UPDATE platforms SET last_launch_at = ? WHERE id = ?`, now, platformID).Error
	if err != nil {
		// Let the next launch try again.
		r.touches.release(platformID, now)
	}
	return err
}
