package discussion_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
)

func TestWriteLimitsFromASetting(t *testing.T) {
	got, err := discussion.WriteLimits(nil)
	if err != nil || !maps.Equal(got, discussion.DefaultWriteLimits) {
		t.Fatalf("none named: %v (%v), want %v", got, err, discussion.DefaultWriteLimits)
	}
	got, err = discussion.WriteLimits(map[string]int{discussion.WriteVote: 5, discussion.WriteEdit: 0})
	if err != nil || got[discussion.WriteVote] != 5 || got[discussion.WriteEdit] != 0 ||
		got[discussion.WriteAccept] != discussion.DefaultWriteLimits[discussion.WriteAccept] || len(got) != len(discussion.WriteKinds) {
		t.Fatalf("vote and edit named: %v (%v)", got, err)
	}
	if discussion.DefaultWriteLimits[discussion.WriteVote] == 5 {
		t.Fatal("the defaults changed under the test")
	}
	if _, err := discussion.WriteLimits(map[string]int{"votes": 10}); err == nil || !strings.Contains(err.Error(), `"votes"`) {
		t.Errorf("a misspelt kind: %v", err)
	}
	if got := discussion.FormatWriteLimits(discussion.DefaultWriteLimits); got != "post=6,vote=30,accept=10,endorse=30,edit=10,flag=10,follow=30,upload=20" {
		t.Errorf("defaults written as %q", got)
	}
}
