package discuss

import (
	"strings"
	"testing"
)

// A cell a spreadsheet would read as a formula gets a leading quote, even
// when invisible or look-alike characters come first; other text is kept.
func TestSafeCellNeutralisesFormulas(t *testing.T) {
	for _, in := range []string{
		"=SUM(1+1)", "+1", "-1", "@cmd", "\t=1", "\r=1", "\tplain", "\rplain",
		"\u200B=HYPERLINK(\"https://evil.example\")", // zero-width space
		"\uFEFF=1+1",                                      // byte order mark
		"\u00A0=1+1",                                      // no-break space
		" \u200E\u202E=1",                                 // space, direction marks
		"\n=1",                                            // line break
		"\uFF1DSUM(1)", "\uFF0B1", "\uFF0D1", "\uFF20cmd", // full-width
		"\u200B\uFF1D1",         // both
		"\uFE66cmd", "\u2212 1", // small equals, minus sign
		"\u3164=1", "\u0301=1", // Hangul filler, a combining mark
	} {
		if got := safeCell(in); got != "'"+in {
			t.Errorf("safeCell(%q) = %q, want it quoted", in, got)
		}
	}
	for _, in := range []string{"", "Alice Mbeki", "alice@example.edu", "O'Brien", "a=b", "Zoë -1", "\u200BAlice", "   ", "日本語"} {
		if got := safeCell(in); got != in {
			t.Errorf("safeCell(%q) = %q, want it unchanged", in, got)
		}
	}
}

// Whatever a learner names themselves, the cell either keeps its text or
// is quoted, and a quoted cell's first visible character is the quote.
func FuzzSafeCell(f *testing.F) {
	for _, s := range []string{"=1", "\u200B=1", "\uFF1D1", "Alice", "\t", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeCell(s)
		if got != s && got != "'"+s {
			t.Fatalf("safeCell(%q) = %q", s, got)
		}
		if got != s {
			return
		}
		if strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "\r") {
			t.Fatalf("safeCell(%q) kept a leading tab or carriage return", s)
		}
		for _, r := range s {
			if invisible(r) {
				continue
			}
			if strings.ContainsRune(formulaStarts, r) {
				t.Fatalf("safeCell(%q) kept a formula", s)
			}
			break
		}
	})
}
