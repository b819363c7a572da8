package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// notificationsOf opens m's notifications page and returns each one's kind and text.
func (m *member) notificationsOf() (kinds, texts []string) {
	m.t.Helper()
	m.follow("[data-testid=notifications-link]")
	m.page.Find("[data-testid=notification]").Each(func(_ int, s *goquery.Selection) {
		kinds = append(kinds, s.AttrOr("data-kind", ""))
		texts = append(texts, strings.TrimSpace(s.Find("[data-testid=notification-link]").Text()))
	})
	return kinds, texts
}

func (m *member) badge() string {
	m.t.Helper()
	return strings.TrimSpace(m.page.Find("[data-testid=notifications-link]").Text())
}

func addLearner(t *testing.T, env *apptest.Env, id, name, given, family string) {
	t.Helper()
	must(t, env.Platform.AddUser(ltiplatform.User{ID: id, Name: name, GivenName: given, FamilyName: family, Email: id + "@example.edu"}))
	must(t, env.Platform.Enroll(apptest.CourseID, id, lti.RoleLearner))
}

func TestNotificationsReachTheRightPeople(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLearner(t, env, "learner-sam-park", "Sam Park", "Sam", "Park")
		addLearner(t, env, "learner-sam-ortiz", "Sam Ortiz", "Sam", "Ortiz")
		alice := join(t, env, apptest.Learner)
		bob := join(t, env, apptest.Learner2)
		ines := join(t, env, apptest.Instructor)
		park := join(t, env, "learner-sam-park")
		ortiz := join(t, env, "learner-sam-ortiz")

		// A mention of Bob, of Sam Park by his full name, of an ambiguous
		// "Sam", of Alice herself and, in code, of Ines: Bob and Sam Park only.
		alice.ask("question", "Ladder safety", "Any advice @Bob? And @SamPark, @Sam, @Alice? `@Ines`", nil)
		threadURL := alice.res.URL
		ines.get(threadURL)
		ines.submit("form:has([data-testid=follow])", nil)

		// Bob answers anonymously: Alice is told, by "Anonymous learner";
		// Ines, who follows, sees his name.
		bob.get(threadURL)
		bob.submit("#reply form", map[string]string{"body": "Check the ladder feet.", "anonymous": "1"})
		// Alice answers Bob's reply; then accepts it.
		alice.get(threadURL)
		alice.follow("#post-" + postSel(alice.page, "ladder feet").AttrOr("id", "")[5:] + " a:contains('Reply')")
		alice.reply("Thanks, will do.")
		alice.postAction("ladder feet", "accept")

		bob.get(threadURL)
		if got := bob.badge(); got != "Notifications (3)" {
			t.Errorf("bob's header says %q, want Notifications (3)", got)
		}
		kinds, texts := bob.notificationsOf()
		if strings.Join(kinds, ",") != "accepted,reply_to_post,mention" {
			t.Errorf("bob's notifications, newest first: %v %v", kinds, texts)
		}
		if len(texts) == 3 && texts[0] != "Alice Mbeki accepted your answer" {
			t.Errorf("accepted: %q", texts[0])
		}
		if href := bob.page.Find("[data-testid=notification-link]").First().AttrOr("href", ""); !strings.Contains(href, "/t/") || !strings.Contains(href, "#post-") {
			t.Errorf("a notification links to %q, not to the post", href)
		}
		if bob.page.Find("[data-testid=notification] .badge.new").Length() != 3 {
			t.Error("unseen notifications are not marked New")
		}
		// Reading the list changes nothing (a GET never does); without
		// JavaScript, its button marks what it showed as read.
		bob.get(threadURL)
		if got := bob.badge(); got != "Notifications (3)" {
			t.Errorf("after reading the list, bob's header says %q", got)
		}
		bob.follow("[data-testid=notifications-link]")
		bob.submit("form:has([data-testid=mark-all-read])", nil)
		bob.get(threadURL)
		if got := bob.badge(); got != "Notifications" {
			t.Errorf("after marking them read, bob's header says %q", got)
		}

		kinds, texts = alice.notificationsOf()
		if strings.Join(kinds, ",") != "answer" || texts[0] != "Anonymous learner answered your question" {
			t.Errorf("alice's notifications: %v %v", kinds, texts)
		}
		if strings.Contains(alice.res.Body, "Bob") {
			t.Error("alice's notifications name the anonymous answerer")
		}
		kinds, texts = ines.notificationsOf()
		if strings.Join(kinds, ",") != "followed,followed" || texts[1] != "Bob Lindqvist replied in a thread you follow" {
			t.Errorf("ines's notifications: %v %v", kinds, texts)
		}
		if kinds, _ := park.notificationsOf(); strings.Join(kinds, ",") != "mention" {
			t.Errorf("sam park: %v", kinds)
		}
		if kinds, _ := ortiz.notificationsOf(); len(kinds) != 0 || ortiz.page.Find("[data-testid=no-notifications]").Length() != 1 {
			t.Errorf("an ambiguous @Sam notified sam ortiz: %v", kinds)
		}
		var self int64
		env.DB.Raw(`SELECT COUNT(*) FROM notifications WHERE user_id = actor_id`).Scan(&self)
		if self != 0 {
			t.Errorf("%d notifications to their own actor", self)
		}
	})
}

func TestNotificationsCountMarkAllReadAndPrivacy(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		bob := join(t, env, apptest.Learner2)
		alice.ask("discussion", "Noise at work", "Ear protection?", nil)
		threadURL := alice.res.URL
		bob.get(threadURL)
		bob.reply("Always, near the press.")
		bob.get(threadURL)
		bob.reply("And @Alice, the grinder too.")
		alice.get(threadURL)
		if got := alice.badge(); got != "Notifications (2)" {
			t.Fatalf("alice's header: %q", got)
		}
		// Mark all as read, by the form, without opening the list.
		path := strings.Split(threadURL, "?")[0]
		path = path[:strings.Index(path, "/t/")] + "/notifications/read"
		csrf := fields(alice.page.Find("#reply form")).Get("csrf")
		res, err := alice.b.PostForm(context.Background(), alice.abs(path), url.Values{"csrf": {csrf}})
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/notifications") {
			t.Fatalf("mark all as read: %v %v", err, res)
		}
		alice.visit(res, nil)
		if got := alice.badge(); got != "Notifications" || alice.page.Find("[data-testid=notification] .badge.new").Length() != 0 ||
			alice.page.Find("[data-testid=notification]").Length() != 2 {
			t.Errorf("after mark all as read: %q, %d new", got, alice.page.Find("[data-testid=notification] .badge.new").Length())
		}
		// Without the CSRF token, refused.
		res, _ = alice.b.PostForm(context.Background(), alice.abs(path), url.Values{})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("mark all as read without CSRF: %d", res.StatusCode)
		}

		// Bob sees none of alice's, whatever he tries, and marking his own
		// read leaves hers alone.
		alice.get(threadURL)
		alice.reply("Thanks @Bob.")
		bob.get(threadURL)
		bob.reply("One more, @Alice.")
		var ids []string
		env.DB.Raw(`SELECT id FROM notifications WHERE user_id = (SELECT id FROM users WHERE name = 'Alice Mbeki')`).Scan(&ids)
		_, texts := bob.notificationsOf()
		for _, id := range ids {
			if strings.Contains(bob.res.Body, id) {
				t.Error("bob's page shows one of alice's notifications")
			}
			r, _ := bob.b.Get(context.Background(), bob.abs(strings.Split(bob.res.URL, "?")[0]+"/"+id+"?rt="+url.QueryEscape(bob.rt)))
			if r.StatusCode == http.StatusOK {
				t.Errorf("GET a notification of alice's by id: %d", r.StatusCode)
			}
		}
		if len(texts) != 1 || texts[0] != "Alice Mbeki mentioned you" {
			t.Errorf("bob's notifications: %v", texts)
		}
		bob.submit("form:has([data-testid=mark-all-read])", nil)
		alice.get(threadURL)
		if got := alice.badge(); got != "Notifications (1)" {
			t.Errorf("bob marking his read changed alice's: %q", got)
		}
	})
}
