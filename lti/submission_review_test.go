package lti

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// submissionReviewClaims is an instructor's submission review launch
// (LTI Submission Review Service 1.0) of learner-7's work on rl-7.
func submissionReviewClaims() map[string]any {
	c := resourceLinkClaims()
	c[ClaimMessageType] = MessageSubmissionReview
	c[ClaimForUser] = map[string]any{
		"user_id": "learner-7", "person_sourcedid": "sis-7", "given_name": "Grace", "family_name": "Hopper",
		"name": "Grace Hopper", "email": "grace@example.edu", "roles": []string{RoleLearner},
	}
	return c
}

// signedReview returns a token factory for the submission review claims
// changed by edit.
func signedReview(edit func(c map[string]any)) func(t *testing.T, p *testPlatform) string {
	return func(t *testing.T, p *testPlatform) string {
		c := submissionReviewClaims()
		edit(c)
		return p.sign(t, c)
	}
}

func TestValidateSubmissionReviewLaunch(t *testing.T) {
	p := newTestPlatform(t)
	l, err := p.v.Validate(context.Background(), p.sign(t, submissionReviewClaims()), p.reg, testNonce)
	if err != nil {
		t.Fatal(err)
	}
	if l.MessageType != MessageSubmissionReview || l.Subject != "user-42" || l.ResourceLink.ID != "rl-7" || !l.Roles.Instructor {
		t.Fatalf("launch %+v", l)
	}
	want := &ForUser{UserID: "learner-7", PersonSourcedID: "sis-7", GivenName: "Grace", FamilyName: "Hopper",
		Name: "Grace Hopper", Email: "grace@example.edu", Roles: []string{RoleLearner}}
	if !reflect.DeepEqual(l.ForUser, want) {
		t.Fatalf("for_user %+v, want %+v", l.ForUser, want)
	}

	t.Run("ForUserOnlyUserID", func(t *testing.T) {
		l, err := p.v.Validate(context.Background(), signedReview(func(c map[string]any) {
			c[ClaimForUser] = map[string]any{"user_id": "learner-7"}
		})(t, p), p.reg, testNonce)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l.ForUser, &ForUser{UserID: "learner-7"}) {
			t.Fatalf("for_user %+v", l.ForUser)
		}
	})
	t.Run("ForUserOfAResourceLinkLaunchIgnored", func(t *testing.T) {
		l, err := p.v.Validate(context.Background(), signed(func(c map[string]any) {
			c[ClaimForUser] = "not even an object"
		})(t, p), p.reg, testNonce)
		if err != nil {
			t.Fatal(err)
		}
		if l.ForUser != nil {
			t.Fatalf("resource link launch with for_user %+v", l.ForUser)
		}
	})
}

// TestValidateRejectsSubmissionReview: a submission review is checked as a
// resource link launch is, and needs a for_user naming someone.
func TestValidateRejectsSubmissionReview(t *testing.T) {
	p := newTestPlatform(t)
	for _, tc := range []struct {
		name   string
		token  func(t *testing.T, p *testPlatform) string
		want   Reason
		detail string
	}{
		{"ForUserClaimMissing", signedReview(func(c map[string]any) { delete(c, ClaimForUser) }), ReasonMissingClaim, "for_user"},
		{"ForUserClaimNull", signedReview(func(c map[string]any) { c[ClaimForUser] = nil }), ReasonMissingClaim, "for_user"},
		{"ForUserWithoutUserID", signedReview(func(c map[string]any) { c[ClaimForUser] = map[string]any{"name": "Grace Hopper"} }), ReasonMissingClaim, "user_id"},
		{"ForUserEmptyUserID", signedReview(func(c map[string]any) { c[ClaimForUser] = map[string]any{"user_id": ""} }), ReasonMissingClaim, "user_id"},
		{"ForUserBlankUserID", signedReview(func(c map[string]any) { c[ClaimForUser] = map[string]any{"user_id": "  "} }), ReasonMissingClaim, "user_id"},
		{"ForUserUserIDTooLong", signedReview(func(c map[string]any) {
			c[ClaimForUser] = map[string]any{"user_id": strings.Repeat("x", maxForUserID+1)}
		}), ReasonBadClaim, "longer than"},
		{"ForUserNotAnObject", signedReview(func(c map[string]any) { c[ClaimForUser] = "learner-7" }), ReasonBadClaim, "for_user"},
		{"ForUserArray", signedReview(func(c map[string]any) { c[ClaimForUser] = []any{map[string]any{"user_id": "learner-7"}} }), ReasonBadClaim, "for_user"},
		{"ForUserUserIDNumber", signedReview(func(c map[string]any) { c[ClaimForUser] = map[string]any{"user_id": 7} }), ReasonBadClaim, "for_user"},
		{"ForUserRolesNotAnArray", signedReview(func(c map[string]any) {
			c[ClaimForUser] = map[string]any{"user_id": "learner-7", "roles": RoleLearner}
		}), ReasonBadClaim, "for_user"},
		// As a resource link launch.
		{"ResourceLinkClaimMissing", signedReview(func(c map[string]any) { delete(c, ClaimResourceLink) }), ReasonMissingResourceLnk, ""},
		{"ResourceLinkIDEmpty", signedReview(func(c map[string]any) { c[ClaimResourceLink] = map[string]any{"id": ""} }), ReasonMissingResourceLnk, ""},
		{"UserClaimMissing", signedReview(func(c map[string]any) { delete(c, "sub") }), ReasonMissingSubject, MessageSubmissionReview},
		{"TargetLinkURIClaimMissing", signedReview(func(c map[string]any) { delete(c, ClaimTargetLinkURI) }), ReasonMissingClaim, "target_link_uri"},
		{"RoleClaimMissing", signedReview(func(c map[string]any) { delete(c, ClaimRoles) }), ReasonMissingRoles, ""},
		{"MessageTypeMisspelt", signedReview(func(c map[string]any) { c[ClaimMessageType] = "LtiSubmissionReview" }), ReasonBadMessageType, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := p.v.Validate(context.Background(), tc.token(t, p), p.reg, testNonce)
			e := wantError(t, l, err, tc.want)
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", e.Detail, tc.detail)
			}
		})
	}
}
