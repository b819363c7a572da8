package lti

import "context"

// Registration is one LMS platform registered with the tool: an issuer and
// the client id it gave the tool. The same issuer with another client id is
// another registration (all Canvas cloud customers share one issuer).
type Registration struct {
	ID       string
	Issuer   string
	ClientID string
	AuthURL  string
	TokenURL string
	// TokenAudience is an audience the platform's token endpoint requires
	// in client assertions besides its token URL (Brightspace's OAuth2
	// audience); empty for most platforms. Assertions always name the
	// token URL they are posted to first.
	TokenAudience string
	JWKSURL       string
}

// Registrations finds platform registrations; the tool's storage implements it.
type Registrations interface {
	// FindRegistration returns the registration for issuer and client id.
	// With an empty client id it returns the only registration of the
	// issuer, or an *Error with ReasonAmbiguousPlatform when there are several.
	FindRegistration(ctx context.Context, issuer, clientID string) (Registration, error)
	// HasDeployment reports whether the deployment is registered.
	HasDeployment(ctx context.Context, registrationID, deploymentID string) (bool, error)
}
