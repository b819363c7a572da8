package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Refresh settings: a course's roster is read again once a day; each tick
// syncs a bounded number of courses, one at a time, so an LMS sees no burst.
const (
	RefreshEvery = 24 * time.Hour
	tickEvery    = 10 * time.Minute
	perTick      = 20
	perCourse    = 2 * time.Minute
)

type dueCourse struct{ orgID, courseID string }

// due lists up to limit courses of active platforms whose roster was last
// attempted before cutoff (or never) and that have an NRPS URL, oldest
// first.
func (s *Service) due(ctx context.Context, cutoff time.Time, limit int) ([]dueCourse, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT c.org_id, c.id FROM courses c
		JOIN platforms p ON p.id = c.platform_id AND p.status = 'active'
		LEFT JOIN roster_syncs r ON r.org_id = c.org_id AND r.course_id = c.id AND r.link_id = ''
		WHERE (r.attempted_at IS NULL OR r.attempted_at < ?)
			AND EXISTS (SELECT 1 FROM resource_links l WHERE l.org_id = c.org_id AND l.course_id = c.id AND l.nrps_url <> '')
		ORDER BY r.attempted_at IS NOT NULL, r.attempted_at
		LIMIT ?`, cutoff, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("roster: list due courses: %w", err)
	}
	defer rows.Close()
	var out []dueCourse
	for rows.Next() {
		var d dueCourse
		if err := rows.Scan(&d.orgID, &d.courseID); err != nil {
			return nil, fmt.Errorf("roster: list due courses: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claim marks a due course as attempted now, unless another replica did
// since it was listed: only the replica whose write lands syncs it.
func (s *Service) claim(ctx context.Context, d dueCourse, now, cutoff time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`INSERT INTO roster_syncs (org_id, course_id, link_id, attempted_at) VALUES (?, ?, '', ?)
		ON CONFLICT (org_id, course_id, link_id) DO UPDATE SET attempted_at = excluded.attempted_at
		WHERE roster_syncs.attempted_at < ?`, d.orgID, d.courseID, now, cutoff)
	if res.Error != nil {
		return false, fmt.Errorf("roster: claim course: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RefreshDue syncs up to limit courses whose roster is older than
// maxAge, one after the other; it returns how many it synced. A course
// that fails is logged with its platform and recorded, and the next one
// goes on.
func (s *Service) RefreshDue(ctx context.Context, maxAge time.Duration, limit int) (int, error) {
	now := s.Now().UTC()
	cutoff := now.Add(-maxAge)
	list, err := s.due(ctx, cutoff, limit)
	if err != nil {
		return 0, err
	}
	synced := 0
	for _, d := range list {
		if ctx.Err() != nil {
			return synced, ctx.Err()
		}
		ok, err := s.claim(ctx, d, now, cutoff)
		if err != nil {
			return synced, err
		}
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, perCourse)
		res, err := s.SyncCourse(cctx, d.orgID, d.courseID)
		cancel()
		if err != nil {
			var se *SyncError
			level := slog.LevelError
			if errors.As(err, &se) {
				level = slog.LevelWarn
			}
			s.logger.Log(ctx, level, "roster refresh failed", slog.String("organisation", d.orgID), slog.String("course", d.courseID), slog.Any("error", err))
			continue
		}
		synced++
		s.logger.DebugContext(ctx, "roster refreshed", slog.String("organisation", d.orgID), slog.String("course", d.courseID),
			slog.Int("members", res.Members), slog.Int("added", res.Added), slog.Int("deactivated", res.Deactivated))
	}
	return synced, nil
}

// Run refreshes due rosters every few minutes until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.tick(ctx)
	}
}

// tick is one round of refreshes; a fault in it is logged, never fatal.
func (s *Service) tick(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("roster refresh panicked", slog.Any("panic", r))
		}
	}()
	if _, err := s.RefreshDue(ctx, RefreshEvery, perTick); err != nil && ctx.Err() == nil {
		s.logger.Warn("roster refresh stopped early", slog.Any("error", err))
	}
}
