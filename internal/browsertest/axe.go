package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release .ci/run installs from npm.
const AxeVersion = "4.14.1"

// AxeTags are the rule sets the accessibility tests run: WCAG 2.0 and 2.1,
// levels A and AA, which is what LMS customers ask Roundtable to meet.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxeViolation is one failed axe-core rule on a page, with the elements
// that fail it.
type AxeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		// Target is a list of CSS selectors (arrays of them across frames).
		Target         json.RawMessage `json:"target"`
		FailureSummary string          `json:"failureSummary"`
	} `json:"nodes"`
}

// Serious reports whether the violation is one the tests fail on.
func (v AxeViolation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// String names the rule, its help text and each failing element.
func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s: %s", n.Target, strings.ReplaceAll(n.FailureSummary, "\n", " "))
	}
	return b.String()
}

// AxeJS returns the source of axe.min.js: the file ROUNDTABLE_AXE_JS names,
// or node_modules/axe-core/axe.min.js at the module's root. Without it the
// test is skipped locally and fails under CI, where .ci/run installs it.
func AxeJS(t testing.TB) string {
	t.Helper()
	path := os.Getenv("ROUNDTABLE_AXE_JS")
	if path == "" {
		path = filepath.Join(moduleRoot(), "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err == nil {
		return string(src)
	}
	get := fmt.Sprintf("npm install --no-save --no-package-lock --prefix <repository> axe-core@%s, or set ROUNDTABLE_AXE_JS to an axe.min.js", AxeVersion)
	if os.Getenv("CI") == "true" {
		t.Fatalf("no axe-core under CI (%v): .ci/run installs it with %s", err, get)
	}
	t.Skipf("no axe-core (%v): to run the accessibility tests, %s", err, get)
	return ""
}

// moduleRoot is the nearest directory above the working directory that
// holds go.mod, or the working directory.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return wd
		}
		dir = parent
	}
}

// Axe runs axe-core's WCAG 2.1 A and AA rules on the page the browser
// shows (the top-level document) and returns the violations. axeJS is the
// source AxeJS returns; it is injected once per page.
func Axe(ctx context.Context, axeJS string) ([]AxeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, fmt.Errorf("read the page: %w", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	tags, _ := json.Marshal(AxeTags)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, {
		runOnly: {type: "tag", values: `+string(tags)+`},
		resultTypes: ["violations"]
	}).then(function (r) { return r.violations; })`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		return nil, fmt.Errorf("read axe-core's result: %w", err)
	}
	return vs, nil
}

// CheckAxe runs Axe on the current page and fails t once for each serious
// or critical violation, naming the page; lesser ones are logged.
func CheckAxe(ctx context.Context, t testing.TB, axeJS, page string) {
	t.Helper()
	vs, err := Axe(ctx, axeJS)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	for _, v := range vs {
		if v.Serious() {
			t.Errorf("%s: %s", page, v)
		} else {
			t.Logf("%s (not failing): %s", page, v)
		}
	}
}
