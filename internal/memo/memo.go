// Package memo keeps what this process has just read or written, for a
// while, so that the requests that follow need not each ask the database.
package memo

import (
	"sync"
	"time"
)

// DefaultSize bounds a Map whose Size is zero.
const DefaultSize = 50000

// Map is a bounded map whose entries expire; it is safe for concurrent
// use, and its zero value is ready to use. A full map starts again rather
// than track recency: a miss costs one query.
type Map[K comparable, V any] struct {
	// Size is how many entries the map holds before it starts again;
	// zero is DefaultSize.
	Size int

	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	value V
	// expiry is when the entry stops being used; zero keeps it until the
	// map starts again.
	expiry time.Time
}

// Get returns the value kept for k, if it has not expired at now.
func (m *Map[K, V]) Get(k K, now time.Time) (V, bool) {
	m.mu.Lock()
	e, ok := m.entries[k]
	m.mu.Unlock()
	if !ok || (!e.expiry.IsZero() && !now.Before(e.expiry)) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put keeps v for k until expiry; a zero expiry keeps it for as long as
// the map holds it.
func (m *Map[K, V]) Put(k K, v V, expiry time.Time) {
	size := m.Size
	if size <= 0 {
		size = DefaultSize
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil || len(m.entries) >= size {
		m.entries = make(map[K]entry[V])
	}
	m.entries[k] = entry[V]{value: v, expiry: expiry}
}

// Delete forgets k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.entries, k)
	m.mu.Unlock()
}
