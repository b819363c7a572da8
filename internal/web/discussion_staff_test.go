package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
)

// Staff see one menu of staff actions on the thread and one on each post;
// learners see none, and everyone's everyday actions stay outside them.
func TestStaffMenusHoldTheStaffActions(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Merge conflicts in week 2", "Git shows <<<< markers.", nil)
		threadURL := alice.res.URL
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Open the file and pick a side.")
		if bob.page.Find("details.menu").Length() != 0 || bob.page.Find(`script[src*="menu.js"]`).Length() != 0 {
			t.Error("a learner sees a staff menu")
		}
		if postSel(bob.page, "Git shows").Find("[data-testid=vote]").Length() != 1 || postSel(bob.page, "Git shows").Find("[data-testid=flag]").Length() != 1 {
			t.Error("a learner lost the vote or flag action")
		}

		ines := join(t, env, apptest.Instructor)
		ines.get(threadURL)
		ines.reply("Staff note: see the git handout.")
		menus := ines.page.Find("[data-testid=thread-staff-menu]")
		if menus.Length() != 1 || !menus.Is("details.menu") {
			t.Fatalf("%d thread menus, want one details.menu", menus.Length())
		}
		if got := strings.Join(strings.Fields(menus.Find("summary").Text()), " "); got != "Staff actions for this thread" {
			t.Errorf("the thread menu is named %q", got)
		}
		for _, id := range []string{"flag-pinned", "flag-locked", "flag-closed", "mark-duplicate-link"} {
			if menus.Find("[data-testid="+id+"]").Length() != 1 {
				t.Errorf("the thread menu lacks %s", id)
			}
		}
		if ines.page.Find("[data-testid=flag-pinned]").Length() != 1 || ines.page.Find("#thread-actions > form [data-testid=follow]").Length() != 1 {
			t.Error("pin is not only in the menu, or follow is not outside it")
		}
		if ines.page.Find(`script[src*="menu.js"]`).Length() != 1 {
			t.Error("the staff page lacks menu.js")
		}

		reply := postSel(ines.page, "pick a side")
		menu := reply.Find("[data-testid=post-staff-menu]")
		if menu.Length() != 1 {
			t.Fatalf("%d menus on a reply, want 1", menu.Length())
		}
		if got := strings.Join(strings.Fields(menu.Find("summary").Text()), " "); got != "Staff actions for this post by Bob Lindqvist" {
			t.Errorf("the post menu is named %q", got)
		}
		for _, id := range []string{"endorse", "hide", "edit", "delete"} {
			if menu.Find("[data-testid="+id+"]").Length() != 1 {
				t.Errorf("the post menu lacks %s", id)
			}
		}
		if menu.Find("[data-testid=hide].danger").Length() != 1 || menu.Find("[data-testid=delete].danger").Length() != 1 {
			t.Error("hide and remove are not marked as destructive")
		}
		for _, id := range []string{"vote", "quote"} {
			if reply.Find("[data-testid="+id+"]").Length() != 1 || menu.Find("[data-testid="+id+"]").Length() != 0 {
				t.Errorf("%s is not an everyday action outside the menu", id)
			}
		}
		// Staff's own post: edit and remove are everyday actions.
		own := postSel(ines.page, "git handout")
		if own.Find("details.menu [data-testid=edit]").Length() != 0 || own.Find("[data-testid=edit]").Length() != 1 {
			t.Error("staff's own edit is in the menu")
		}
		// The menu's forms post as before.
		ines.postAction("pick a side", "endorse")
		if postSel(ines.page, "pick a side").Find("[data-testid=endorsed]").Length() != 1 {
			t.Error("endorsing from the menu did not take")
		}
	})
}

// Staff mark a duplicate by typing words of the original's title and
// picking it; only threads of the same cohort's space are offered or
// accepted.
func TestStaffMarkDuplicateByTitle(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Merge conflicts in week 2", "Git shows markers.", nil)
		_, originalID := spaceOf(t, alice.res.URL)
		alice.home()
		alice.ask("question", "Merge or rebase? (asked by mistake)", "Never mind.", nil)
		alice.postAction("Never mind.", "delete")
		bob := join(t, env, apptest.Learner2)
		bob.ask("question", "Help with a MERGE conflict", "Same as week 2.", nil)
		dupURL := bob.res.URL
		base, dupID := spaceOf(t, dupURL)
		bob.home()
		bob.ask("discussion", "Merge party tonight", "Off topic.", nil)
		hiddenURL := bob.res.URL
		yara := otherCourseMember(t, env)
		yara.ask("question", "Merge conflicts in biology notes", "Elsewhere.", nil)
		_, yaraID := spaceOf(t, yara.res.URL)

		ines := join(t, env, apptest.Instructor)
		ines.get(hiddenURL)
		ines.postAction("Off topic.", "hide")
		ines.get(dupURL)
		ines.follow("[data-testid=mark-duplicate-link]")
		if ines.res.StatusCode != http.StatusOK || ines.page.Find("[data-testid=duplicate-search] input[type=search][name=q]").Length() != 1 {
			t.Fatalf("no title search on the duplicate page: %d\n%.1500s", ines.res.StatusCode, ines.res.Body)
		}
		ines.submitGet("[data-testid=duplicate-search]", map[string]string{"q": "merge"})
		var titles []string
		ines.page.Find("[data-testid=duplicate-candidate]").Each(func(_ int, s *goquery.Selection) {
			titles = append(titles, text(goquery.NewDocumentFromNode(s.Nodes[0]), "[data-testid=candidate-title]"))
		})
		if strings.Join(titles, "|") != "Merge conflicts in week 2" {
			t.Fatalf("searching merge lists %q, want only the original (not this thread, a removed, a hidden or another course's)", titles)
		}
		ines.submitGet("[data-testid=duplicate-search]", map[string]string{"q": "nothing like it"})
		if ines.page.Find("[data-testid=no-candidates]").Length() != 1 {
			t.Error("no message when nothing matches")
		}

		// A forged choice of another course's thread is refused.
		ines.submitGet("[data-testid=duplicate-search]", map[string]string{"q": "week 2"})
		pick := ines.page.Find("[data-testid=duplicate-candidate][data-thread-id='" + originalID + "'] form")
		forged := fields(pick)
		forged.Set("of", yaraID)
		if res, _ := ines.b.PostForm(context.Background(), ines.abs(pick.AttrOr("action", "")), forged); res.StatusCode != http.StatusNotFound {
			t.Errorf("marking a duplicate of another course's thread: %d, want 404", res.StatusCode)
		}

		ines.submit("[data-testid=duplicate-candidate][data-thread-id='"+originalID+"'] form", nil)
		if !strings.Contains(ines.res.URL, "/t/"+dupID) || text(ines.page, "[data-testid=duplicate-of] a") != "Merge conflicts in week 2" {
			t.Fatalf("picking the original did not mark the duplicate: %s", ines.res.URL)
		}
		// The page now says what it duplicates, and offers to undo it.
		ines.get(ines.abs(base + "/t/" + dupID + "/duplicate"))
		if ines.page.Find("[data-testid=current-original] a").Text() != "Merge conflicts in week 2" || ines.page.Find("[data-testid=unmark-duplicate]").Length() != 1 {
			t.Error("the duplicate page does not show the current original")
		}
	})
}

// The moderation log names each thread by its title and each post by its
// author, as staff see them (an anonymous author by name, marked), and
// its first words, hidden and removed posts included.
func TestModerationLogNamesThreadsAndPosts(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Merge conflicts in week 2", "Who else hit this?", nil)
		threadURL := alice.res.URL
		base, _ := spaceOf(t, threadURL)
		alice.submit("#reply form", map[string]string{"body": "My **whole** branch is gone, help", "anonymous": "1"})
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Try git reflog first.")

		ines := join(t, env, apptest.Instructor)
		ines.get(threadURL)
		ines.submit("form:has([data-testid=flag-pinned])", nil)
		ines.postAction("branch is gone", "hide")
		ines.postAction("git reflog", "endorse")
		bob.get(threadURL)
		bob.postAction("git reflog", "delete")

		ines.get(ines.abs(base + "/moderation/log"))
		rows := map[string]*goquery.Selection{}
		ines.page.Find("[data-testid=log-entry]").Each(func(_ int, s *goquery.Selection) { rows[s.AttrOr("data-action", "")] = s })
		for _, a := range []string{"pin", "hide", "endorse"} {
			r := rows[a]
			if r == nil {
				t.Fatalf("no %s entry in the log:\n%.3000s", a, ines.res.Body)
			}
			if got := strings.TrimSpace(r.Find("a[data-testid=log-thread]").Text()); got != "Merge conflicts in week 2" {
				t.Errorf("%s: the log names the thread %q", a, got)
			}
		}
		hide := rows["hide"]
		if got := strings.TrimSpace(hide.Find("[data-testid=log-post] [data-testid=author]").Text()); got != "Alice Mbeki" ||
			hide.Find("[data-testid=log-post] [data-testid=anon-note]").Length() != 1 {
			t.Errorf("the hidden anonymous reply is by %q in the log, want Alice, marked anonymous to learners", got)
		}
		if got := text(goquery.NewDocumentFromNode(hide.Nodes[0]), "[data-testid=log-excerpt]"); got != "“My whole branch is gone, help”" {
			t.Errorf("the hidden reply's excerpt: %q", got)
		}
		endorse := rows["endorse"]
		if got := strings.TrimSpace(endorse.Find("[data-testid=log-post] [data-testid=author]").Text()); got != "Bob Lindqvist" ||
			!strings.Contains(endorse.Find("[data-testid=log-excerpt]").Text(), "removed") {
			t.Errorf("the endorsed, since removed, reply is by %q: %q", got, endorse.Find("[data-testid=log-excerpt]").Text())
		}
		if rows["pin"].Find("[data-testid=log-post]").Length() != 0 {
			t.Error("a thread's entry names a post")
		}
	})
}
