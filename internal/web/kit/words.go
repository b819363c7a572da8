package kit

import (
	"strconv"
	"time"
)

// TimeView is a moment shown to people, with its machine-readable form.
type TimeView struct {
	Text     string
	ISO      string
	Relative string
}

func (s *Base) TimeView(t *time.Time) TimeView {
	if t == nil || t.IsZero() {
		return TimeView{}
	}
	return TimeOf(*t, s.Now())
}

// TimeOf is t as a page written at now shows it.
func TimeOf(t, now time.Time) TimeView {
	u := t.UTC()
	return TimeView{Text: ExactTime(u), ISO: u.Format(time.RFC3339), Relative: Ago(u, now)}
}

// Ago is how long before now t was, as people say it: "just now",
// "5 minutes ago", "3 hours ago", "yesterday", "4 days ago", then the
// date ("4 Mar", with the year when it is not now's).
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return Plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return Plural(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 7*24*time.Hour:
		return Plural(int(d/(24*time.Hour)), "day") + " ago"
	case t.UTC().Year() == now.UTC().Year():
		return t.UTC().Format("2 Jan")
	}
	return t.UTC().Format("2 Jan 2006")
}

// ExactTime is t to the minute, in UTC: what a page without its script
// shows in a time's title (the script shows the reader's own zone).
func ExactTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// when is text shown only when cond holds, in the middle of a sentence.
func When(cond bool, text string) string {
	if cond {
		return text
	}
	return ""
}

// people counts people in words: "1 person", "3 people".
func People(n int64) string {
	if n == 1 {
		return "1 person"
	}
	return strconv.FormatInt(n, 10) + " people"
}

// CountOf is n and its noun, one or many: "1 reply", "3 replies".
func CountOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// PluralWord is one or many.
func PluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
