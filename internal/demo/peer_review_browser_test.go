package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

// The "done when", in Chromium against the demo: the instructor
// places a graded peer review with a rubric by deep linking from the demo
// course and adds a calibration example from its dashboard; four learners
// in four browsers submit (three on time; the fourth late, after the
// instructor moved the due date into the past with late work still
// taken), calibrate and review each other, the late one's work too; the
// instructor releases the results, a learner rates and flags a review, and
// the demo gradebook shows each learner's combined score. Every new page
// passes axe-core without a serious or critical violation.
func TestPeerReviewPlacedSubmittedReviewedAndGraded(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	axeJS := browsertest.AxeJS(t)
	checked := map[string]bool{}
	axe := func(w *window, page string) {
		t.Helper()
		if checked[page] {
			return
		}
		checked[page] = true
		vs, err := frameAxe(w.ctx, axeJS)
		if err != nil {
			t.Fatalf("%s: axe-core: %v", page, err)
		}
		t.Logf("axe-core: %s: %d violations", page, len(vs))
		for _, v := range vs {
			if v.Serious() {
				t.Errorf("%s: %s", page, v)
			} else {
				t.Logf("%s (not failing): %s", page, v)
			}
		}
	}

	// The instructor places the peer review from the course's "Add activity".
	maya := &window{t: t, ctx: browsertest.NewWithin(t, walkTimeout), name: "maya.chen"}
	if err := doWithin(maya.ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.Click(chromedp.CSS(`a.add-as[data-user="maya.chen"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatalf("open the chooser: %v", err)
	}
	title := "Peer review: one chart, critiqued"
	maya.try("the chooser opens", `document.querySelector("form[data-testid=chooser]")`)
	maya.click("choose a peer review", `document.querySelector("input[name=kind][value=peer_review]")`)
	maya.try("fill in the peer review", `(function () {
		var f = document.querySelector("form[data-testid=chooser]");
		function set(name, v) { var el = f.querySelector("[name=" + name + "]"); el.value = v; el.dispatchEvent(new Event("input", {bubbles: true})); }
		function tick(name, on) { var el = f.querySelector("input[name=" + name + "]"); if (el.checked !== on) el.click(); }
		set("title", `+jsString(title)+`);
		set("instructions", "Pick one chart from the news and write what it shows, and what it hides.");
		set("crit_title_0", "Reading of the chart");
		set("crit_desc_0", "Does the critique say what the chart shows, and what it leaves out?");
		set("crit_levels_0", "0 Missing\n1 Partial\n2 Good\n3 Excellent");
		set("reviewers", "3");
		tick("submit_text", true); tick("submit_files", false); tick("calibration", true); tick("graded", true);
		set("points", "10");
		set("time_zone", "UTC");
		return f.querySelector("input[name=kind][value=peer_review]").checked && f.querySelector("input[name=calibration]").checked; })()`)
	maya.click("place it", `document.querySelector("[data-testid=place]")`)
	if err := doWithin(maya.ctx, chromedp.WaitVisible(chromedp.CSS(`.deep-link-result`))); err != nil {
		t.Fatalf("back in the course: %v", err)
	}
	link := placedLink(t, d, title)
	open := func(w *window) {
		t.Helper()
		sel := `article[data-link="` + link + `"] a.open-as[data-user="` + w.name + `"]`
		if err := doWithin(w.ctx,
			chromedp.Navigate(d.LMSURL),
			chromedp.WaitVisible(chromedp.CSS(sel)),
			chromedp.Click(chromedp.CSS(sel)),
			chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
		); err != nil {
			t.Fatalf("%s: open the peer review: %v", w.name, err)
		}
		w.try("the peer review opens", `document.querySelector("[data-testid=phase]") && document.querySelector("h1").textContent === `+jsString(title))
	}
	open(maya)
	axe(maya, "peer review home (staff)")
	maya.click("open the dashboard", `document.querySelector("[data-testid=dashboard-link]")`)
	maya.try("the dashboard opens", `document.querySelector("[data-testid=summary]")`)
	axe(maya, "dashboard")

	// A calibration example, with the instructor's assessment.
	maya.click("add an example", `document.querySelector("[data-testid=add-example]")`)
	maya.try("the example form opens", `document.querySelector("[data-testid=example-form]")`)
	axe(maya, "example form")
	maya.try("fill in the example", `(function () {
		var f = document.querySelector("[data-testid=example-form]");
		f.querySelector("[name=title]").value = "A bar chart of sales by region";
		f.querySelector("[name=body]").value = "The chart shows sales by region.\n\nThe axis starts at 90, so small differences look large.\n\nIt does not say which year.";
		`+assessJS("f", 1)+`
		return true; })()`)
	maya.click("save the example", `document.querySelector("[data-testid=save-example]")`)
	maya.try("the dashboard lists the example", `/done=example/.test(location.search) && document.querySelector("[data-testid=examples] li a")`)

	// Three learners submit on time and calibrate.
	work := map[string]string{
		"aisha.rahman":    "## Delivery times by month\n\nThe line chart shows average delivery time falling from 4 to 3 days.\n\nIt hides that the number of deliveries doubled, and that the y axis starts at 2.5.",
		"lucas.moreau":    "## Customer satisfaction\n\nA pie chart with eleven slices of nearly equal size.\n\nA sorted bar chart would show the order at a glance; the pie hides it.",
		"priya.natarajan": "## Salaries by department\n\nA bar chart of mean salaries.\n\nThe means hide a few very high salaries: medians with the spread would be honest.",
		"kenji.watanabe":  "## Oven temperatures\n\nA chart of one week of readings, smoothed.\n\nThe smoothing hides the power cuts, which show as -273 °C in the raw data.",
	}
	learners := map[string]*window{}
	submit := func(who string, late bool) {
		t.Helper()
		w := &window{t: t, ctx: browsertest.NewWithin(t, walkTimeout), name: who}
		learners[who] = w
		open(w)
		axe(w, "peer review home (learner)")
		w.click("open the work form", `document.querySelector("[data-testid=submit-work]")`)
		w.try("the work form opens", `document.querySelector("[data-testid=work-form]")`)
		axe(w, "work form")
		w.try("write the work", `(function () { document.querySelector("[data-testid=work-form] [name=body]").value = `+jsString(work[who])+`; return true; })()`)
		w.click("submit the work", `document.querySelector("[data-testid=submit-work-button]")`)
		w.try("the work is submitted", `document.querySelector("[data-testid=submitted]")`)
		if got := w.value(`String(document.querySelector("[data-testid=submitted] .late") !== null)`); got != fmt.Sprint(late) {
			t.Errorf("%s's work marked late: %s, want %v", who, got, late)
		}
		w.click("open the example", `document.querySelector("[data-testid=calibration-link]")`)
		w.try("the calibration page opens", `document.querySelector("[data-testid=calibration-form]")`)
		axe(w, "calibration page")
		w.try("assess the example", `(function () { var f = document.querySelector("[data-testid=calibration-form]"); `+assessJS("f", 2)+` return true; })()`)
		w.click("submit the calibration", `document.querySelector("[data-testid=submit-calibration]")`)
		w.try("the instructor's assessment is shown", `document.querySelector("[data-testid=calibration-result]")`)
	}
	for _, who := range []string{"aisha.rahman", "lucas.moreau", "priya.natarajan"} {
		submit(who, false)
	}

	// The instructor moves the due date into the past, late work taken
	// for two more days; the fourth learner's work is late.
	// (Her page has stood still while the learners worked: she opens
	// the activity again from the course, as an instructor would.)
	open(maya)
	maya.click("open the settings", `document.querySelector("[data-testid=settings-link]")`)
	now := time.Now().UTC()
	maya.try("change the dates", `(function () {
		var f = document.querySelector("[data-testid=save-settings]").form;
		f.querySelector("[name=time_zone]").value = "UTC";
		f.querySelector("[name=due]").value = `+jsString(now.Add(-2*time.Minute).Format("2006-01-02T15:04"))+`;
		f.querySelector("[name=late_until]").value = `+jsString(now.Add(48*time.Hour).Format("2006-01-02T15:04"))+`;
		f.querySelector("[name=reviews_due]").value = `+jsString(now.Add(72*time.Hour).Format("2006-01-02T15:04"))+`;
		return true; })()`)
	maya.click("save the settings", `document.querySelector("[data-testid=save-settings]")`)
	maya.try("the settings are saved", `document.querySelector("[data-testid=saved]")`)
	submit("kenji.watanabe", true)

	// Everyone reviews the three others.
	for _, who := range []string{"aisha.rahman", "lucas.moreau", "priya.natarajan", "kenji.watanabe"} {
		w := learners[who]
		w.click("back to the peer review", `document.querySelector("[data-testid=review-home-link]")`)
		w.try("the queue shows three reviews", `/3 reviews to do/.test(document.querySelector("[data-testid=queue-summary]").textContent)`)
		var hrefs []string
		if err := json.Unmarshal([]byte(w.value(`JSON.stringify(Array.prototype.map.call(document.querySelectorAll("[data-testid=queue-item] a"), function (a) { return a.href; }))`)), &hrefs); err != nil || len(hrefs) != 3 {
			t.Fatalf("%s's queue: %v %v", who, hrefs, err)
		}
		for i, href := range hrefs {
			w.value(`(location.href = ` + jsString(href) + `, "")`)
			w.try("the review page opens", `location.href === `+jsString(href)+` && document.readyState === "complete" && document.querySelector("[data-testid=review-form]")`)
			axe(w, "review page")
			w.try("assess the work", `(function () {
				var f = document.querySelector("[data-testid=review-form]");
				`+assessJS("f", 2-i%2)+`
				f.querySelector("[name=comment]").value = "Clear and to the point; one sentence on the source would help.";
				return true; })()`)
			w.click("submit the review", `document.querySelector("[data-testid=submit-review]")`)
			w.try("the review is submitted", `/reviewed=1/.test(location.search)`)
		}
	}

	// The late learner's work has three reviewers, all done.
	open(maya)
	maya.click("open the dashboard", `document.querySelector("[data-testid=dashboard-link]")`)
	maya.try("every review is done", `document.querySelector("[data-testid=reviews-progress]").textContent === "12 of 12 reviews done"`)
	if n := maya.value(`String(document.querySelectorAll("[data-testid=learner-row] .badge.late").length)`); n != "1" {
		t.Errorf("the dashboard shows %s late submissions, want 1", n)
	}
	maya.click("open the late learner's page", `Array.prototype.filter.call(document.querySelectorAll("[data-testid=learner-row] th a"), function (a) { return a.textContent === "Kenji Watanabe"; })[0]`)
	maya.try("the learner page opens", `document.querySelector("[data-testid=received]")`)
	axe(maya, "learner page")
	if n := maya.value(`String(document.querySelectorAll("[data-testid=received] [data-testid=given-row]").length)`); n != "3" {
		t.Errorf("the late learner's work has %s reviewers, want 3", n)
	}

	// The instructor releases the results.
	maya.click("back to the dashboard", `document.querySelector("[data-testid=dashboard-link]")`)
	maya.click("release the results", `document.querySelector("[data-testid=release]")`)
	maya.try("the results are released", `document.querySelector("[data-testid=withdraw]")`)

	// A learner reads her feedback, rates one review and flags another.
	aisha := learners["aisha.rahman"]
	aisha.click("back to the peer review", `document.querySelector("[data-testid=review-home-link]")`)
	aisha.click("open the feedback", `document.querySelector("[data-testid=feedback-link]")`)
	aisha.try("three reviews of her work", `document.querySelectorAll("[data-testid=feedback-review]").length === 3`)
	axe(aisha, "feedback page")
	aisha.try("rate the first review", `(function () {
		var f = document.querySelector("[data-testid=rate-form]");
		f.querySelector("[name=rating][value='4']").click();
		f.querySelector("[name=rating_note]").value = "Precise and kind.";
		f.querySelector("[data-testid=rate-button]").click();
		return true; })()`)
	aisha.try("the rating is kept", `/rated=1/.test(location.search) && document.querySelector("[data-testid=rate-form] [name=rating][value='4']:checked")`)
	aisha.try("flag the last review", `(function () {
		var forms = document.querySelectorAll("[data-testid=flag-form]"), f = forms[forms.length - 1];
		f.closest("details").open = true;
		f.querySelector("[name=reason]").value = "It says my chart has no axis, but the second paragraph is about the axis.";
		f.querySelector("[data-testid=flag-button]").click();
		return true; })()`)
	aisha.try("the flag is shown back", `/flagged=1/.test(location.search) && document.querySelector("[data-testid=flagged]")`)

	// The demo gradebook shows a combined score for each learner, in the
	// peer review's column (the LMS's page, in a window of its own).
	lms := browsertest.New(t)
	var scores map[string]string
	for deadline := time.Now().Add(stepWait); ; {
		err := doWithin(lms, chromedp.Navigate(d.LMSURL+"/gradebook"), chromedp.WaitVisible(chromedp.CSS(`table.gradebook`)))
		if err == nil {
			tctx, cancel := context.WithTimeout(lms, stepWait)
			var raw string
			raw, err = chromedp.Run(tctx, chromedp.Evaluate[string](`(function () {
				var cols = Array.prototype.map.call(document.querySelectorAll("table.gradebook th.column"), function (th) { return th.textContent; });
				var i = cols.findIndex(function (c) { return c.indexOf(`+jsString(title)+`) === 0; }), out = {};
				document.querySelectorAll("tr.learner").forEach(function (row) {
					var s = i >= 0 && row.querySelectorAll("td.grade")[i].querySelector("strong.score");
					out[row.dataset.user] = s ? s.textContent.trim() : "";
				});
				return JSON.stringify(out); })()`))
			cancel()
			if err == nil {
				err = json.Unmarshal([]byte(raw), &scores)
			}
		}
		numbers := 0
		for who := range learners {
			if ok, _ := fmt.Sscanf(scores[who], "%g / 10", new(float64)); ok == 1 {
				numbers++
			}
		}
		if numbers == len(learners) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gradebook's peer review column: %v (%v)", scores, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for who := range learners {
		t.Logf("gradebook: %s %s", who, scores[who])
	}
	if strings.Join([]string{scores["maya.chen"], scores["olivia.bennett"]}, "") != "" {
		t.Errorf("scores for people who did not take part: %v", scores)
	}
	for _, page := range []string{"peer review home (learner)", "work form", "review page", "calibration page", "feedback page", "dashboard", "learner page", "example form"} {
		if !checked[page] {
			t.Errorf("axe-core did not check the %s", page)
		}
	}
}

// doWithin runs actions in ctx, bounded by stepWait.
func doWithin(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	tctx, cancel := context.WithTimeout(ctx, stepWait)
	defer cancel()
	return chromedp.Do(tctx, actions...)
}

// assessJS is JavaScript assessing every criterion of the rubric fields
// in the form named f: level i (or the last one) of each scored one, a
// comment long enough on each that takes one.
func assessJS(f string, level int) string {
	return `Array.prototype.forEach.call(` + f + `.querySelectorAll("[data-testid=criterion]"), function (c) {
		var radios = c.querySelectorAll("input[type=radio]");
		if (radios.length) radios[Math.min(` + fmt.Sprint(level) + `, radios.length - 1)].click();
		var ta = c.querySelector("textarea");
		if (ta) ta.value = "Name the source of the data and the year under the chart.";
	});`
}

// frameAxe runs axe-core's WCAG 2.1 A and AA rules on the document of the
// activity frame, in the frame (another site than the LMS's page).
func frameAxe(ctx context.Context, axeJS string) ([]browsertest.AxeViolation, error) {
	tctx, cancel := context.WithTimeout(ctx, stepWait)
	defer cancel()
	frames, err := chromedp.Run(tctx, chromedp.Nodes(chromedp.CSS(`iframe#activity`), chromedp.AtLeast(0)))
	if err != nil || len(frames) == 0 {
		return nil, fmt.Errorf("no activity frame (%v)", err)
	}
	roots, err := chromedp.Run(tctx, chromedp.Nodes(chromedp.CSS(`html`), chromedp.FromNode(frames[0]), chromedp.AtLeast(0)))
	if err != nil || len(roots) == 0 {
		return nil, fmt.Errorf("the frame has no document (%v)", err)
	}
	obj, err := chromedp.Call(tctx, dom.ResolveNode, dom.ResolveNodeParams{NodeID: roots[0].NodeID})
	if err != nil {
		return nil, err
	}
	defer chromedp.Call(ctx, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj.Object.ObjectID})
	tags, _ := json.Marshal(browsertest.AxeTags)
	raw, err := chromedp.Run(tctx, chromedp.CallFunctionOn[string](`function () {
		var document = this.ownerDocument, window = document.defaultView;
		if (typeof window.axe !== "object") { (function () { `+axeJS+` }).call(window); }
		return window.axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
			.then(function (r) { return JSON.stringify({violations: r.violations, passes: r.passes.length}); });
	}`, func(p *runtime.CallFunctionOnParams) {
		p.ObjectID = obj.Object.ObjectID
		await := true
		p.AwaitPromise = &await
	}))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var res struct {
		Violations []browsertest.AxeViolation
		Passes     int
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, fmt.Errorf("read axe-core's result: %w", err)
	}
	if res.Passes == 0 {
		return nil, fmt.Errorf("axe-core checked nothing on the page")
	}
	return res.Violations, nil
}

// walkTimeout bounds the peer review's walk for each of its browsers: the
// instructor's is open from the first step to the last, while four
// learners take their turns (a few minutes on a busy CI machine).
const walkTimeout = 6 * time.Minute
