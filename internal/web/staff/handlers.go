//go:generate go tool templ generate

// Package staff is an activity's pages for its staff: the activity's
// settings, its grades and their retries, its roster, and the switch
// between its cohorts.
package staff

import (
	"github.com/roundtable-lms/roundtable/internal/roster"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Handlers serve the staff's pages.
type Handlers struct {
	*kit.Base
	// Roster reads course rosters from the LMS (nil: no roster page).
	Roster *roster.Service
}
