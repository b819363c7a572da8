package course

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Placement is an activity an instructor placed through deep linking: the
// settings its LMS link adopts on its first launch.
type Placement struct {
	PlatformID   string
	ID           string
	DeploymentID string
	ContextKey   string
	Title        string
	// Settings hold the activity's options; their PlatformID and LinkID
	// are unused here.
	Settings  Settings
	CreatedBy string
	CreatedAt time.Time
}

// MaxPlacementTitle bounds a placement's title, as LMSs bound link titles.
const MaxPlacementTitle = 200

// PlacementRequest is a deep linking request being answered: what the LMS
// asked for, kept server side. Lists are as the LMS sent them.
type PlacementRequest struct {
	PlatformID     string
	DeploymentID   string
	ContextKey     string
	ContextTitle   string
	Subject        string
	UserName       string
	ReturnURL      string
	Data           string
	AcceptTypes    []string
	AcceptTargets  []string
	AcceptMultiple bool
	AcceptLineItem bool
	AutoCreate     bool
	Title          string
	Text           string
	// Placed are the ids of the placements chosen so far.
	Placed    []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PlacementRequestTTL bounds how long an instructor may take choosing.
const PlacementRequestTTL = time.Hour

func hashRequestSecret(secret string) string {
	sum := sha256.Sum256([]byte("deep link request\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// OpenPlacementRequest stores a request inside tx, the caller's
// transaction (the launch uses up its login state in it), and returns the
// secret that names it; only the secret's hash is stored.
func (s *Store) OpenPlacementRequest(ctx context.Context, tx *gorm.DB, r PlacementRequest) (string, error) {
	if r.PlatformID == "" || r.DeploymentID == "" || r.Subject == "" || r.ReturnURL == "" {
		return "", roundtable.Errorf(roundtable.EINVALID, "a deep linking request needs a platform, a deployment, a person and a return URL")
	}
	secret := rand.Text() + rand.Text()
	now := s.Now().UTC()
	err := tx.WithContext(ctx).Exec(`INSERT INTO deep_link_requests (id_hash, platform_id, deployment_id, context_key, context_title, subject, user_name,
			return_url, data, accept_types, accept_targets, accept_multiple, accept_lineitem, auto_create, title, text, placed, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
		hashRequestSecret(secret), r.PlatformID, Clip(r.DeploymentID, 255), Clip(r.ContextKey, 255), Clip(r.ContextTitle, maxTitle),
		Clip(r.Subject, 255), Clip(r.UserName, maxName), Clip(r.ReturnURL, maxURL), Clip(r.Data, maxText),
		Clip(strings.Join(r.AcceptTypes, " "), maxText), Clip(strings.Join(r.AcceptTargets, " "), maxText),
		r.AcceptMultiple, r.AcceptLineItem, r.AutoCreate, Clip(r.Title, maxTitle), Clip(r.Text, maxText), now, now.Add(PlacementRequestTTL)).Error
	if err != nil {
		return "", fmt.Errorf("open deep linking request: %w", err)
	}
	return secret, nil
}

// errNoRequest is what a person sees for a used, expired or made-up request.
var errNoRequest = roundtable.Errorf(roundtable.ENOTFOUND, "This page to add an activity has expired or was already used. Please start again from your course.")

const requestColumns = `platform_id, deployment_id, context_key, context_title, subject, user_name, return_url, data,
	accept_types, accept_targets, accept_multiple, accept_lineitem, auto_create, title, text, placed, created_at, expires_at`

func scanRequest(row interface{ Scan(...any) error }) (PlacementRequest, error) {
	var r PlacementRequest
	var types, targets, placed string
	err := row.Scan(&r.PlatformID, &r.DeploymentID, &r.ContextKey, &r.ContextTitle, &r.Subject, &r.UserName, &r.ReturnURL, &r.Data,
		&types, &targets, &r.AcceptMultiple, &r.AcceptLineItem, &r.AutoCreate, &r.Title, &r.Text, &placed, &r.CreatedAt, &r.ExpiresAt)
	r.AcceptTypes, r.AcceptTargets, r.Placed = strings.Fields(types), strings.Fields(targets), strings.Fields(placed)
	return r, err
}

// PlacementRequest finds the live request a secret names.
func (s *Store) PlacementRequest(ctx context.Context, secret string) (PlacementRequest, error) {
	if secret == "" || len(secret) > 100 {
		return PlacementRequest{}, errNoRequest
	}
	r, err := scanRequest(s.db.QueryRow(ctx, `SELECT `+requestColumns+` FROM deep_link_requests WHERE id_hash = ? AND expires_at > ?`,
		hashRequestSecret(secret), s.Now().UTC()))
	if errors.Is(err, sql.ErrNoRows) {
		return PlacementRequest{}, errNoRequest
	}
	if err != nil {
		return PlacementRequest{}, fmt.Errorf("read deep linking request: %w", err)
	}
	return r, nil
}

// validatePlacement checks a placement as the instructor's form sends it.
func validatePlacement(p *Placement) error {
	p.Title = strings.TrimSpace(p.Title)
	if p.Title == "" {
		return roundtable.Errorf(roundtable.EINVALID, "Give the activity a title: learners see it in the course.")
	}
	if len([]rune(p.Title)) > MaxPlacementTitle {
		return roundtable.Errorf(roundtable.EINVALID, "The title can be at most %d characters.", MaxPlacementTitle)
	}
	return p.Settings.Validate()
}

// AddPlacement validates p and stores it as one of the request's chosen
// placements, in one transaction; it returns the stored placement. A
// request that takes one item only keeps only the latest.
func (s *Store) AddPlacement(ctx context.Context, secret string, p Placement) (Placement, error) {
	if err := validatePlacement(&p); err != nil {
		return Placement{}, err
	}
	// Two choices added at once must both be kept: on Postgres the row is
	// locked; SQLite's transactions take the write lock as they begin.
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = " FOR UPDATE"
	}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		r, err := scanRequest(tx.Raw(`SELECT `+requestColumns+` FROM deep_link_requests WHERE id_hash = ? AND expires_at > ?`+lock,
			hashRequestSecret(secret), s.Now().UTC()).Row())
		if errors.Is(err, sql.ErrNoRows) {
			return errNoRequest
		}
		if err != nil {
			return fmt.Errorf("read deep linking request: %w", err)
		}
		p.PlatformID, p.DeploymentID, p.ContextKey, p.CreatedBy = r.PlatformID, r.DeploymentID, r.ContextKey, r.Subject
		p.ID, p.CreatedAt = newID(), s.Now().UTC()
		st := &p.Settings
		doc, err := st.encodeOptions()
		if err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO placements (platform_id, id, deployment_id, context_key, title, kind, instructions, cohort_policy, group_size,
				graded, points, options, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.PlatformID, p.ID, p.DeploymentID, p.ContextKey, p.Title, st.Kind, st.Instructions, st.CohortPolicy, st.GroupSize,
			st.Graded, st.Points, doc, p.CreatedBy, p.CreatedAt).Error; err != nil {
			return fmt.Errorf("store placement: %w", err)
		}
		placed := append(r.Placed, p.ID)
		if !r.AcceptMultiple {
			placed = []string{p.ID}
		}
		return tx.Exec(`UPDATE deep_link_requests SET placed = ? WHERE id_hash = ?`, strings.Join(placed, " "), hashRequestSecret(secret)).Error
	})
	if err != nil {
		return Placement{}, err
	}
	return p, nil
}

// FinishPlacementRequest uses up a request and returns it with its chosen
// placements, in the order they were chosen. Of two concurrent calls, one
// gets the request and the other a not-found error.
func (s *Store) FinishPlacementRequest(ctx context.Context, secret string) (PlacementRequest, []Placement, error) {
	var r PlacementRequest
	var out []Placement
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		r, err = scanRequest(tx.Raw(`SELECT `+requestColumns+` FROM deep_link_requests WHERE id_hash = ? AND expires_at > ?`,
			hashRequestSecret(secret), s.Now().UTC()).Row())
		if errors.Is(err, sql.ErrNoRows) {
			return errNoRequest
		}
		if err != nil {
			return fmt.Errorf("read deep linking request: %w", err)
		}
		res := tx.Exec(`DELETE FROM deep_link_requests WHERE id_hash = ?`, hashRequestSecret(secret))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errNoRequest
		}
		for _, id := range r.Placed {
			p, err := placementIn(ctx, tx.Statement.ConnPool, s, r.PlatformID, id)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return r, out, err
}

// DeletePlacements removes placements nobody linked to (a cancelled choice).
func (s *Store) DeletePlacements(ctx context.Context, platformID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.db.WithContext(ctx).Exec(`DELETE FROM placements WHERE platform_id = ? AND id IN ?`, platformID, ids).Error
}

// Placement reads a placement of the platform; another platform's id is
// not found.
func (s *Store) Placement(ctx context.Context, platformID, id string) (Placement, error) {
	return placementIn(ctx, s.db.SQL, s, platformID, id)
}

func placementIn(ctx context.Context, db gorm.ConnPool, s *Store, platformID, id string) (Placement, error) {
	p := Placement{PlatformID: platformID, ID: id}
	st := &p.Settings
	err := db.QueryRowContext(ctx, s.db.Rebind(`SELECT deployment_id, context_key, title, kind, instructions, cohort_policy, group_size,
			graded, points, options, created_by, created_at
		FROM placements WHERE platform_id = ? AND id = ?`), platformID, id).
		Scan(&p.DeploymentID, &p.ContextKey, &p.Title, &st.Kind, &st.Instructions, &st.CohortPolicy, &st.GroupSize,
			&st.Graded, &st.Points, optionsDest{st}, &p.CreatedBy, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Placement{}, roundtable.Errorf(roundtable.ENOTFOUND, "No such placement.")
	}
	if err != nil {
		return Placement{}, fmt.Errorf("read placement: %w", err)
	}
	return p, nil
}

// ContextHistoryParam is the custom parameter Roundtable asks every LMS to
// fill with $Context.id.history (LTI's list of the courses a course was
// copied from, most recent first), so that a placed link's first launch in
// a copied course can tell a copy from another course.
const ContextHistoryParam = "context_id_history"

// AdoptableBy reports whether the first launch of a link may take this
// placement's settings: only a launch from the deployment the placement
// was made in (another deployment may be another customer of the same
// LMS), and only in the course it was made for. A copied course has a new
// context id; it is the course the placement was made for when the LMS
// says it was copied from it ($Context.id.history, see
// ContextHistoryParam). When the LMS does not say (it sends no history, or
// the variable unsubstituted, or a list it cut short), a course of the same
// deployment is taken for a copy, as copies have always been: the LMS
// gives no other way to tell them apart. An LMS that sends the history for
// every launch of the tool (Roundtable asks for it at registration) thus
// keeps a placement id replayed in another course from being adopted.
func (p Placement) AdoptableBy(in LaunchInput) bool {
	if p.DeploymentID != Clip(in.DeploymentID, 255) {
		return false
	}
	if p.ContextKey == Clip(in.ContextID, 255) {
		return true
	}
	raw, sent := in.Custom[ContextHistoryParam]
	raw = strings.TrimSpace(raw)
	if !sent || strings.HasPrefix(raw, "$") {
		return true
	}
	for _, id := range strings.Split(raw, ",") {
		id = strings.TrimSpace(id)
		if id == "truncated" || (id != "" && Clip(id, 255) == p.ContextKey) {
			return true
		}
	}
	return false
}

// DeleteExpiredPlacementRequests removes abandoned requests.
func (s *Store) DeleteExpiredPlacementRequests(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM deep_link_requests WHERE expires_at < ?`, s.Now().UTC())
	return res.RowsAffected, res.Error
}
