package ltiplatform

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/roundtable-lms/roundtable/lti"
)

// Names and Role Provisioning Services 2.0: a course's members, paged.

const mediaMembershipContainer = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

type membershipContainer struct {
	ID      string        `json:"id"`
	Context membershipCtx `json:"context"`
	Members []memberJSON  `json:"members"`
}

type membershipCtx struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
	Title string `json:"title,omitempty"`
}

type memberJSON struct {
	UserID     string   `json:"user_id"`
	Roles      []string `json:"roles"`
	Status     string   `json:"status"`
	Name       string   `json:"name,omitempty"`
	GivenName  string   `json:"given_name,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	Email      string   `json:"email,omitempty"`
	Picture    string   `json:"picture,omitempty"`
}

// MembershipsURL is the NRPS context memberships URL of a course.
func (p *Platform) MembershipsURL(courseID string) string {
	return p.URL("/api/lti/courses/" + url.PathEscape(courseID) + "/memberships")
}

// SetMemberActive marks a member Active or Inactive (a dropped or
// suspended enrolment) in the memberships service; members are active
// unless marked otherwise.
func (p *Platform) SetMemberActive(courseID, userID string, active bool) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	m := p.svc.inactive[courseID]
	if m == nil {
		m = map[string]bool{}
		p.svc.inactive[courseID] = m
	}
	if active {
		delete(m, userID)
	} else {
		m[userID] = true
	}
}

func (p *Platform) handleMemberships(w http.ResponseWriter, r *http.Request, c serviceCall) {
	course, ok := p.courseForTool(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if rlid := q.Get("rlid"); rlid != "" {
		// Every member of a course sees every one of its links here, so
		// the link only has to be this tool's, in this course.
		p.mu.RLock()
		l, ok := p.links[rlid]
		owner := p.linkOwnerLocked(l)
		p.mu.RUnlock()
		if !ok || l.CourseID != course.ID || owner != c.clientID {
			serviceError(w, http.StatusBadRequest, "rlid "+rlid+" is not a resource link of this tool in this course")
			return
		}
	}
	role := q.Get("role")
	if role != "" {
		role = FullRole(role)
	}
	members, err := p.Users(course.ID)
	if err != nil {
		serviceError(w, http.StatusNotFound, "no such course")
		return
	}
	p.svc.mu.Lock()
	inactive := p.svc.inactive[course.ID]
	var list []memberJSON
	for _, m := range members {
		if role != "" && !slices.Contains(m.Roles, role) {
			continue
		}
		status := "Active"
		if inactive[m.ID] {
			status = "Inactive"
		}
		roles := m.Roles
		if roles == nil {
			roles = []string{}
		}
		list = append(list, memberJSON{UserID: m.ID, Roles: roles, Status: status, Name: m.Name,
			GivenName: m.GivenName, FamilyName: m.FamilyName, Email: m.Email, Picture: m.Picture})
	}
	size := p.svc.pageSize
	p.svc.mu.Unlock()
	out, next := page(r, p.MembershipsURL(course.ID), list, size)
	if out == nil {
		out = []memberJSON{}
	}
	setNext(w, next)
	writeService(w, http.StatusOK, mediaMembershipContainer, membershipContainer{
		ID:      p.URL(r.URL.RequestURI()),
		Context: membershipCtx{ID: course.ID, Label: course.Label, Title: course.Title},
		Members: out,
	})
}

// nrpsClaim is the NRPS claim of a launch in a course, or nil when the tool
// may not read memberships.
func (p *Platform) nrpsClaim(tool Tool, courseID string) *lti.NRPSClaim {
	if !slices.Contains(toolScopes(tool), lti.NRPSScopeMembershipReadOnly) {
		return nil
	}
	return &lti.NRPSClaim{ContextMembershipsURL: p.MembershipsURL(courseID), ServiceVersions: []string{"2.0"}}
}
