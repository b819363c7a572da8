package ltiplatform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// Assignment and Grade Services 2.0: line items per course and tool, scores
// posted to them, and results read back.

// AGS media types.
const (
	mediaLineItem          = "application/vnd.ims.lis.v2.lineitem+json"
	mediaLineItemContainer = "application/vnd.ims.lis.v2.lineitemcontainer+json"
	mediaScore             = "application/vnd.ims.lis.v1.score+json"
	mediaResultContainer   = "application/vnd.ims.lis.v2.resultcontainer+json"
)

var (
	activityProgressValues = []string{"Initialized", "Started", "InProgress", "Submitted", "Completed"}
	gradingProgressValues  = []string{"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
)

// LineItemSpec is the line item a resource link asks for when it is placed,
// as a deep linking ltiResourceLink item's lineItem does.
type LineItemSpec struct {
	ScoreMaximum float64
	Label        string // defaults to the link's title
	ResourceID   string
	Tag          string
	// SubmissionReview, when set, is advertised on the line item.
	SubmissionReview *SubmissionReview
}

// SubmissionReview is a line item's submissionReview property (LTI
// Submission Review Service 1.0): the gradebook offers to open a
// learner's work in the tool. URL, when set, is where the review launches
// go instead of the link's URL; Custom is added to their custom claim.
// ReviewableStatus lists the activity progress values for which a review
// is offered; the demo gradebook offers one for every learner.
type SubmissionReview struct {
	ReviewableStatus []string          `json:"reviewableStatus,omitempty"`
	Label            string            `json:"label,omitempty"`
	URL              string            `json:"url,omitempty"`
	Custom           map[string]string `json:"custom,omitempty"`
}

// LineItem is a gradebook column owned by a tool.
type LineItem struct {
	ID             string // short id; its URL is LineItemURL
	CourseID       string
	ClientID       string // the tool that owns it
	Label          string
	ScoreMaximum   float64
	ResourceID     string
	ResourceLinkID string
	Tag            string
	StartDateTime  string
	EndDateTime    string
	// SubmissionReview is what the tool or the link's spec said of
	// submission reviews of the line item; nil when nothing.
	SubmissionReview *SubmissionReview
}

// ScoreRecord is a score the platform received for a line item.
type ScoreRecord struct {
	UserID           string
	ScoreGiven       *float64
	ScoreMaximum     *float64
	Comment          string
	ActivityProgress string
	GradingProgress  string
	Timestamp        time.Time
	ReceivedAt       time.Time
	// Applied is false for a score whose timestamp was not newer than the
	// last applied one of the same user: AGS says such a score must not
	// update the result, and the platform only keeps it for the record.
	Applied bool
}

// lineItemJSON is the AGS representation of a line item.
type lineItemJSON struct {
	ID             string   `json:"id,omitempty"`
	ScoreMaximum   *float64 `json:"scoreMaximum"`
	Label          *string  `json:"label"`
	ResourceID     string   `json:"resourceId,omitempty"`
	ResourceLinkID string   `json:"resourceLinkId,omitempty"`
	Tag            string   `json:"tag,omitempty"`
	StartDateTime  string   `json:"startDateTime,omitempty"`
	EndDateTime    string   `json:"endDateTime,omitempty"`

	SubmissionReview *SubmissionReview `json:"submissionReview,omitempty"`
}

type scoreJSON struct {
	UserID           string   `json:"userId"`
	ScoreGiven       *float64 `json:"scoreGiven"`
	ScoreMaximum     *float64 `json:"scoreMaximum"`
	Comment          string   `json:"comment"`
	ActivityProgress string   `json:"activityProgress"`
	GradingProgress  string   `json:"gradingProgress"`
	Timestamp        string   `json:"timestamp"`
}

type resultJSON struct {
	ID            string   `json:"id"`
	ScoreOf       string   `json:"scoreOf"`
	UserID        string   `json:"userId"`
	ResultScore   *float64 `json:"resultScore,omitempty"`
	ResultMaximum float64  `json:"resultMaximum"`
	Comment       string   `json:"comment,omitempty"`
}

// LineItemsURL is the AGS line items container of a course.
func (p *Platform) LineItemsURL(courseID string) string {
	return p.URL("/api/lti/courses/" + url.PathEscape(courseID) + "/lineitems")
}

// LineItemURL is a line item's AGS URL, its id in the service.
func (p *Platform) LineItemURL(li LineItem) string {
	return p.LineItemsURL(li.CourseID) + "/" + url.PathEscape(li.ID)
}

func (p *Platform) lineItemDoc(li LineItem) lineItemJSON {
	maxScore, label := li.ScoreMaximum, li.Label
	return lineItemJSON{
		ID: p.LineItemURL(li), ScoreMaximum: &maxScore, Label: &label,
		ResourceID: li.ResourceID, ResourceLinkID: li.ResourceLinkID, Tag: li.Tag,
		StartDateTime: li.StartDateTime, EndDateTime: li.EndDateTime, SubmissionReview: li.SubmissionReview,
	}
}

// linkOwnerLocked is the client id of the tool a link launches.
func (p *Platform) linkOwnerLocked(l ResourceLink) string {
	if l.ClientID == "" && len(p.toolIDs) > 0 {
		return p.toolIDs[0]
	}
	return l.ClientID
}

// checkLineItemSpecLocked validates a link's line item before the link is
// stored.
func (p *Platform) checkLineItemSpecLocked(l ResourceLink) error {
	spec := l.LineItem
	switch {
	case spec == nil:
		return nil
	case l.CourseID == "":
		return invalid("resource link %q: a line item needs a course", l.ID)
	case !(spec.ScoreMaximum > 0) || math.IsInf(spec.ScoreMaximum, 0):
		return invalid("resource link %q: the line item's score maximum must be a number above 0", l.ID)
	case strings.TrimSpace(spec.Label) == "" && strings.TrimSpace(l.Title) == "":
		return invalid("resource link %q: the line item needs a label or the link a title", l.ID)
	case p.linkOwnerLocked(l) == "":
		return invalid("resource link %q: no tool to own its line item", l.ID)
	}
	return nil
}

// bindLineItemLocked creates the line item a link asks for, unless the
// link already has one.
func (p *Platform) bindLineItemLocked(l ResourceLink) {
	spec := l.LineItem
	if spec == nil {
		return
	}
	owner := p.linkOwnerLocked(l)
	s := p.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.lineItemIDs {
		if li := s.lineItems[id]; li.ResourceLinkID == l.ID && li.ClientID == owner && li.CourseID == l.CourseID {
			return
		}
	}
	label := strings.TrimSpace(spec.Label)
	if label == "" {
		label = l.Title
	}
	s.addLocked(LineItem{CourseID: l.CourseID, ClientID: owner, Label: label, ScoreMaximum: spec.ScoreMaximum,
		ResourceID: spec.ResourceID, ResourceLinkID: l.ID, Tag: spec.Tag, SubmissionReview: spec.SubmissionReview})
}

func (s *services) addLocked(li LineItem) LineItem {
	s.nextItem++
	li.ID = fmt.Sprintf("li-%d", s.nextItem)
	s.lineItems[li.ID] = &li
	s.lineItemIDs = append(s.lineItemIDs, li.ID)
	return li
}

// AddLineItem creates a line item directly, as an instructor's gradebook
// column or one a course copy brought along; the id is assigned.
func (p *Platform) AddLineItem(li LineItem) (LineItem, error) {
	p.mu.RLock()
	_, okCourse := p.courses[li.CourseID]
	_, okTool := p.tools[li.ClientID]
	var okLink bool
	if li.ResourceLinkID != "" {
		l, ok := p.links[li.ResourceLinkID]
		okLink = ok && l.CourseID == li.CourseID && p.linkOwnerLocked(l) == li.ClientID
	}
	p.mu.RUnlock()
	switch {
	case !okCourse:
		return LineItem{}, notFound("course", li.CourseID)
	case !okTool:
		return LineItem{}, notFound("tool", li.ClientID)
	case li.ResourceLinkID != "" && !okLink:
		return LineItem{}, invalid("resource link %q is not a link of tool %q in course %q", li.ResourceLinkID, li.ClientID, li.CourseID)
	case !(li.ScoreMaximum > 0) || strings.TrimSpace(li.Label) == "":
		return LineItem{}, invalid("a line item needs a label and a score maximum above 0")
	}
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return p.svc.addLocked(li), nil
}

// LineItem finds a line item by id.
func (p *Platform) LineItem(id string) (LineItem, error) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	li, ok := p.svc.lineItems[id]
	if !ok {
		return LineItem{}, notFound("line item", id)
	}
	return *li, nil
}

// LineItems lists a course's line items in creation order.
func (p *Platform) LineItems(courseID string) []LineItem {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	var out []LineItem
	for _, id := range p.svc.lineItemIDs {
		if li := p.svc.lineItems[id]; li.CourseID == courseID {
			out = append(out, *li)
		}
	}
	return out
}

// LinkLineItem is the line item bound to a resource link of its tool.
// linkReviewLocked is what the line item of link l (the one its tool
// owns) says of submission reviews; nil when it says nothing. The caller
// holds p.mu.
func (p *Platform) linkReviewLocked(l ResourceLink) *SubmissionReview {
	owner := p.linkOwnerLocked(l)
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	for _, id := range p.svc.lineItemIDs {
		if li := p.svc.lineItems[id]; li.ResourceLinkID == l.ID && li.ClientID == owner && li.CourseID == l.CourseID {
			return li.SubmissionReview
		}
	}
	return nil
}

func (p *Platform) LinkLineItem(linkID string) (LineItem, bool) {
	p.mu.RLock()
	l, ok := p.links[linkID]
	owner := p.linkOwnerLocked(l)
	p.mu.RUnlock()
	if !ok {
		return LineItem{}, false
	}
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	for _, id := range p.svc.lineItemIDs {
		if li := p.svc.lineItems[id]; li.ResourceLinkID == linkID && li.ClientID == owner && li.CourseID == l.CourseID {
			return *li, true
		}
	}
	return LineItem{}, false
}

// Scores lists every score received for a line item, applied or not, in
// arrival order.
func (p *Platform) Scores(lineItemID string) []ScoreRecord {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return slices.Clone(p.svc.scores[lineItemID])
}

// LatestScore is the score that stands for a user on a line item: the last
// applied one.
func (p *Platform) LatestScore(lineItemID, userID string) (ScoreRecord, bool) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return p.svc.latestLocked(lineItemID, userID)
}

func (s *services) latestLocked(lineItemID, userID string) (ScoreRecord, bool) {
	list := s.scores[lineItemID]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].UserID == userID && list[i].Applied {
			return list[i], true
		}
	}
	return ScoreRecord{}, false
}

// toolLineItem finds the line item of the request path, if it belongs to
// the calling tool and the course in the path.
func (p *Platform) toolLineItem(r *http.Request, c serviceCall) (LineItem, bool) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	li, ok := p.svc.lineItems[r.PathValue("item")]
	if !ok || li.CourseID != r.PathValue("course") || li.ClientID != c.clientID {
		return LineItem{}, false
	}
	return *li, true
}

// courseForTool checks the course of the path exists. Every registered tool
// is placed in every course here, so any tool may use any course.
func (p *Platform) courseForTool(w http.ResponseWriter, r *http.Request) (Course, bool) {
	course, err := p.Course(r.PathValue("course"))
	if err != nil {
		serviceError(w, http.StatusNotFound, "no such course")
		return Course{}, false
	}
	return course, true
}

func (p *Platform) handleLineItems(w http.ResponseWriter, r *http.Request, c serviceCall) {
	course, ok := p.courseForTool(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	p.svc.mu.Lock()
	var items []lineItemJSON
	for _, id := range p.svc.lineItemIDs {
		li := *p.svc.lineItems[id]
		if li.CourseID != course.ID || li.ClientID != c.clientID ||
			q.Has("resource_link_id") && li.ResourceLinkID != q.Get("resource_link_id") ||
			q.Has("resource_id") && li.ResourceID != q.Get("resource_id") ||
			q.Has("tag") && li.Tag != q.Get("tag") {
			continue
		}
		items = append(items, p.lineItemDoc(li))
	}
	size := p.svc.pageSize
	p.svc.mu.Unlock()
	out, next := page(r, p.LineItemsURL(course.ID), items, size)
	if out == nil {
		out = []lineItemJSON{}
	}
	setNext(w, next)
	writeService(w, http.StatusOK, mediaLineItemContainer, out)
}

// decodeLineItem reads and checks a line item document.
func decodeLineItem(w http.ResponseWriter, r *http.Request) (lineItemJSON, bool) {
	if !mediaTypeIs(r.Header.Get("Content-Type"), mediaLineItem) {
		serviceError(w, http.StatusUnsupportedMediaType, "send the line item as "+mediaLineItem)
		return lineItemJSON{}, false
	}
	var in lineItemJSON
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		serviceError(w, http.StatusBadRequest, "the body is not a JSON line item: "+err.Error())
		return lineItemJSON{}, false
	}
	switch {
	case in.Label == nil || strings.TrimSpace(*in.Label) == "":
		serviceError(w, http.StatusBadRequest, "label is required and must not be blank")
		return lineItemJSON{}, false
	case in.ScoreMaximum == nil || !(*in.ScoreMaximum > 0) || math.IsInf(*in.ScoreMaximum, 0):
		serviceError(w, http.StatusBadRequest, "scoreMaximum is required and must be a number above 0")
		return lineItemJSON{}, false
	}
	if sr := in.SubmissionReview; sr != nil && sr.URL != "" && !isAbsURL(sr.URL) {
		serviceError(w, http.StatusBadRequest, "submissionReview.url must be an absolute http(s) URL")
		return lineItemJSON{}, false
	}
	for _, t := range []string{in.StartDateTime, in.EndDateTime} {
		if t != "" {
			if _, err := parseAGSTime(t); err != nil {
				serviceError(w, http.StatusBadRequest, "startDateTime and endDateTime must be ISO 8601 with a time zone")
				return lineItemJSON{}, false
			}
		}
	}
	return in, true
}

func (p *Platform) handleCreateLineItem(w http.ResponseWriter, r *http.Request, c serviceCall) {
	course, ok := p.courseForTool(w, r)
	if !ok {
		return
	}
	in, ok := decodeLineItem(w, r)
	if !ok {
		return
	}
	li, err := p.AddLineItem(LineItem{CourseID: course.ID, ClientID: c.clientID, Label: strings.TrimSpace(*in.Label),
		ScoreMaximum: *in.ScoreMaximum, ResourceID: in.ResourceID, ResourceLinkID: in.ResourceLinkID, Tag: in.Tag,
		StartDateTime: in.StartDateTime, EndDateTime: in.EndDateTime, SubmissionReview: in.SubmissionReview})
	if err != nil {
		// AGS: a resourceLinkId that is not this tool's link in this
		// context is Not Found.
		serviceError(w, http.StatusNotFound, err.Error())
		return
	}
	w.Header().Set("Location", p.LineItemURL(li))
	writeService(w, http.StatusCreated, mediaLineItem, p.lineItemDoc(li))
}

func (p *Platform) handleLineItem(w http.ResponseWriter, r *http.Request, c serviceCall) {
	li, ok := p.toolLineItem(r, c)
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	writeService(w, http.StatusOK, mediaLineItem, p.lineItemDoc(li))
}

func (p *Platform) handleUpdateLineItem(w http.ResponseWriter, r *http.Request, c serviceCall) {
	li, ok := p.toolLineItem(r, c)
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	in, ok := decodeLineItem(w, r)
	if !ok {
		return
	}
	if in.ID != "" && in.ID != p.LineItemURL(li) {
		serviceError(w, http.StatusBadRequest, "id cannot be changed")
		return
	}
	if in.ResourceLinkID != li.ResourceLinkID && in.ResourceLinkID != "" {
		serviceError(w, http.StatusBadRequest, "resourceLinkId cannot be changed")
		return
	}
	p.svc.mu.Lock()
	cur, ok := p.svc.lineItems[li.ID]
	if ok {
		cur.Label, cur.ScoreMaximum = strings.TrimSpace(*in.Label), *in.ScoreMaximum
		cur.ResourceID, cur.Tag = in.ResourceID, in.Tag
		cur.StartDateTime, cur.EndDateTime = in.StartDateTime, in.EndDateTime
		cur.SubmissionReview = in.SubmissionReview
		li = *cur
	}
	p.svc.mu.Unlock()
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	writeService(w, http.StatusOK, mediaLineItem, p.lineItemDoc(li))
}

func (p *Platform) handleDeleteLineItem(w http.ResponseWriter, r *http.Request, c serviceCall) {
	li, ok := p.toolLineItem(r, c)
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	p.svc.mu.Lock()
	delete(p.svc.lineItems, li.ID)
	delete(p.svc.scores, li.ID)
	p.svc.lineItemIDs = slices.DeleteFunc(p.svc.lineItemIDs, func(id string) bool { return id == li.ID })
	p.svc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// parseAGSTime reads an ISO 8601 timestamp with a time zone; AGS allows
// "+00" as well as "+00:00" and "Z".
func parseAGSTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-07", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 timestamp with a time zone")
}

func (p *Platform) handleScore(w http.ResponseWriter, r *http.Request, c serviceCall) {
	li, ok := p.toolLineItem(r, c)
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	if !mediaTypeIs(r.Header.Get("Content-Type"), mediaScore) {
		serviceError(w, http.StatusUnsupportedMediaType, "send the score as "+mediaScore)
		return
	}
	var in scoreJSON
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		serviceError(w, http.StatusBadRequest, "the body is not a JSON score: "+err.Error())
		return
	}
	ts, err := parseAGSTime(in.Timestamp)
	switch {
	case in.UserID == "":
		serviceError(w, http.StatusBadRequest, "userId is required")
		return
	case in.Timestamp == "" || err != nil:
		serviceError(w, http.StatusBadRequest, "timestamp is required, ISO 8601 with sub-second precision and a time zone")
		return
	case !slices.Contains(activityProgressValues, in.ActivityProgress):
		serviceError(w, http.StatusBadRequest, "activityProgress must be one of "+strings.Join(activityProgressValues, ", "))
		return
	case !slices.Contains(gradingProgressValues, in.GradingProgress):
		serviceError(w, http.StatusBadRequest, "gradingProgress must be one of "+strings.Join(gradingProgressValues, ", "))
		return
	case in.ScoreGiven != nil && (in.ScoreMaximum == nil || !(*in.ScoreMaximum > 0) || math.IsInf(*in.ScoreMaximum, 0)):
		serviceError(w, http.StatusBadRequest, "scoreMaximum above 0 is required with scoreGiven")
		return
	case in.ScoreGiven != nil && (*in.ScoreGiven < 0 || math.IsInf(*in.ScoreGiven, 0)):
		serviceError(w, http.StatusBadRequest, "scoreGiven must be a number of at least 0")
		return
	}
	p.mu.RLock()
	member := p.rolesLocked(li.CourseID, in.UserID) != nil
	p.mu.RUnlock()
	if !member {
		serviceError(w, http.StatusUnprocessableEntity, "userId "+in.UserID+" is not a member of the course")
		return
	}
	rec := ScoreRecord{UserID: in.UserID, ScoreGiven: in.ScoreGiven, ScoreMaximum: in.ScoreMaximum, Comment: in.Comment,
		ActivityProgress: in.ActivityProgress, GradingProgress: in.GradingProgress, Timestamp: ts, ReceivedAt: p.now()}
	p.svc.mu.Lock()
	if _, still := p.svc.lineItems[li.ID]; !still {
		p.svc.mu.Unlock()
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	last, had := p.svc.latestLocked(li.ID, in.UserID)
	rec.Applied = !had || ts.After(last.Timestamp)
	p.svc.scores[li.ID] = append(p.svc.scores[li.ID], rec)
	p.svc.mu.Unlock()
	if !rec.Applied {
		p.log.InfoContext(r.Context(), "score not applied: timestamp not newer than the last one",
			"line_item", li.ID, "user_id", in.UserID, "timestamp", in.Timestamp)
	}
	// A score that is not newer is acknowledged all the same (AGS: the
	// platform "may just ignore" it): the tool has nothing to retry.
	w.WriteHeader(http.StatusNoContent)
}

func (p *Platform) handleResults(w http.ResponseWriter, r *http.Request, c serviceCall) {
	li, ok := p.toolLineItem(r, c)
	if !ok {
		serviceError(w, http.StatusNotFound, "no such line item")
		return
	}
	members, err := p.Users(li.CourseID)
	if err != nil {
		serviceError(w, http.StatusNotFound, "no such course")
		return
	}
	only := r.URL.Query().Get("user_id")
	itemURL := p.LineItemURL(li)
	var results []resultJSON
	p.svc.mu.Lock()
	for _, m := range members {
		if only != "" && m.ID != only {
			continue
		}
		sc, ok := p.svc.latestLocked(li.ID, m.ID)
		if !ok {
			continue
		}
		res := resultJSON{ID: itemURL + "/results/" + url.PathEscape(m.ID), ScoreOf: itemURL, UserID: m.ID,
			ResultMaximum: li.ScoreMaximum, Comment: sc.Comment}
		if sc.ScoreGiven != nil && sc.ScoreMaximum != nil {
			// Results are on the line item's scale.
			v := *sc.ScoreGiven / *sc.ScoreMaximum * li.ScoreMaximum
			res.ResultScore = &v
		}
		results = append(results, res)
	}
	size := p.svc.pageSize
	p.svc.mu.Unlock()
	out, next := page(r, itemURL+"/results", results, size)
	if out == nil {
		out = []resultJSON{}
	}
	setNext(w, next)
	writeService(w, http.StatusOK, mediaResultContainer, out)
}

// agsClaim is the AGS endpoint claim of a launch from a link, or nil when
// the tool may use no AGS scope.
func (p *Platform) agsClaim(tool Tool, courseID, linkID string) *lti.AGSEndpointClaim {
	all := toolScopes(tool)
	var scopes []string
	for _, s := range all {
		// lineitem.readonly says nothing more when lineitem is granted.
		if s == lti.AGSScopeLineItemReadOnly && slices.Contains(all, lti.AGSScopeLineItem) {
			continue
		}
		if strings.HasPrefix(s, "https://purl.imsglobal.org/spec/lti-ags/") {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		return nil
	}
	claim := &lti.AGSEndpointClaim{Scope: scopes, LineItems: p.LineItemsURL(courseID)}
	if linkID != "" {
		if li, ok := p.LinkLineItem(linkID); ok && li.ClientID == tool.ClientID {
			claim.LineItem = p.LineItemURL(li)
		}
	}
	return claim
}
