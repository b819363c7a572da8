package browsertest

import (
	"context"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// skipLongTimers replaces a page's setTimeout before any of its scripts
// runs: a timer of a second or more fires at once, and its delay is kept
// in window.roundtableTimers for the test to read.
const skipLongTimers = `(function () {
  var setTimeout = window.setTimeout;
  window.roundtableTimers = [];
  window.setTimeout = function (fn, ms) {
    var args = Array.prototype.slice.call(arguments, 2);
    ms = Number(ms) || 0;
    if (ms >= 1000) {
      window.roundtableTimers.push(ms);
      ms = 0;
    }
    return setTimeout.apply(window, [fn, ms].concat(args));
  };
})();`

// SkipLongTimers makes the pages loaded in ctx from now on run their long
// timers (a second or more: back-offs, reminders) at once, so a test need
// not wait them out, and returns a JavaScript expression for the delays
// they asked for, in milliseconds, in order.
func SkipLongTimers(ctx context.Context) (delays string, err error) {
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: skipLongTimers})
	return "window.roundtableTimers", err
}
