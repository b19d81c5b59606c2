// Package templates holds what the application shows: page layouts and
// partials, email templates, the message catalogues for bokmål and English,
// and the static files. Everything is embedded in the binary.
package templates

import "embed"

// FS is the whole folder: layouts/, partials/, pages/, email/, locales/, static/.
//
//go:embed layouts partials pages email locales static
var FS embed.FS
