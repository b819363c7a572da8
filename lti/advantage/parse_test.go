package advantage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseLinkNext(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{`<https://lms.example/li?page=2>; rel="next"`}, "https://lms.example/li?page=2"},
		{[]string{`<https://lms.example/li?p=1>; rel="first", <https://lms.example/li?p=3>; rel="next"`}, "https://lms.example/li?p=3"},
		{[]string{`<https://lms.example/li?p=1>; rel="prev"`, `<https://lms.example/li?p=3>; rel=next`}, "https://lms.example/li?p=3"},
		// Canvas lists several relations, and URLs with commas and semicolons.
		{[]string{`<https://c.example/a?x=1,2;y>; rel="current",<https://c.example/a?page=2&x=1,2>; rel="next",<https://c.example/a?page=9>; rel="last"`}, "https://c.example/a?page=2&x=1,2"},
		{[]string{`<https://lms.example/n>; title="a, <b>; rel=\"next\""; rel="last"`}, ""},
		{[]string{`<https://lms.example/n>; rel="last next"`}, "https://lms.example/n"},
		{[]string{`<https://lms.example/n>; REL = "Next"`}, "https://lms.example/n"},
		{[]string{`<https://lms.example/n>; rel="nextpage"`}, ""},
		{[]string{`<https://lms.example/n`}, ""},
		{[]string{`https://lms.example/n; rel="next"`}, ""},
		{[]string{`</relative?page=2>; rel="next"`}, "/relative?page=2"},
	} {
		if got := ParseLinkNext(c.values); got != c.want {
			t.Errorf("ParseLinkNext(%q) = %q, want %q", c.values, got, c.want)
		}
	}
}

func TestNextPageStaysOnTheFirstPagesOrigin(t *testing.T) {
	base, _ := url.Parse("https://lms.example/api/members?rlid=1")
	h := http.Header{}
	h.Set("Link", `<?page=2&rlid=1>; rel="next"`)
	next, err := nextPage(base, h)
	if err != nil || next.String() != "https://lms.example/api/members?page=2&rlid=1" {
		t.Errorf("relative next: %v %v", next, err)
	}
	h.Set("Link", `<https://attacker.example/steal>; rel="next"`)
	if next, err := nextPage(base, h); err == nil {
		t.Errorf("next page on another host accepted: %v", next)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{" 120 ", 2 * time.Minute},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999999999999999", maxRetryAfter},
		{"86401", maxRetryAfter},
		{"Sun, 29 Nov 2026 08:00:30 GMT", 30 * time.Second},
		{"Sunday, 29-Nov-26 08:01:00 GMT", time.Minute},
		{"Sun Nov 29 08:00:05 2026", 5 * time.Second},
		{"Sun, 29 Nov 2026 07:00:00 GMT", 0},
		{"Sun, 06 Dec 2026 08:00:00 GMT", maxRetryAfter},
	} {
		if got := ParseRetryAfter(c.in, now); got != c.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	timeout := &url.Error{Op: "Post", URL: "https://lms.example/token", Err: &net.OpError{Op: "dial", Err: errors.New("i/o timeout")}}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&Error{Op: "publish score", Status: 429}, true},
		{&Error{Op: "publish score", Status: 500}, true},
		{&Error{Op: "publish score", Status: 502}, true},
		{&Error{Op: "publish score", Status: 408}, true},
		{fmt.Errorf("deliver: %w", &Error{Op: "publish score", Status: 503}), true},
		{&Error{Op: "publish score", Status: 400}, false},
		{&Error{Op: "publish score", Status: 401}, false},
		{&Error{Op: "publish score", Status: 404}, false},
		{&Error{Op: "publish score", Status: 422}, false},
		{&Error{Op: "publish score", Status: 403, Body: "Forbidden"}, false},
		{&Error{Op: "publish score", Status: 403, Body: `{"errors":[{"message":"403 Forbidden (Rate Limit Exceeded)"}]}`}, true},
		{&Error{Op: "members", Status: 200, Err: errors.New("decode page")}, false},
		{&Error{Op: "token", Err: timeout}, true},
		{&Error{Op: "token", Err: context.DeadlineExceeded}, true},
		{&Error{Op: "token", Err: errors.New("signing key has no kid")}, false},
		{errors.New("something else"), false},
	} {
		if got := IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestScoreJSON(t *testing.T) {
	given := 7.0
	at := time.Date(2026, 11, 29, 9, 30, 15, 123_456_789, time.FixedZone("x", 3600))
	b, err := json.Marshal(Score{UserID: "u1", ScoreGiven: &given, ScoreMaximum: 10, ActivityProgress: ActivityCompleted,
		GradingProgress: GradingFullyGraded, Timestamp: at})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"userId":"u1","scoreGiven":7,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T08:30:15.123Z"}`
	if string(b) != want {
		t.Errorf("score JSON\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(Score{UserID: "u1", ScoreMaximum: 10, ActivityProgress: ActivitySubmitted,
		GradingProgress: GradingPendingManual, Timestamp: at})
	if strings.Contains(string(b), "score") && strings.Contains(string(b), "scoreMaximum") {
		t.Errorf("progress-only score carries a maximum: %s", b)
	}
}

func TestSubpathURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://lms.example/c/1/lineitems/7":                                          "https://lms.example/c/1/lineitems/7/scores",
		"https://lms.example/c/1/lineitems/7/":                                         "https://lms.example/c/1/lineitems/7/scores",
		"https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=3": "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=3",
		"https://lms.example/c/a%2Fb/lineitems/7#frag":                                 "https://lms.example/c/a%2Fb/lineitems/7/scores",
	} {
		got, err := subpathURL(in, "/scores")
		if err != nil || got != want {
			t.Errorf("subpathURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := subpathURL("/relative/lineitems/7", "/scores"); err == nil {
		t.Error("relative line item URL accepted")
	}
}

func FuzzParseLinkNext(f *testing.F) {
	for _, s := range []string{
		`<https://lms.example/li?page=2>; rel="next"`,
		`<a>; rel="first", <b>; rel="next"`,
		`<https://c.example/a?x=1,2;y>; rel="current",<https://c.example/a?page=2>; rel="next"`,
		`<n>; title="a, <b>; rel=\"next\""; rel="last"`,
		`<`, `>`, `"`, `<x>; rel="`, `<x>; rel="next\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := ParseLinkNext([]string{v})
		if got != "" && !strings.Contains(v, "<"+strings.TrimSpace(got)) && !strings.Contains(v, got) {
			t.Fatalf("ParseLinkNext(%q) = %q, not a target in the header", v, got)
		}
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("ParseLinkNext(%q) = %q with angle brackets", v, got)
		}
		if got != "" && !strings.Contains(strings.ToLower(v), "next") {
			t.Fatalf("ParseLinkNext(%q) = %q without a next relation", v, got)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "1e9", "Sun, 29 Nov 2026 08:00:30 GMT", "Sunday, 29-Nov-26 08:01:00 GMT",
		"Sun Nov 29 08:00:05 2026", "18446744073709551616", "  7  "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := ParseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, maxRetryAfter)
		}
	})
}
