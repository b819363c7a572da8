package review_test

import (
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/web/review"
)

// FuzzParagraphs: any submission text splits into blocks without a
// panic; no block is blank, and the blocks joined hold every line that
// is not blank, in order.
func FuzzParagraphs(f *testing.F) {
	for _, s := range []string{"", "One.\n\nTwo.", "A\r\nB\r\n\r\nC", "```\ncode\n\nmore\n```\nafter\n\nnext", "~~~go\n\n~~~", "```\nnever closed\n\n\nstill",
		"  \n\t\n \u00a0\n", "x\n```", "~~~\n```\n\n~~~\n\nend", "\u2028line\u2029sep"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		blocks := review.Paragraphs(body)
		var kept []string
		for _, b := range blocks {
			if strings.TrimSpace(b) == "" {
				t.Errorf("a blank block %q from %q", b, body)
			}
			kept = append(kept, strings.Split(b, "\n")...)
		}
		i := 0
		for line := range strings.SplitSeq(body, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			for i < len(kept) && kept[i] != line {
				i++
			}
			if i == len(kept) {
				t.Fatalf("the line %q of %q is lost: blocks %q", line, body, blocks)
			}
			i++
		}
	})
}
