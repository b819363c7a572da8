package discussion

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// WriteLimits turns the limits a setting names (per minute, by kind) into
// every kind's limit: those named over DefaultWriteLimits. A kind it does
// not know is refused, so that a misspelt setting is never silently
// ignored.
func WriteLimits(named map[string]int) (map[string]int, error) {
	limits := maps.Clone(DefaultWriteLimits)
	for kind, n := range named {
		if _, known := DefaultWriteLimits[kind]; !known {
			return nil, fmt.Errorf("%q is not a kind of write; the kinds are %s", kind, strings.Join(WriteKinds, ", "))
		}
		limits[kind] = n
	}
	return limits, nil
}

// FormatWriteLimits writes limits as the setting takes them, in the order
// of WriteKinds: "post=6,vote=30,...".
func FormatWriteLimits(limits map[string]int) string {
	var parts []string
	for _, k := range WriteKinds {
		if n, ok := limits[k]; ok {
			parts = append(parts, k+"="+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ",")
}
