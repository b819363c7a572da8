package demo_test

import (
	"testing"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

// carriesNoToken is a JavaScript expression, true when the frame's page
// carries no link token: not in its address, links, forms or body, and its
// body says the cookie carries its session.
const carriesNoToken = `(function () {
	function hasRT(u) { return new URL(u, window.location.href).searchParams.has("rt"); }
	if (hasRT(window.location.href) || document.body.hasAttribute("data-rt") || !document.body.hasAttribute("data-session-cookie")) return false;
	if (document.querySelectorAll("input[name=rt]").length > 0) return false;
	return !Array.prototype.some.call(document.querySelectorAll("a[href], form[action]"), function (el) {
		return hasRT(el.getAttribute("href") || el.getAttribute("action"));
	});
})()`

// Inside the LMS frame of a browser that keeps Roundtable's cookie, the
// first page after the launch drops the link token from its address, and
// neither it nor the pages after it carry one in their links and forms:
// the cookie carries the session.
func TestFramedPagesWhoseCookieWorksCarryNoToken(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	w := openAs(t, browsertest.New(t), d, "aisha.rahman")
	w.try("the first page drops the token and carries none", carriesNoToken)
	if got := w.value(`document.querySelector("[data-testid=user-name]").textContent`); got != "Aisha Rahman" {
		t.Errorf("the frame shows %q", got)
	}
	w.click("the Ask link", `document.querySelector("[data-testid=ask]")`)
	w.try("the new-post form opens", `document.querySelector("form.post-form") !== null`)
	w.try("the form carries no token", carriesNoToken)
}
