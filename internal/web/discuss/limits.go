package discuss

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Per-person write limits: how many upvotes, accepted answers,
// endorsements, edits, flags and follows one person makes in a minute,
// each kind on its own (posting has its own count in the discussion
// store). Each write re-scores someone or keeps an earlier version, so a
// script must not make thousands. A token bucket per person and kind
// counts them, as big as the minute's limit and refilled over the minute
// on the handlers' clock (kit.Base.Now), in this process's memory (with
// several replicas a person may reach the limit on each).

// writeLimiter is one kind's limit.
type writeLimiter struct {
	perMinute int

	mu sync.Mutex
	// people holds each person's bucket, forgotten once unused for
	// writeLimitKept.
	people map[string]*writeBucket
	swept  time.Time
}

type writeBucket struct {
	tokens *rate.Limiter
	seen   time.Time
}

// writeLimitKept is how long an unused bucket is kept: long enough to
// have refilled.
const writeLimitKept = 3 * time.Minute

// allow takes one of key's tokens at now, if there is one.
func (l *writeLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.people {
			if now.Sub(b.seen) > writeLimitKept {
				delete(l.people, k)
			}
		}
		l.swept = now
	}
	b := l.people[key]
	if b == nil {
		b = &writeBucket{tokens: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.people[key] = b
	}
	b.seen = now
	return b.tokens.AllowN(now, 1)
}

// writeLimits holds a limiter per kind of write; a kind without one has no
// limit.
type writeLimits map[string]*writeLimiter

// newWriteLimits builds the limiters of limits (per minute; a kind missing
// takes its default, 0 is no limit).
func newWriteLimits(limits map[string]int) writeLimits {
	out := writeLimits{}
	for _, kind := range discussion.WriteKinds {
		if kind == discussion.WritePost {
			continue // the discussion store counts posts
		}
		n, ok := limits[kind]
		if !ok {
			n = discussion.DefaultWriteLimits[kind]
		}
		if n <= 0 {
			continue
		}
		out[kind] = &writeLimiter{perMinute: n, people: map[string]*writeBucket{}}
	}
	return out
}

// writeNouns name each kind of write in a refusal.
var writeNouns = map[string]string{
	discussion.WriteVote: "upvotes", discussion.WriteAccept: "accepted answers", discussion.WriteEndorse: "endorsements",
	discussion.WriteEdit: "edits", discussion.WriteFlag: "flags", discussion.WriteFollow: "follows",
	discussion.WriteUpload: "files",
}

// allowWrite counts a write of kind by the session's person and refuses
// it (ELIMITED, with a Retry-After) past the kind's limit.
func (s *Handlers) allowWrite(c echo.Context, kind string) error {
	l, ok := s.writeLimits[kind]
	if !ok {
		return nil
	}
	sess := c.Get(kit.CtxSession).(session.Session)
	if l.allow(sess.OrgID+"/"+sess.UserID, s.Now()) {
		return nil
	}
	// One write comes back every 60/n seconds.
	wait := int(math.Ceil(60 / float64(l.perMinute)))
	c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	s.Logger.InfoContext(context.WithoutCancel(c.Request().Context()), "write limit reached", slog.String("kind", kind),
		slog.String("platform", sess.PlatformID), slog.String("user", sess.UserID), slog.Int("per_minute", l.perMinute))
	return roundtable.Errorf(roundtable.ELIMITED, "That was too fast: Roundtable takes at most %d %s a minute from one person. Wait %d %s, then try again.",
		l.perMinute, writeNouns[kind], wait, map[bool]string{true: "second", false: "seconds"}[wait == 1])
}
