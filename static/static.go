// Package static holds Roundtable's stylesheets and scripts, embedded in the
// binary. Pages refer to them by content-hashed URLs (see web).
package static

import "embed"

// FS holds css/, js/ and img/.
//
//go:embed css js img
var FS embed.FS
