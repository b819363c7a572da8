package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// rubric.js in Chromium: a new peer review takes the browser's time
// zone; Move down, Remove and Add criterion renumber the builder's rows,
// keep each row's comment rule, and what is saved is the rubric as shown.
func TestRubricBuilderInBrowser(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	ines := join(t, env, apptest.Instructor)
	base := pathOf(t, ines.abs(ines.page.Find("[data-testid=settings-link]").AttrOr("href", "")))

	ctx := browsertest.New(t)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(ines, base)), chromedp.WaitReady(chromedp.CSS("[data-rubric-action=add]"))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("time_zone").value`); got != "Europe/Paris" {
		t.Errorf("the time zone is %q, want the browser's", got)
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	titles := func() string {
		return evalJS[string](t, ctx, `Array.from(document.querySelectorAll("[data-rubric-row]")).map(function (r, i) {
			var t = r.querySelector("[name=crit_title_" + i + "]"), c = r.querySelector("input[name=crit_comment_" + i + "]:checked");
			return r.querySelector("legend").textContent + ":" + (t ? t.value : "?") + ":" + (c ? c.value : "-");
		}).join("|") + " rows " + document.querySelector("[name=crit_rows]").value`)
	}
	click("input[name=kind][value=peer_review]")
	click("[data-rubric-row]:nth-child(1) [data-rubric-action=down]")
	if got := titles(); got != "Criterion 1:Clarity:optional|Criterion 2:Content:optional|Criterion 3:Most useful advice:required|Criterion 4::optional|Criterion 5::optional rows 5" {
		t.Errorf("after Move down: %s", got)
	}
	if focused := evalJS[string](t, ctx, `document.activeElement.getAttribute("data-rubric-action") + " " + document.activeElement.closest("[data-rubric-row]").querySelector("legend").textContent`); focused != "down Criterion 2" {
		t.Errorf("after Move down the focus is on %q", focused)
	}
	click("[data-rubric-row]:nth-child(3) [data-rubric-action=up]")
	click("[data-rubric-row]:nth-child(3) [data-rubric-action=remove]")
	click("[data-rubric-action=add]")
	if got := titles(); got != "Criterion 1:Clarity:optional|Criterion 2:Most useful advice:required|Criterion 3::optional|Criterion 4::optional|Criterion 5::optional rows 5" {
		t.Errorf("after Move up, Remove and Add: %s", got)
	}
	evalJS[bool](t, ctx, `(function () {
		document.querySelector("[name=crit_title_4]").value = "Originality";
		document.querySelector("[name=crit_levels_4]").value = "0 Copied\n2 Own words";
		return true;
	})()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=save-settings]")), chromedp.WaitReady(chromedp.CSS("[data-testid=saved]"))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("saving: %v\n%.2000s", err, body)
	}
	var linkID string
	env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID)
	st, err := env.App.Courses.Settings(context.Background(), env.Registered.ID, linkID)
	if err != nil {
		t.Fatal(err)
	}
	o := st.Options.(peerreview.Options)
	c := o.Rubric.Criteria
	if o.TimeZone != "Europe/Paris" || len(c) != 3 || c[0].ID != "c2" || c[1].ID != "c3" || c[1].Comment != peerreview.CommentRequired ||
		c[2].Title != "Originality" || c[2].ID != "c4" || len(c[2].Levels) != 2 {
		t.Errorf("saved %s %+v", o.TimeZone, c)
	}
}
