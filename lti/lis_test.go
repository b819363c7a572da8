package lti

import (
	"context"
	"testing"
)

func TestValidateReadsTheLISClaim(t *testing.T) {
	p := newTestPlatform(t)
	for _, tc := range []struct {
		name string
		lis  any
		want *LISClaim
	}{
		{"LaunchWithLIS", map[string]any{"person_sourcedid": "SIS-P1", "course_offering_sourcedid": "BIO-101",
			"course_section_sourcedid": "BIO-101-A"}, &LISClaim{PersonSourcedID: "SIS-P1", CourseOfferingSourcedID: "BIO-101", CourseSectionSourcedID: "BIO-101-A"}},
		{"LaunchWithNumericSection", map[string]any{"course_section_sourcedid": 12345678901234567}, &LISClaim{CourseSectionSourcedID: "12345678901234567"}},
		{"LaunchWithMalformedLIS", "BIO-101-A", nil},
		{"LaunchWithoutLIS", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := edited(func(c map[string]any) {
				if tc.lis != nil {
					c[ClaimLIS] = tc.lis
				}
			})()
			l, err := p.v.Validate(context.Background(), p.sign(t, claims), p.reg, testNonce)
			if err != nil {
				t.Fatalf("launch refused: %v", err)
			}
			switch {
			case tc.want == nil && l.LIS != nil:
				t.Errorf("LIS = %+v, want none", *l.LIS)
			case tc.want != nil && (l.LIS == nil || *l.LIS != *tc.want):
				t.Errorf("LIS = %+v, want %+v", l.LIS, *tc.want)
			}
		})
	}
}
