package advantage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// AGS media types.
const (
	MediaLineItem          = "application/vnd.ims.lis.v2.lineitem+json"
	MediaLineItemContainer = "application/vnd.ims.lis.v2.lineitemcontainer+json"
	MediaScore             = "application/vnd.ims.lis.v1.score+json"
	MediaResultContainer   = "application/vnd.ims.lis.v2.resultcontainer+json"
)

// Activity progress values of a score.
const (
	ActivityInitialized = "Initialized"
	ActivityStarted     = "Started"
	ActivityInProgress  = "InProgress"
	ActivitySubmitted   = "Submitted"
	ActivityCompleted   = "Completed"
)

// Grading progress values of a score.
const (
	GradingFullyGraded   = "FullyGraded"
	GradingPending       = "Pending"
	GradingPendingManual = "PendingManual"
	GradingFailed        = "Failed"
	GradingNotReady      = "NotReady"
)

// LineItem is a gradebook column.
type LineItem struct {
	// ID is the line item's URL, set by the platform.
	ID             string  `json:"id,omitempty"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	Label          string  `json:"label"`
	ResourceID     string  `json:"resourceId,omitempty"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
	Tag            string  `json:"tag,omitempty"`
}

// Score is one learner's result sent to a line item.
type Score struct {
	UserID string
	// ScoreGiven is nil for a score that only reports progress
	// (Started, PendingManual...); ScoreMaximum is sent with it.
	ScoreGiven       *float64
	ScoreMaximum     float64
	Comment          string
	ActivityProgress string
	GradingProgress  string
	// Timestamp must increase for each score of a user and line item:
	// platforms ignore a score not newer than the last one they took.
	Timestamp time.Time
}

// TimestampFormat is RFC 3339 with milliseconds, as AGS asks.
const TimestampFormat = "2006-01-02T15:04:05.000Z07:00"

type scoreJSON struct {
	UserID           string   `json:"userId"`
	ScoreGiven       *float64 `json:"scoreGiven,omitempty"`
	ScoreMaximum     *float64 `json:"scoreMaximum,omitempty"`
	Comment          string   `json:"comment,omitempty"`
	ActivityProgress string   `json:"activityProgress"`
	GradingProgress  string   `json:"gradingProgress"`
	Timestamp        string   `json:"timestamp"`
}

// MarshalJSON writes the AGS score document.
func (s Score) MarshalJSON() ([]byte, error) {
	j := scoreJSON{
		UserID: s.UserID, ScoreGiven: s.ScoreGiven, Comment: s.Comment,
		ActivityProgress: s.ActivityProgress, GradingProgress: s.GradingProgress,
		Timestamp: s.Timestamp.UTC().Format(TimestampFormat),
	}
	if s.ScoreGiven != nil {
		m := s.ScoreMaximum
		j.ScoreMaximum = &m
	}
	return json.Marshal(j)
}

func (s Score) validate() error {
	switch {
	case s.UserID == "":
		return fmt.Errorf("score has no user id")
	case s.Timestamp.IsZero():
		return fmt.Errorf("score has no timestamp")
	case s.ActivityProgress == "" || s.GradingProgress == "":
		return fmt.Errorf("score needs activity and grading progress")
	case s.ScoreGiven != nil && !(s.ScoreMaximum > 0):
		return fmt.Errorf("score given without a positive score maximum")
	case s.ScoreGiven != nil && *s.ScoreGiven < 0:
		return fmt.Errorf("negative score given")
	}
	return nil
}

// Result is a learner's current result on a line item, as the platform
// keeps it.
type Result struct {
	ID            string   `json:"id"`
	ScoreOf       string   `json:"scoreOf"`
	UserID        string   `json:"userId"`
	ResultScore   *float64 `json:"resultScore,omitempty"`
	ResultMaximum *float64 `json:"resultMaximum,omitempty"`
	Comment       string   `json:"comment,omitempty"`
}

// LineItems lists the line items of a container, following pages. Filters
// (resource_link_id, resource_id, tag) are sent as query parameters; the
// platform may ignore them, so callers check what they get.
func (c *Client) LineItems(ctx context.Context, reg lti.Registration, lineItemsURL string, filters url.Values) ([]LineItem, error) {
	const op = "list line items"
	first, err := withQuery(lineItemsURL, filters)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	var out []LineItem
	err = c.pages(ctx, reg, call{op: op, method: http.MethodGet, url: first,
		scopes: []string{lti.AGSScopeLineItem}, accept: MediaLineItemContainer},
		func(body []byte) error {
			var page []LineItem
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			out = append(out, page...)
			return nil
		})
	return out, err
}

// FindOrCreateLineItem returns the line item of the container that matches
// want, creating it only when none does. A line item with the same
// resourceId (and tag) counts even when bound to another resource link: a
// copied course keeps its line items while its links get new ids, and
// creating a second column would split the grades. Without a resourceId the
// match is by resource link (and tag), and without either by tag and label.
func (c *Client) FindOrCreateLineItem(ctx context.Context, reg lti.Registration, lineItemsURL string, want LineItem) (LineItem, error) {
	key := reg.ID + "\x00" + lineItemsURL + "\x00" + want.ResourceID + "\x00" + want.ResourceLinkID + "\x00" + want.Tag + "\x00" + want.Label
	v, err, _ := c.lineItems.Do(key, func() (any, error) {
		return c.findOrCreate(ctx, reg, lineItemsURL, want)
	})
	if err != nil {
		return LineItem{}, err
	}
	return v.(LineItem), nil
}

func (c *Client) findOrCreate(ctx context.Context, reg lti.Registration, lineItemsURL string, want LineItem) (LineItem, error) {
	const op = "create line item"
	filters := url.Values{}
	switch {
	case want.ResourceID != "":
		filters.Set("resource_id", want.ResourceID)
	case want.ResourceLinkID != "":
		filters.Set("resource_link_id", want.ResourceLinkID)
	}
	filters.Set("tag", want.Tag)
	items, err := c.LineItems(ctx, reg, lineItemsURL, filters)
	if err != nil {
		return LineItem{}, err
	}
	if found, ok := match(items, want); ok {
		return found, nil
	}
	if !(want.ScoreMaximum > 0) || strings.TrimSpace(want.Label) == "" {
		return LineItem{}, &Error{Op: op, Err: fmt.Errorf("a new line item needs a label and a positive score maximum")}
	}
	want.ID = ""
	body, err := json.Marshal(want)
	if err != nil {
		return LineItem{}, &Error{Op: op, Err: err}
	}
	target, err := withQuery(lineItemsURL, nil)
	if err != nil {
		return LineItem{}, &Error{Op: op, Err: err}
	}
	resp, err := c.do(ctx, reg, call{op: op, method: http.MethodPost, url: target,
		scopes: []string{lti.AGSScopeLineItem}, accept: MediaLineItem, contentType: MediaLineItem, body: body})
	if err != nil {
		return LineItem{}, err
	}
	var created LineItem
	if err := json.Unmarshal(resp.body, &created); err != nil || created.ID == "" {
		return LineItem{}, &Error{Op: op, Status: resp.status, Body: truncate(resp.body), Err: fmt.Errorf("the answer is not a line item with an id")}
	}
	return created, nil
}

// match picks the line item for want, preferring one bound to want's
// resource link.
func match(items []LineItem, want LineItem) (LineItem, bool) {
	var fallback *LineItem
	for i := range items {
		it := items[i]
		if it.ID == "" || it.Tag != want.Tag {
			continue
		}
		switch {
		case want.ResourceID != "":
			if it.ResourceID != want.ResourceID {
				continue
			}
			if it.ResourceLinkID == want.ResourceLinkID {
				return it, true
			}
			if fallback == nil {
				fallback = &items[i]
			}
		case want.ResourceLinkID != "":
			if it.ResourceLinkID == want.ResourceLinkID && it.ResourceID == "" {
				return it, true
			}
		default:
			if it.ResourceID == "" && it.ResourceLinkID == "" && it.Label == want.Label {
				return it, true
			}
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return LineItem{}, false
}

// LineItem reads one line item by its URL.
func (c *Client) LineItem(ctx context.Context, reg lti.Registration, lineItemURL string) (LineItem, error) {
	const op = "read line item"
	target, err := withQuery(lineItemURL, nil)
	if err != nil {
		return LineItem{}, &Error{Op: op, Err: err}
	}
	resp, err := c.do(ctx, reg, call{op: op, method: http.MethodGet, url: target,
		scopes: []string{lti.AGSScopeLineItem}, accept: MediaLineItem})
	if err != nil {
		return LineItem{}, err
	}
	var li LineItem
	if err := json.Unmarshal(resp.body, &li); err != nil {
		return LineItem{}, &Error{Op: op, Status: resp.status, Body: truncate(resp.body), Err: fmt.Errorf("the answer is not a line item: %w", err)}
	}
	if li.ID == "" {
		li.ID = lineItemURL
	}
	return li, nil
}

// UpdateLineItem replaces a line item with li (AGS updates with the whole
// representation, so read it first and change what must change).
func (c *Client) UpdateLineItem(ctx context.Context, reg lti.Registration, li LineItem) (LineItem, error) {
	const op = "update line item"
	if li.ID == "" || !(li.ScoreMaximum > 0) || strings.TrimSpace(li.Label) == "" {
		return LineItem{}, &Error{Op: op, Err: fmt.Errorf("a line item update needs its URL, a label and a positive score maximum")}
	}
	body, err := json.Marshal(li)
	if err != nil {
		return LineItem{}, &Error{Op: op, Err: err}
	}
	target, err := withQuery(li.ID, nil)
	if err != nil {
		return LineItem{}, &Error{Op: op, Err: err}
	}
	resp, err := c.do(ctx, reg, call{op: op, method: http.MethodPut, url: target,
		scopes: []string{lti.AGSScopeLineItem}, accept: MediaLineItem, contentType: MediaLineItem, body: body})
	if err != nil {
		return LineItem{}, err
	}
	var updated LineItem
	if err := json.Unmarshal(resp.body, &updated); err != nil {
		return LineItem{}, &Error{Op: op, Status: resp.status, Body: truncate(resp.body), Err: fmt.Errorf("the answer is not a line item: %w", err)}
	}
	return updated, nil
}

// PublishScore posts a score to a line item: to its URL with "/scores"
// appended to the path, query string kept.
func (c *Client) PublishScore(ctx context.Context, reg lti.Registration, lineItemURL string, s Score) error {
	const op = "publish score"
	if err := s.validate(); err != nil {
		return &Error{Op: op, Err: err}
	}
	target, err := subpathURL(lineItemURL, "/scores")
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	body, err := json.Marshal(s)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	_, err = c.do(ctx, reg, call{op: op, method: http.MethodPost, url: target,
		scopes: []string{lti.AGSScopeScore}, contentType: MediaScore, body: body})
	return err
}

// subpathURL appends a sub-path (/scores, /results) to the path of a line
// item URL, keeping its query string, as AGS requires.
func subpathURL(lineItemURL, sub string) (string, error) {
	u, err := url.Parse(lineItemURL)
	if err != nil {
		return "", err
	}
	if !u.IsAbs() {
		return "", fmt.Errorf("line item URL %q is not absolute", lineItemURL)
	}
	u.Fragment, u.RawFragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + sub
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") + sub
	}
	return u.String(), nil
}

// Results lists the current results of a line item, following pages.
func (c *Client) Results(ctx context.Context, reg lti.Registration, lineItemURL string) ([]Result, error) {
	const op = "list results"
	target, err := subpathURL(lineItemURL, "/results")
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	var out []Result
	err = c.pages(ctx, reg, call{op: op, method: http.MethodGet, url: target,
		scopes: []string{lti.AGSScopeResultReadOnly}, accept: MediaResultContainer},
		func(body []byte) error {
			var page []Result
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			out = append(out, page...)
			return nil
		})
	return out, err
}

// pages GETs r.url and every rel="next" page after it, up to maxPages,
// handing each body to add.
func (c *Client) pages(ctx context.Context, reg lti.Registration, r call, add func([]byte) error) error {
	base, err := url.Parse(r.url)
	if err != nil {
		return &Error{Op: r.op, Err: err}
	}
	seen := map[string]bool{}
	for range maxPages {
		seen[r.url] = true
		resp, err := c.do(ctx, reg, r)
		if err != nil {
			return err
		}
		if err := add(resp.body); err != nil {
			return &Error{Op: r.op, Status: resp.status, Body: truncate(resp.body), Err: fmt.Errorf("decode page: %w", err)}
		}
		next, err := nextPage(base, resp.header)
		if err != nil {
			return &Error{Op: r.op, Status: resp.status, Err: err}
		}
		if next == nil {
			return nil
		}
		if seen[next.String()] {
			return &Error{Op: r.op, Status: resp.status, Err: fmt.Errorf("next page link %s loops", next)}
		}
		r.url = next.String()
	}
	return &Error{Op: r.op, Err: fmt.Errorf("more than %d pages", maxPages)}
}
