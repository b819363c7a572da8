package discussion

import (
	"slices"
	"testing"
)

func TestMentionTokens(t *testing.T) {
	for body, want := range map[string][]string{
		"Hi @Alice, and @bob.":                   {"alice", "bob"},
		"email a@b.c is no mention; (@Carol) is": {"carol"},
		"`@Ines` and\n```\n@Tom\n```\n@Ana @ana": {"ana"},
		"@AliceMbeki @alice.mbeki":               {"alicembeki", "alice.mbeki"},
		"no mentions":                            nil,
	} {
		if got := mentionTokens(body); !slices.Equal(got, want) {
			t.Errorf("mentionTokens(%q) = %v, want %v", body, got, want)
		}
	}
}

func TestHandles(t *testing.T) {
	got := handles("Alice van Dijk", "Alice", "van Dijk", "", "alice.vd@example.edu")
	for _, h := range []string{"alice", "alicevandijk", "alice.van.dijk", "alice_van_dijk", "alice-van-dijk", "alice.vd"} {
		if !slices.Contains(got, h) {
			t.Errorf("handles lack %q: %v", h, got)
		}
	}
	if slices.Contains(got, "van dijk") {
		t.Errorf("a handle with a space: %v", got)
	}
}
