package discussion

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Completion of what a person types in a post: @names of the cohort's
// members and #tags of its threads.

// MaxCompletions bounds how many candidates one completion returns.
const MaxCompletions = 8

// MentionCandidate is a member of the viewer's cohort who may be
// mentioned: their name as posts show it, and the handle that mentions
// them (see handles).
type MentionCandidate struct {
	Name   string `json:"name"`
	Handle string `json:"handle"`
}

// handleOK is a handle a mention matches whole (see mentionName).
var handleOK = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._-]{0,39}$`)

// mentionHandle is the handle to write for a member: their full name
// joined by dots (the likeliest to name them alone), else their given
// name or pseudonym; "" when none can be written as a mention.
func mentionHandle(name, given, family, pseudonym string) string {
	if name == "" {
		name = strings.TrimSpace(given + " " + family)
	}
	for _, h := range []string{strings.Join(strings.Fields(name), "."), given, pseudonym} {
		if h = strings.ToLower(strings.TrimSpace(h)); handleOK.MatchString(h) {
			return h
		}
	}
	return ""
}

// likePrefix escapes a typed prefix for LIKE ... ESCAPE '\'.
func likePrefix(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
}

// MentionCandidates lists at most limit members of the viewer's cohort
// whose name, a word of it, or pseudonym starts with prefix, by name,
// the viewer left out. It says who is in the cohort, which every member
// may know, and nothing of who wrote what: anonymous posts stay so.
func (s *Store) MentionCandidates(ctx context.Context, v Viewer, prefix string, limit int) ([]MentionCandidate, error) {
	prefix = strings.TrimSpace(prefix)
	if v.CohortID == "" || prefix == "" || len([]rune(prefix)) > 40 {
		return nil, nil
	}
	if limit <= 0 || limit > MaxCompletions {
		limit = MaxCompletions
	}
	p := likePrefix(prefix)
	word := "% " + p
	// More rows than shown: some have no handle to write.
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT u.name, u.given_name, u.family_name, u.pseudonym
		FROM cohort_members cm JOIN users u ON u.org_id = cm.org_id AND u.id = cm.user_id
		WHERE cm.org_id = ? AND cm.cohort_id = ? AND cm.user_id <> ?
		AND (LOWER(u.name) LIKE ? ESCAPE '\' OR LOWER(u.name) LIKE ? ESCAPE '\' OR LOWER(u.given_name) LIKE ? ESCAPE '\'
			OR LOWER(u.family_name) LIKE ? ESCAPE '\' OR LOWER(u.pseudonym) LIKE ? ESCAPE '\')
		ORDER BY LOWER(COALESCE(NULLIF(u.name, ''), u.pseudonym)), u.id LIMIT ?`),
		v.OrgID, v.CohortID, v.UserID, p, word, p, p, p, limit*2)
	if err != nil {
		return nil, fmt.Errorf("mention candidates: %w", err)
	}
	defer rows.Close()
	var out []MentionCandidate
	for rows.Next() {
		var name, given, family, pseudonym string
		if err := rows.Scan(&name, &given, &family, &pseudonym); err != nil {
			return nil, fmt.Errorf("mention candidates: %w", err)
		}
		h := mentionHandle(name, given, family, pseudonym)
		if h == "" || len(out) == limit {
			continue
		}
		shown := name
		if shown == "" {
			shown = pseudonym
		}
		if shown == "" {
			shown = h
		}
		out = append(out, MentionCandidate{Name: shown, Handle: h})
	}
	return out, rows.Err()
}

// TagCandidates lists at most limit tags of the threads the viewer may
// see in the space that start with prefix, the most used first.
func (s *Store) TagCandidates(ctx context.Context, v Viewer, prefix string, limit int) ([]string, error) {
	prefix = strings.TrimSpace(strings.TrimPrefix(prefix, "#"))
	if prefix == "" || len(prefix) > MaxTagLen {
		return nil, nil
	}
	if limit <= 0 || limit > MaxCompletions {
		limit = MaxCompletions
	}
	where := ` WHERE g.org_id = ? AND g.space_id = ? AND g.tag LIKE ? ESCAPE '\'`
	args := []any{v.OrgID, v.SpaceID, likePrefix(prefix)}
	if !v.Staff {
		where += ` AND t.hidden = FALSE`
	}
	gate, gateArgs := othersGate(v)
	where += gate
	args = append(append(args, gateArgs...), limit)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT g.tag FROM thread_tags g
		JOIN threads t ON t.org_id = g.org_id AND t.id = g.thread_id AND t.space_id = g.space_id`+where+`
		GROUP BY g.tag ORDER BY COUNT(*) DESC, g.tag LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("tag candidates: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("tag candidates: %w", err)
		}
		out = append(out, tag)
	}
	return out, rows.Err()
}
