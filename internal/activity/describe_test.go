package activity

import "testing"

func TestCompletionRuleDescribe(t *testing.T) {
	for _, c := range []struct {
		rule CompletionRule
		want string
	}{
		{CompletionRule{}, ""},
		{CompletionRule{MinThreads: 1}, "1 thread started"},
		{CompletionRule{MinThreads: 2, MinReplies: 1}, "2 threads started and 1 reply"},
		{CompletionRule{MinThreads: 1, MinReplies: 3, MinAccepted: 1, MinUpvotes: 5}, "1 thread started, 3 replies, 1 accepted answer and 5 upvotes received"},
	} {
		if got := c.rule.Describe(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.rule, got, c.want)
		}
	}
}
