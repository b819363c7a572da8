package memo_test

import (
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/memo"
)

func TestEntriesExpireAndAFullMapStartsAgain(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	m := memo.Map[string, int]{Size: 3}
	if _, ok := m.Get("a", now); ok {
		t.Fatal("an empty map holds a")
	}
	m.Put("a", 1, now.Add(time.Second))
	m.Put("forever", 2, time.Time{})
	if v, ok := m.Get("a", now); !ok || v != 1 {
		t.Fatalf("a = %d, %v", v, ok)
	}
	if _, ok := m.Get("a", now.Add(time.Second)); ok {
		t.Error("a is kept past its expiry")
	}
	if v, ok := m.Get("forever", now.Add(1000*time.Hour)); !ok || v != 2 {
		t.Errorf("an entry without expiry was dropped: %d, %v", v, ok)
	}
	m.Delete("forever")
	if _, ok := m.Get("forever", now); ok {
		t.Error("a deleted entry is kept")
	}
	m.Put("b", 3, time.Time{})
	m.Put("c", 4, time.Time{})
	m.Put("d", 5, time.Time{}) // the map held 3: it starts again
	if _, ok := m.Get("b", now); ok {
		t.Error("a full map kept its entries")
	}
	if v, ok := m.Get("d", now); !ok || v != 5 {
		t.Errorf("d = %d, %v", v, ok)
	}
}
