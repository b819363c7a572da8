// Package lti implements the tool side of LTI 1.3 and LTI Advantage:
// OIDC login initiation, id_token validation, claims, tool keys and the
// service clients. It knows the protocol only, never Roundtable's product.
package lti

// Claim names, per LTI 1.3 Core and the LTI Advantage services.
const (
	ClaimPrefix = "https://purl.imsglobal.org/spec/lti/claim/"

	ClaimMessageType        = ClaimPrefix + "message_type"
	ClaimVersion            = ClaimPrefix + "version"
	ClaimDeploymentID       = ClaimPrefix + "deployment_id"
	ClaimTargetLinkURI      = ClaimPrefix + "target_link_uri"
	ClaimResourceLink       = ClaimPrefix + "resource_link"
	ClaimRoles              = ClaimPrefix + "roles"
	ClaimRoleScopeMentor    = ClaimPrefix + "role_scope_mentor"
	ClaimContext            = ClaimPrefix + "context"
	ClaimToolPlatform       = ClaimPrefix + "tool_platform"
	ClaimLaunchPresentation = ClaimPrefix + "launch_presentation"
	ClaimCustom             = ClaimPrefix + "custom"
	ClaimLIS                = ClaimPrefix + "lis"
	ClaimForUser            = ClaimPrefix + "for_user"

	ClaimAGSEndpoint         = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
	ClaimNRPS                = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
	ClaimDeepLinkingSettings = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
	ClaimDeepLinkingContent  = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	ClaimDeepLinkingData     = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
)

// Message types and the only LTI version we speak.
const (
	MessageResourceLink         = "LtiResourceLinkRequest"
	MessageDeepLinking          = "LtiDeepLinkingRequest"
	MessageDeepLinkingResponse  = "LtiDeepLinkingResponse"
	MessageSubmissionReview     = "LtiSubmissionReviewRequest"
	Version                     = "1.3.0"
	AGSScopeLineItem            = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	AGSScopeLineItemReadOnly    = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
	AGSScopeResultReadOnly      = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	AGSScopeScore               = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	NRPSScopeMembershipReadOnly = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)

// ResourceLinkClaim is the resource_link claim.
type ResourceLinkClaim struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// ForUser is the for_user claim of a submission review launch (LTI
// Submission Review Service 1.0): the person whose work the launching
// person asks to see. UserID is that person's sub on the platform; the
// rest is optional.
type ForUser struct {
	UserID          string   `json:"user_id"`
	PersonSourcedID string   `json:"person_sourcedid,omitempty"`
	GivenName       string   `json:"given_name,omitempty"`
	FamilyName      string   `json:"family_name,omitempty"`
	Name            string   `json:"name,omitempty"`
	Email           string   `json:"email,omitempty"`
	Roles           []string `json:"roles,omitempty"`
}

// ContextClaim is the context claim (the course).
type ContextClaim struct {
	ID    string   `json:"id"`
	Label string   `json:"label,omitempty"`
	Title string   `json:"title,omitempty"`
	Type  []string `json:"type,omitempty"`
}

// ToolPlatformClaim describes the LMS instance.
type ToolPlatformClaim struct {
	GUID              string `json:"guid,omitempty"`
	ContactEmail      string `json:"contact_email,omitempty"`
	Description       string `json:"description,omitempty"`
	Name              string `json:"name,omitempty"`
	URL               string `json:"url,omitempty"`
	ProductFamilyCode string `json:"product_family_code,omitempty"`
	Version           string `json:"version,omitempty"`
}

// LaunchPresentationClaim says how the LMS shows the tool. Height and width
// are left out: platforms send them as numbers or strings ("100%"), and the
// tool sizes itself with lti.frameResize instead.
type LaunchPresentationClaim struct {
	DocumentTarget string `json:"document_target,omitempty"`
	ReturnURL      string `json:"return_url,omitempty"`
	Locale         string `json:"locale,omitempty"`
}

// LISClaim is the lis claim: the student information system's ids of the
// person, the course offering and the course section. Platforms send them
// as strings; a value of another JSON type keeps its JSON text. A launch
// without the claim has a nil LIS.
type LISClaim struct {
	PersonSourcedID         string
	CourseOfferingSourcedID string
	CourseSectionSourcedID  string
}

// AGSEndpointClaim is the Assignment and Grade Services endpoint claim.
type AGSEndpointClaim struct {
	Scope     []string `json:"scope,omitempty"`
	LineItems string   `json:"lineitems,omitempty"`
	LineItem  string   `json:"lineitem,omitempty"`
}

// NRPSClaim is the Names and Role Provisioning Services claim.
type NRPSClaim struct {
	ContextMembershipsURL string   `json:"context_memberships_url"`
	ServiceVersions       []string `json:"service_versions,omitempty"`
}

// DeepLinkingSettingsClaim is the deep_linking_settings claim.
type DeepLinkingSettingsClaim struct {
	DeepLinkReturnURL                 string   `json:"deep_link_return_url"`
	AcceptTypes                       []string `json:"accept_types"`
	AcceptPresentationDocumentTargets []string `json:"accept_presentation_document_targets"`
	AcceptMediaTypes                  string   `json:"accept_media_types,omitempty"`
	AcceptMultiple                    bool     `json:"accept_multiple,omitempty"`
	AcceptLineItem                    bool     `json:"accept_lineitem,omitempty"`
	AutoCreate                        bool     `json:"auto_create,omitempty"`
	Title                             string   `json:"title,omitempty"`
	Text                              string   `json:"text,omitempty"`
	Data                              string   `json:"data,omitempty"`
}
