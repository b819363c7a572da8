package discuss

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

const (
	// liveHeartbeat is how often an idle stream sends a comment, so proxies
	// and load balancers do not close it and a vanished client is noticed.
	liveHeartbeat = 20 * time.Second
	// liveRetry is the reconnection delay suggested to browsers.
	liveRetry = 3 * time.Second
	// liveReplayMax bounds what a reconnecting stream replays; a page that
	// missed more gets a "missed" event and offers a reload.
	liveReplayMax = 100
	// liveClockSkew is how far replicas' clocks may disagree: a replay
	// reaches this far before its session began.
	liveClockSkew = time.Minute
)

// LiveEvents streams the session's space (its cohort in its activity) as
// Server-Sent Events. The session decides the topic: a member of one
// cohort or activity can never ask for another's. A browser that
// reconnects sends Last-Event-ID and gets what it missed; a page passes
// lastEventId for its first connection (see liveURL), so nothing published
// between the render and the connection is lost. Open streams are bounded
// (LiveLimits).
func (s *Handlers) LiveEvents(c echo.Context) error {
	if s.Live == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Live updates are not available.")
	}
	sess := c.Get(kit.CtxSession).(session.Session)
	release, refusal := s.openStreams.take(s.LiveLimits, c.RealIP(), sess.IDHash)
	if refusal != "" {
		return s.refuseStream(c, sess, refusal)
	}
	defer release()
	// requireSession has just checked the session.
	checked := s.Access.Now()
	req := c.Request()
	after := live.FromNow
	if id, ok := eventID(req.Header.Get("Last-Event-ID")); ok {
		after = id
	} else if id, ok := eventID(c.QueryParam("lastEventId")); ok {
		after = id
	}
	// The stream ends when the client goes away or the server shuts down;
	// http.Server.Shutdown would otherwise wait for it.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	if s.Streams != nil {
		defer context.AfterFunc(s.Streams, cancel)()
	}
	// The replay is the session's space's, since the session began (its
	// pages show what came before), and at most liveReplayMax events: a
	// page that missed more is told to reload.
	events, err := s.Live.SubscribeFrom(ctx, live.SpaceTopic(kit.SpaceIDOf(c)), live.Replay{After: after,
		Since: sess.CreatedAt.Add(-liveClockSkew), Max: liveReplayMax})
	if err != nil {
		return err
	}

	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for ordinary requests; a
	// stream lives until one side leaves. Heartbeats find dead clients.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", liveRetry.Milliseconds()); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	var buf strings.Builder
	for {
		buf.Reset()
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-events:
			if !ok {
				// Dropped for falling behind, or the bus closed: the browser
				// reconnects and resumes from its Last-Event-ID.
				return nil
			}
			writeEvent(&buf, e)
		case <-heartbeat.C:
			buf.WriteString(": keep-alive\n\n")
		}
		// A stream lives as long as its session holds: when the platform is
		// disabled, the member inactive or the cohort no longer theirs, it
		// ends, and the browser's reconnection gets the page that says why.
		if now := s.Access.Now(); now.Sub(checked) >= s.Access.CacheFor {
			if _, err := s.Access.Check(ctx, sess); err != nil {
				s.RefusedSession(c, sess, err)
				return nil
			}
			checked = now
		}
		if _, err := w.Write([]byte(buf.String())); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// LiveLimits bounds the open live event streams of this process: in all,
// per client address and per session (0: no bound). Each open stream holds
// a connection, a file descriptor, a goroutine and a subscription.
type LiveLimits struct {
	Total, PerAddress, PerSession int
}

// streamCounts counts the open live event streams.
type streamCounts struct {
	mu        sync.Mutex
	total     int
	byAddress map[string]int
	bySession map[string]int
	// warned is when each kind of refusal was last logged.
	warned map[string]time.Time
}

// Why take refuses a stream.
const (
	overTotal      = "total"
	overAddress    = "address"
	overSession    = "session"
	streamsRetryIn = 30 // seconds, in Retry-After
)

// take counts a new stream of session from address, or names the bound it
// would pass; release uncounts it.
func (sc *streamCounts) take(l LiveLimits, address, session string) (release func(), refusal string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case l.PerSession > 0 && sc.bySession[session] >= l.PerSession:
		return nil, overSession
	case l.PerAddress > 0 && sc.byAddress[address] >= l.PerAddress:
		return nil, overAddress
	case l.Total > 0 && sc.total >= l.Total:
		return nil, overTotal
	}
	if sc.bySession == nil {
		sc.bySession, sc.byAddress = map[string]int{}, map[string]int{}
	}
	sc.total++
	sc.byAddress[address]++
	sc.bySession[session]++
	var once sync.Once
	return func() {
		once.Do(func() {
			sc.mu.Lock()
			defer sc.mu.Unlock()
			sc.total--
			if sc.byAddress[address]--; sc.byAddress[address] <= 0 {
				delete(sc.byAddress, address)
			}
			if sc.bySession[session]--; sc.bySession[session] <= 0 {
				delete(sc.bySession, session)
			}
		})
	}, ""
}

// shouldWarn reports whether a refusal of this kind is worth a log line:
// one every ten seconds, however many are refused.
func (sc *streamCounts) shouldWarn(kind string, now time.Time) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if now.Sub(sc.warned[kind]) < 10*time.Second {
		return false
	}
	if sc.warned == nil {
		sc.warned = map[string]time.Time{}
	}
	sc.warned[kind] = now
	return true
}

// OpenLiveStreams is how many live event streams this process holds open.
func (s *Handlers) OpenLiveStreams() int {
	s.openStreams.mu.Lock()
	defer s.openStreams.mu.Unlock()
	return s.openStreams.total
}

// refuseStream answers a stream past a bound: 429 past a session's or an
// address's, 503 past the process's, with a Retry-After that live.js
// honours by waiting longer each time. A refusal is logged once every ten
// seconds, not once per request.
func (s *Handlers) refuseStream(c echo.Context, sess session.Session, refusal string) error {
	status, message := http.StatusTooManyRequests, "This activity is open in too many tabs or windows: live updates are off in this one. Close some of them; this page keeps working and tries again by itself."
	switch refusal {
	case overAddress:
		message = "Too many live connections come from your network: live updates are off on this page for now. The page keeps working and tries again by itself."
	case overTotal:
		status, message = http.StatusServiceUnavailable, "Live updates are busy right now. The page keeps working and tries again by itself in a moment."
	}
	if s.openStreams.shouldWarn(refusal, time.Now()) {
		s.Logger.WarnContext(c.Request().Context(), "live stream refused", slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("bound", refusal),
			slog.Int("open_streams", s.OpenLiveStreams()), slog.String("address", c.RealIP()), slog.String("platform", sess.PlatformID),
			slog.String("user", sess.UserID))
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(streamsRetryIn))
	heading := http.StatusText(status)
	return s.RenderPage(c, status, kit.ErrorView(kit.ErrorPage{L: s.Layout(heading), Heading: heading, Message: message,
		Reference: c.Response().Header().Get(echo.HeaderXRequestID)}))
}

// writeEvent writes one SSE message: the event's type as the SSE event
// name and the whole event as JSON data (one line: Publish compacts it).
func writeEvent(b *strings.Builder, e live.Event) {
	fmt.Fprintf(b, "id: %d\nevent: %s\ndata: {\"id\":%d,\"type\":%q,\"data\":%s,\"at\":%q}\n\n",
		e.ID, e.Type, e.ID, e.Type, e.Data, e.At.UTC().Format(time.RFC3339Nano))
}

func eventID(v string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return id, err == nil && id >= 0
}

// liveURL is the events URL of the session's activity for a page rendered
// now, carrying the session token when the page needs it and the newest
// event ID, so the page's first connection misses nothing. Set it as the
// layout's LiveSrc to turn live updates on:
//
//	l := s.SessionLayout(c, title)
//	l.LiveSrc = s.liveURL(c)
func (s *Handlers) liveURL(c echo.Context) string {
	if kit.ReachedSpace(c) {
		// The stream is the session's own space's; a space it reached
		// shows what changed on reload.
		return ""
	}
	sess := c.Get(kit.CtxSession).(session.Session)
	p := "/a/" + url.PathEscape(sess.LinkID) + "/events"
	if s.Live != nil {
		ctx := c.Request().Context()
		if id, err := s.Live.Latest(ctx, live.SpaceTopic(kit.SpaceIDOf(c))); err == nil {
			p += "?lastEventId=" + strconv.FormatInt(id, 10)
		} else {
			s.Logger.WarnContext(ctx, "cannot read the newest live event", slog.Any("error", err))
		}
	}
	return s.SessionLayout(c, "").URL(p)
}

// publishSpace announces a change to everyone watching the space (its
// live topic: another activity of the course, or another cohort, is
// another space and topic). Call it after the change has committed; a
// failure is logged, not returned, since the change itself succeeded and
// pages still show it on reload.
func (s *Handlers) publishSpace(ctx context.Context, spaceID string, typ string, data any) {
	if s.Live == nil {
		return
	}
	if _, err := s.Live.Publish(ctx, live.SpaceTopic(spaceID), typ, data); err != nil {
		s.Logger.WarnContext(ctx, "cannot publish a live event", slog.String("type", typ), slog.Any("error", err))
	}
}
