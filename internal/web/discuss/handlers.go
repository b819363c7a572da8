//go:generate go tool templ generate

// Package discuss is the discussion's pages: the list, threads and posts,
// moderation, search and suggestions, notifications, participation, the
// fragments and live events that keep open pages current, and the
// discussions of other spaces a session reaches.
package discuss

import (
	"context"

	"github.com/labstack/echo/v4"
	"github.com/roundtable-lms/roundtable/internal/course"

	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Handlers serve the discussion's pages.
type Handlers struct {
	*kit.Base
	// Live carries live updates to the pages of a cohort (nil: none).
	Live live.Bus
	// Streams ends when the app shuts down: live event streams end with
	// it, so a graceful shutdown does not wait on them.
	Streams context.Context
	// LiveLimits bounds the open live event streams (zero: no bound).
	LiveLimits LiveLimits

	// openStreams counts the live event streams against LiveLimits.
	openStreams streamCounts
	// writeLimits bounds each person's votes, accepts, endorsements,
	// edits, flags and follows.
	writeLimits writeLimits
	// composer bounds each person's previews and completions.
	composer composerLimits
	// Files are the images and files in posts.
	Files Files
	// KindHomes are the pages of activities of other kinds than the
	// discussion's, by kind: the activity's address opens them.
	KindHomes map[string]func(echo.Context, course.Activity) error
}

// New builds the discussion's handlers; writeLimits is how many writes of
// each kind one person may make in a minute (see newWriteLimits).
func New(base *kit.Base, bus live.Bus, streams context.Context, liveLimits LiveLimits, writeLimits map[string]int) *Handlers {
	return &Handlers{Base: base, Live: bus, Streams: streams, LiveLimits: liveLimits, writeLimits: newWriteLimits(writeLimits), composer: newComposerLimits()}
}
