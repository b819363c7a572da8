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
	u := t.UTC()
	return TimeView{Text: u.Format("2 Jan 2006 15:04 UTC"), ISO: u.Format(time.RFC3339), Relative: ago(s.Now().Sub(u))}
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return Plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return Plural(int(d/time.Hour), "hour") + " ago"
	}
	return Plural(int(d/(24*time.Hour)), "day") + " ago"
}

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

// PluralWord is one or many.
func PluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
