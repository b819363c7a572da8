package advantage

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/roundtable-lms/roundtable/lti"
)

// MediaMembershipContainer is the NRPS 2.0 answer's media type.
const MediaMembershipContainer = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

// Member statuses.
const (
	MemberActive   = "Active"
	MemberInactive = "Inactive"
	MemberDeleted  = "Deleted"
)

// Member is one person in a context membership. Fields the platform keeps
// private are empty.
type Member struct {
	UserID             string   `json:"user_id"`
	Roles              []string `json:"roles"`
	Status             string   `json:"status,omitempty"`
	Name               string   `json:"name,omitempty"`
	GivenName          string   `json:"given_name,omitempty"`
	FamilyName         string   `json:"family_name,omitempty"`
	Email              string   `json:"email,omitempty"`
	Picture            string   `json:"picture,omitempty"`
	LISPersonSourcedID string   `json:"lis_person_sourcedid,omitempty"`
}

// IsActive reports whether the member takes part in the context now; a
// missing status means Active.
func (m Member) IsActive() bool { return m.Status == "" || m.Status == MemberActive }

type membershipContainer struct {
	ID      string   `json:"id"`
	Members []Member `json:"members"`
}

// Members lists a context's members, following every rel="next" page (up to
// a bound). With rlid set the platform narrows the list to those who can
// see that resource link.
func (c *Client) Members(ctx context.Context, reg lti.Registration, membershipsURL, rlid string) ([]Member, error) {
	const op = "members"
	first, err := withQuery(membershipsURL, url.Values{"rlid": {rlid}})
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	var out []Member
	err = c.pages(ctx, reg, call{op: op, method: http.MethodGet, url: first,
		scopes: []string{lti.NRPSScopeMembershipReadOnly}, accept: MediaMembershipContainer},
		func(body []byte) error {
			var page membershipContainer
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			out = append(out, page.Members...)
			return nil
		})
	return out, err
}
