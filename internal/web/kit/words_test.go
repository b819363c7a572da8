package kit

import (
	"testing"
	"time"
)

func TestAgoSaysHowLongBeforeNow(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		before time.Duration
		want   string
	}{
		{-time.Minute, "just now"}, // a clock a little ahead
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{time.Hour, "1 hour ago"},
		{3 * time.Hour, "3 hours ago"},
		{23*time.Hour + 59*time.Minute, "23 hours ago"},
		{24 * time.Hour, "yesterday"},
		{47 * time.Hour, "yesterday"},
		{48 * time.Hour, "2 days ago"},
		{6 * 24 * time.Hour, "6 days ago"},
		{7 * 24 * time.Hour, "30 Nov"},
		{340 * 24 * time.Hour, "1 Jan"},
		{400 * 24 * time.Hour, "2 Nov 2025"},
	} {
		if got := Ago(now.Add(-c.before), now); got != c.want {
			t.Errorf("%v before: %q, want %q", c.before, got, c.want)
		}
	}
	if got := ExactTime(time.Date(2026, 3, 4, 5, 6, 59, 0, time.FixedZone("CET", 3600))); got != "4 Mar 2026, 04:06 UTC" {
		t.Errorf("exact time: %q", got)
	}
}
