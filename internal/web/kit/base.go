//go:generate go tool templ generate

// Package kit is what every area of Roundtable's HTTP layer shares: the
// base each area's handlers hold (the domain's stores and services), page
// rendering and the layout, error pages, security headers and cookies,
// the session middleware and the parts of an activity's pages.
package kit

import (
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
)

// Base is what every area's handlers hold: the domain's stores and
// services more than one area uses (see web.Deps for each), the static
// assets, and the state the areas share.
type Base struct {
	DB          *store.DB
	BaseURL     *url.URL
	Registry    *tenant.Registry
	Keys        *toolkey.Store
	Sessions    *session.Store
	Courses     *course.Store
	Discussions *discussion.Store
	Spaces      *space.Store
	Grades      *grade.Service
	Logger      *slog.Logger
	Now         func() time.Time
	Access      *session.Access

	// Prefetched holds, for the page view that follows a launch, the
	// activity the launch already read.
	Prefetched PrefetchedViews

	assets *assets
	// https is true when the base URL is https: then responses carry HSTS
	// and cookies the __Host- prefix (see frames.go).
	https bool
}

// NewBase completes b with the static assets and what its base URL says.
func NewBase(b *Base) (*Base, error) {
	as, err := newAssets()
	if err != nil {
		return nil, err
	}
	b.assets = as
	b.https = b.BaseURL != nil && b.BaseURL.Scheme == "https"
	return b, nil
}

// URL is an absolute URL of this tool.
func (s *Base) URL(path string) string {
	return strings.TrimSuffix(s.BaseURL.String(), "/") + path
}

// JWKSPath is the path of a registration's JWKS: the public keys of what
// Roundtable signs for that LMS alone.
func JWKSPath(platformID string) string {
	return "/lti/platforms/" + url.PathEscape(platformID) + "/jwks.json"
}

// JWKSURL is the absolute URL of a registration's JWKS, given to its LMS.
func (s *Base) JWKSURL(platformID string) string { return s.URL(JWKSPath(platformID)) }

// Asset is the content-hashed path of a static file.
func (s *Base) Asset(name string) string { return s.assets.url(name) }
