package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// sseMessage is one Server-Sent Events message as a browser parses it.
type sseMessage struct {
	ID, Event, Data string
	Retry           string
	Comment         bool
}

// sseStream reads a response body as SSE messages in the background.
type sseStream struct {
	resp *http.Response
	msgs chan sseMessage
}

func openStream(t *testing.T, client *http.Client, rawURL, lastEventID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &sseStream{resp: resp, msgs: make(chan sseMessage, 100)}
	if resp.StatusCode != http.StatusOK {
		close(s.msgs)
		return s
	}
	go func() {
		defer close(s.msgs)
		r := bufio.NewReader(resp.Body)
		var m sseMessage
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				s.msgs <- m
				m = sseMessage{}
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				m.Comment = true
			case "id":
				m.ID = value
			case "event":
				m.Event = value
			case "data":
				m.Data = value
			case "retry":
				m.Retry = value
			}
		}
	}()
	return s
}

// next returns the next event (skipping the retry hint and comments).
func (s *sseStream) next(t *testing.T) sseMessage {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				t.Fatal("the stream ended")
			}
			if m.Event != "" || m.Data != "" {
				return m
			}
		case <-timeout:
			t.Fatal("no event within 5 s")
		}
	}
}

// none checks that no event arrives for a moment.
func (s *sseStream) none(t *testing.T) {
	t.Helper()
	timeout := time.After(300 * time.Millisecond)
	for {
		select {
		case m, ok := <-s.msgs:
			if ok && (m.Event != "" || m.Data != "") {
				t.Fatalf("unexpected event %+v", m)
			}
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

// launchToken launches user into the seeded discussion and returns the
// activity's path, the cookie-less session token and the session.
func launchToken(t *testing.T, env *apptest.Env, user string) (string, string, session.Session) {
	t.Helper()
	_, res := env.Launch(t, user, nil)
	return tokenOf(t, env, res)
}

func tokenOf(t *testing.T, env *apptest.Env, res *ltiplatform.Result) (string, string, session.Session) {
	t.Helper()
	u, err := url.Parse(res.URL)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("launch ended at %s with %d", res.URL, res.StatusCode)
	}
	tok := u.Query().Get("rt")
	sess, err := env.App.Sessions.FromToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path, tok, sess
}

func publishTo(t *testing.T, bus live.Bus, topic, typ string, n int) []live.Event {
	t.Helper()
	var evs []live.Event
	for i := range n {
		e, err := bus.Publish(context.Background(), topic, typ, map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

func TestLiveEventsStreamTheCohort(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		path, tok, sess := launchToken(t, env, apptest.Learner)
		topic := activityTopic(t, env, sess)
		bus := env.App.Live
		before := publishTo(t, bus, topic, "post.created", 3)
		eventsURL := env.App.URL(path+"/events") + "?rt=" + url.QueryEscape(tok)

		// Resume after the first: the second and third, then new ones.
		s := openStream(t, http.DefaultClient, eventsURL, strconv.FormatInt(before[0].ID, 10))
		h := s.resp.Header
		if s.resp.StatusCode != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") ||
			h.Get("Cache-Control") != "no-store" || h.Get("X-Accel-Buffering") != "no" {
			t.Fatalf("status %d, headers %v", s.resp.StatusCode, h)
		}
		first := <-s.msgs
		if first.Retry == "" {
			t.Errorf("the stream does not start with a retry hint: %+v", first)
		}
		for _, want := range before[1:] {
			m := s.next(t)
			if m.ID != strconv.FormatInt(want.ID, 10) || m.Event != "post.created" {
				t.Fatalf("got %+v, want id %d", m, want.ID)
			}
			var ev struct {
				ID   int64
				Type string
				Data struct{ N int }
				At   time.Time
			}
			if err := json.Unmarshal([]byte(m.Data), &ev); err != nil || ev.ID != want.ID || ev.Type != "post.created" || ev.At.IsZero() {
				t.Fatalf("data %s: %v", m.Data, err)
			}
		}
		// Another space's (another cohort's) events never show.
		publishTo(t, bus, live.SpaceTopic("another-space"), "post.created", 1)
		s.none(t)
		more := publishTo(t, bus, topic, "vote", 1)
		if m := s.next(t); m.ID != strconv.FormatInt(more[0].ID, 10) || m.Event != "vote" {
			t.Fatalf("live event %+v", m)
		}

		// A first connection with lastEventId in the URL, as a page passes it.
		s2 := openStream(t, http.DefaultClient, eventsURL+"&lastEventId="+strconv.FormatInt(before[2].ID, 10), "")
		if m := s2.next(t); m.ID != strconv.FormatInt(more[0].ID, 10) {
			t.Fatalf("lastEventId: got %+v, want %d", m, more[0].ID)
		}
		// Without any: only what comes next.
		s3 := openStream(t, http.DefaultClient, eventsURL, "")
		s3.none(t)
		last := publishTo(t, bus, topic, "post.updated", 1)
		if m := s3.next(t); m.ID != strconv.FormatInt(last[0].ID, 10) {
			t.Fatalf("from now: got %+v, want %d", m, last[0].ID)
		}

		// The session cookie works as well as the token (EventSource sends
		// cookies).
		b, res := env.Launch(t, apptest.Learner2, nil)
		p2, _, _ := tokenOf(t, env, res)
		s4 := openStream(t, b.HTTPClient(), env.App.URL(p2+"/events"), strconv.FormatInt(last[0].ID-1, 10))
		if s4.resp.StatusCode != 200 {
			t.Fatalf("with the cookie: %d", s4.resp.StatusCode)
		}
		if m := s4.next(t); m.ID != strconv.FormatInt(last[0].ID, 10) {
			t.Fatalf("with the cookie: got %+v", m)
		}
	})
}

func TestLiveEventsRefuseOtherActivities(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		path, _, _ := launchToken(t, env, apptest.Learner)
		// Bob in another course's activity: his session is for that one.
		b := ltiplatform.NewBrowser()
		res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Learner2, ResourceLinkID: apptest.LooseLinkID})
		if err != nil {
			t.Fatal(err)
		}
		otherPath, otherTok, _ := tokenOf(t, env, res)
		if otherPath == path {
			t.Fatal("the two activities share a path")
		}
		for name, s := range map[string]*sseStream{
			"token":   openStream(t, http.DefaultClient, env.App.URL(path+"/events")+"?rt="+url.QueryEscape(otherTok), ""),
			"cookie":  openStream(t, b.HTTPClient(), env.App.URL(path+"/events"), ""),
			"nothing": openStream(t, http.DefaultClient, env.App.URL(path+"/events"), ""),
		} {
			if s.resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s of another activity: %d", name, s.resp.StatusCode)
			}
		}
		// His own activity's stream works.
		if s := openStream(t, http.DefaultClient, env.App.URL(otherPath+"/events")+"?rt="+url.QueryEscape(otherTok), ""); s.resp.StatusCode != 200 {
			t.Errorf("own activity: %d", s.resp.StatusCode)
		}
	})
}

func TestLiveStreamsEndOnShutdown(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		path, tok, _ := launchToken(t, env, apptest.Learner)
		var streams []*sseStream
		for range 3 {
			s := openStream(t, http.DefaultClient, env.App.URL(path+"/events")+"?rt="+url.QueryEscape(tok), "")
			if s.resp.StatusCode != 200 {
				t.Fatalf("stream: %d", s.resp.StatusCode)
			}
			<-s.msgs // the retry hint: the handler is streaming
			streams = append(streams, s)
		}
		start := time.Now()
		if err := env.App.Shutdown(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("shutdown with open streams took %v", took)
		}
		for _, s := range streams {
			select {
			case _, ok := <-s.msgs:
				for ok {
					_, ok = <-s.msgs
				}
			case <-time.After(2 * time.Second):
				t.Fatal("a stream stays open after shutdown")
			}
		}
	})
}

// A stream outlives the server's read and write timeouts, which are for
// ordinary requests.
func TestLiveStreamOutlivesServerTimeouts(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	path, tok, sess := launchToken(t, env, apptest.Learner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: env.App.Web.Handler(), ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s := openStream(t, http.DefaultClient, "http://"+ln.Addr().String()+path+"/events?rt="+url.QueryEscape(tok), "")
	if s.resp.StatusCode != 200 {
		t.Fatalf("stream: %d", s.resp.StatusCode)
	}
	time.Sleep(600 * time.Millisecond)
	e := publishTo(t, env.App.Live, activityTopic(t, env, sess), "post.created", 1)
	if m := s.next(t); m.ID != strconv.FormatInt(e[0].ID, 10) {
		t.Fatalf("got %+v", m)
	}
}

// A learner watching a second activity of the course never receives the
// first's events, neither live nor replayed from Last-Event-ID: 0; the
// second's own events arrive. A replay is bounded: a page that missed more
// than a hundred events is told so, once.
func TestLiveEventsStayInTheirActivity(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-second", nil)
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "First activity's question", "Only for the first activity.", nil)

		bob := launchAs(t, env, apptest.Learner2, ltiplatform.LaunchRequest{ResourceLinkID: "link-second"})
		second := linkOf(bob.res.URL)
		s := openStream(t, http.DefaultClient, second+"/events?rt="+url.QueryEscape(bob.rt), "0")
		if s.resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d", s.resp.StatusCode)
		}
		s.none(t)
		alice.home()
		alice.ask("question", "Another first-activity question", "Still the first activity.", nil)
		s.none(t)

		// In the second activity, the same cohort's news arrives.
		aliceSecond := launchAs(t, env, apptest.Learner, ltiplatform.LaunchRequest{ResourceLinkID: "link-second"})
		aliceSecond.ask("question", "Second activity's question", "For the second activity.", nil)
		_, threadID := spaceOf(t, aliceSecond.res.URL)
		if m := s.next(t); m.Event != "thread.created" || !strings.Contains(m.Data, threadID) {
			t.Errorf("second activity's event: %+v", m)
		}

		// More than the bound missed: a "missed" event, then the newest.
		sess, err := env.App.Sessions.FromToken(context.Background(), bob.rt)
		if err != nil {
			t.Fatal(err)
		}
		evs := publishTo(t, env.App.Live, activityTopic(t, env, sess), "vote", 150)
		replay := openStream(t, http.DefaultClient, second+"/events?rt="+url.QueryEscape(bob.rt), "0")
		if m := replay.next(t); m.Event != "missed" {
			t.Fatalf("a replay of 151 events starts with %+v", m)
		}
		var n int
		var last sseMessage
		for n < 100 {
			last = replay.next(t)
			n++
		}
		if last.ID != strconv.FormatInt(evs[len(evs)-1].ID, 10) {
			t.Errorf("the replay ends at %s, want %d", last.ID, evs[len(evs)-1].ID)
		}
		replay.none(t)
	})
}
