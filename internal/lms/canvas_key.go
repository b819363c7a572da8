package lms

import "github.com/roundtable-lms/roundtable/lti"

// Tool is what a registration request describes of Roundtable.
type Tool struct {
	// ID is the tool's short name; Title what people read.
	ID, Title, Description string
	LoginURL, LaunchURL    string
	JWKSURL, IconURL       string
	// Domain is the host Roundtable answers on.
	Domain string
	Scopes []string
	Custom map[string]string
}

// DeveloperKey is the JSON configuration a Canvas administrator pastes
// (or points to) when adding the tool as an LTI 1.3 developer key: Canvas's
// own shape, with its placements and its extension keyed by
// canvas.instructure.com.
func (c canvas) DeveloperKey(t Tool) map[string]any {
	placement := func(name, message string) map[string]any {
		return map[string]any{
			"placement": name, "message_type": message, "target_link_uri": t.LaunchURL,
			"text": t.Title, "icon_url": t.IconURL,
		}
	}
	resourceLink, deepLinking := c.Placements()
	var placements []any
	for _, p := range resourceLink {
		placements = append(placements, placement(p, lti.MessageResourceLink))
	}
	for _, p := range deepLinking {
		placements = append(placements, placement(p, lti.MessageDeepLinking))
	}
	return map[string]any{
		"title":               t.Title,
		"description":         t.Description,
		"oidc_initiation_url": t.LoginURL,
		"target_link_uri":     t.LaunchURL,
		"public_jwk_url":      t.JWKSURL,
		"scopes":              t.Scopes,
		"extensions": []any{map[string]any{
			"platform":      "canvas.instructure.com",
			"domain":        t.Domain,
			"tool_id":       t.ID,
			"privacy_level": "public",
			"settings": map[string]any{
				"text":       t.Title,
				"icon_url":   t.IconURL,
				"placements": placements,
			},
		}},
		"custom_fields": t.Custom,
	}
}
