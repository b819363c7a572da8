package ltiplatform

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// services is the state of the LTI Advantage services: access tokens, line
// items and scores, and what tests and the demo switch and observe. Its
// lock is taken after Platform.mu, never before.
type services struct {
	mu sync.Mutex

	keys   *lti.KeyCache          // tools' public keys
	tokens map[string]accessToken // by token
	jtis   map[string]time.Time   // client assertion ids seen → when they may be forgotten

	lineItems   map[string]*LineItem // by id
	lineItemIDs []string             // creation order
	nextItem    int
	scores      map[string][]ScoreRecord // by line item id, in arrival order

	inactive map[string]map[string]bool // course id → user id → inactive

	pageSize int
	latency  time.Duration
	fault    Fault
	faultN   int // requests the fault still applies to; -1 until cleared
	// nextFaults follow the fault in force, in order, once it has run out.
	nextFaults []Fault

	log       []ServiceRequest
	inflight  map[string]int
	highWater map[string]int
}

// Defaults of the services.
const (
	accessTokenTTL     = time.Hour
	defaultPageSize    = 50
	maxServiceLog      = 1000
	maxServiceBody     = 1 << 20
	serviceLogOnPage   = 30
	servicesPathPrefix = "/api/lti/"
)

func newServices() *services {
	keys := lti.NewKeyCache(&http.Client{Timeout: 10 * time.Second})
	// A tool that rotated its key is believed at once; the platform is no
	// target worth protecting from refetches here.
	keys.RefetchInterval = time.Second
	keys.TTL = 5 * time.Minute
	return &services{
		keys:      keys,
		tokens:    map[string]accessToken{},
		jtis:      map[string]time.Time{},
		lineItems: map[string]*LineItem{},
		scores:    map[string][]ScoreRecord{},
		inactive:  map[string]map[string]bool{},
		pageSize:  defaultPageSize,
		inflight:  map[string]int{},
		highWater: map[string]int{},
	}
}

// Fault makes the services (line items, scores, results, memberships; not
// the token endpoint) fail on purpose. Status is 500, 503, 429 or 401.
type Fault struct {
	Status int
	// Count is how many requests fail; 0 fails every request until
	// ClearServiceFault.
	Count int
	// RetryAfter is sent as the Retry-After header when not empty: delay
	// seconds ("2") or an HTTP-date.
	RetryAfter string
}

// FailServices makes the next f.Count service requests (every one, with 0)
// answer f.Status; faults given after the first follow it in order, each
// once the one before has run out, so a test sets up a whole sequence
// before the tool's retries can overtake it. A 401 stands for an access
// token the platform no longer accepts: the tool is expected to fetch a
// new one.
func (p *Platform) FailServices(f Fault, then ...Fault) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	p.svc.setFault(f)
	p.svc.nextFaults = then
}

// setFault puts f in force; the caller holds s.mu.
func (s *services) setFault(f Fault) {
	s.fault = f
	s.faultN = f.Count
	if f.Count <= 0 {
		s.faultN = -1
	}
}

// ClearServiceFault makes the services answer normally again.
func (p *Platform) ClearServiceFault() {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	p.svc.fault, p.svc.faultN, p.svc.nextFaults = Fault{}, 0, nil
}

// ServiceFault returns the fault in force, if any.
func (p *Platform) ServiceFault() (Fault, bool) {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return p.svc.fault, p.svc.faultN != 0 && p.svc.fault.Status != 0
}

// SetServiceLatency makes every service request take at least d, so that
// requests sent in parallel overlap and show in MaxConcurrentRequests.
func (p *Platform) SetServiceLatency(d time.Duration) {
	p.svc.mu.Lock()
	p.svc.latency = d
	p.svc.mu.Unlock()
}

// SetServicePageSize sets how many line items, results or members one page
// holds (at least 1); a tool's limit parameter can only lower it.
func (p *Platform) SetServicePageSize(n int) {
	p.svc.mu.Lock()
	p.svc.pageSize = max(n, 1)
	p.svc.mu.Unlock()
}

// ServiceRequest is one request to the token endpoint or a service.
type ServiceRequest struct {
	Time     time.Time
	ClientID string // empty when the caller could not be identified
	Method   string
	Path     string // with the query string
	Status   int
	Duration time.Duration
}

// ServiceRequests returns the recorded requests, oldest first (the last
// thousand).
func (p *Platform) ServiceRequests() []ServiceRequest {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return slices.Clone(p.svc.log)
}

// MaxConcurrentRequests is the most service requests of one tool the
// platform was ever serving at the same time.
func (p *Platform) MaxConcurrentRequests(clientID string) int {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return p.svc.highWater[clientID]
}

// ResetServiceStats forgets the request log and concurrency marks.
func (p *Platform) ResetServiceStats() {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	p.svc.log = nil
	clear(p.svc.highWater)
}

func (s *services) record(r ServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= maxServiceLog {
		s.log = slices.Delete(s.log, 0, len(s.log)-maxServiceLog+1)
	}
	s.log = append(s.log, r)
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serviceCall is an authorized service request.
type serviceCall struct {
	clientID string
	scopes   []string
}

func (c serviceCall) has(scopes ...string) bool {
	for _, s := range scopes {
		if slices.Contains(c.scopes, s) {
			return true
		}
	}
	return false
}

// service wraps a service handler: it records the request, counts the
// tool's concurrent requests, applies a fault, checks the bearer token and
// that it carries one of the scopes, then calls h.
func (p *Platform) service(h func(w http.ResponseWriter, r *http.Request, c serviceCall), scopes ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := p.now()
		sw := &statusWriter{ResponseWriter: w}
		tok, known := p.lookupToken(r)
		clientID := tok.clientID
		s := p.svc
		s.mu.Lock()
		s.inflight[clientID]++
		s.highWater[clientID] = max(s.highWater[clientID], s.inflight[clientID])
		latency := s.latency
		var fault Fault
		if s.faultN != 0 && s.fault.Status != 0 {
			fault = s.fault
			if s.faultN > 0 {
				s.faultN--
			}
			if s.faultN == 0 && len(s.nextFaults) > 0 {
				s.setFault(s.nextFaults[0])
				s.nextFaults = s.nextFaults[1:]
			}
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inflight[clientID]--
			s.mu.Unlock()
			s.record(ServiceRequest{Time: start, ClientID: clientID, Method: r.Method, Path: r.URL.RequestURI(),
				Status: sw.status, Duration: p.now().Sub(start)})
		}()
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		switch {
		case fault.Status == http.StatusUnauthorized:
			sw.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the access token was revoked"`)
			serviceError(sw, http.StatusUnauthorized, "the access token is no longer accepted")
			return
		case fault.Status != 0:
			if fault.RetryAfter != "" {
				sw.Header().Set("Retry-After", fault.RetryAfter)
			}
			serviceError(sw, fault.Status, "the service is unavailable, try again later")
			return
		case !known:
			sw.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			serviceError(sw, http.StatusUnauthorized, "a valid bearer access token is required")
			return
		}
		c := serviceCall{clientID: tok.clientID, scopes: tok.scopes}
		if !c.has(scopes...) {
			sw.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
			serviceError(sw, http.StatusForbidden, "the access token lacks the scope "+strings.Join(scopes, " or "))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, maxServiceBody)
		h(sw, r, c)
	}
}

// serviceError answers a service request with a JSON problem.
func serviceError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "error": http.StatusText(status), "detail": detail})
}

// writeService answers with a JSON document of the given media type.
func writeService(w http.ResponseWriter, status int, mediaType string, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// mediaTypeIs compares a Content-Type header to a media type, ignoring
// parameters and case.
func mediaTypeIs(header, want string) bool {
	mt, _, _ := strings.Cut(header, ";")
	return strings.EqualFold(strings.TrimSpace(mt), want)
}

// toolScopes are the service scopes a tool may use: all the platform
// supports unless the tool was registered with fewer.
func toolScopes(t Tool) []string {
	if t.Scopes == nil {
		return slices.Clone(scopesSupported)
	}
	var out []string
	for _, s := range scopesSupported {
		if slices.Contains(t.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// page cuts items to one page: the offset comes from the "page" query
// parameter (1-based), the size from the platform's page size and the
// tool's "limit". next is the URL of the following page, "" on the last.
func page[T any](r *http.Request, base string, items []T, pageSize int) (out []T, next string) {
	q := r.URL.Query()
	size := pageSize
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l < size {
		size = l
	}
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	from := len(items)
	if n-1 <= len(items)/size { // compared before multiplying: page may be huge
		from = min((n-1)*size, len(items))
	}
	to := min(from+size, len(items))
	if to < len(items) {
		q.Set("page", strconv.Itoa(n+1))
		next = base + "?" + q.Encode()
	}
	return items[from:to], next
}

// setNext adds the Link header of the next page.
func setNext(w http.ResponseWriter, next string) {
	if next != "" {
		w.Header().Add("Link", "<"+next+`>; rel="next"`)
	}
}

// serviceRoutes adds the token endpoint, the AGS and NRPS services and the
// gradebook page.
func (p *Platform) serviceRoutes(mux *http.ServeMux) {
	const (
		items   = "/api/lti/courses/{course}/lineitems"
		item    = items + "/{item}"
		members = "/api/lti/courses/{course}/memberships"
	)
	var (
		read  = []string{lti.AGSScopeLineItem, lti.AGSScopeLineItemReadOnly}
		write = lti.AGSScopeLineItem
	)
	mux.HandleFunc("POST /token", p.handleToken)
	mux.HandleFunc("GET "+items, p.service(p.handleLineItems, read...))
	mux.HandleFunc("POST "+items, p.service(p.handleCreateLineItem, write))
	mux.HandleFunc("GET "+item, p.service(p.handleLineItem, read...))
	mux.HandleFunc("PUT "+item, p.service(p.handleUpdateLineItem, write))
	mux.HandleFunc("DELETE "+item, p.service(p.handleDeleteLineItem, write))
	mux.HandleFunc("POST "+item+"/scores", p.service(p.handleScore, lti.AGSScopeScore))
	mux.HandleFunc("GET "+item+"/results", p.service(p.handleResults, lti.AGSScopeResultReadOnly))
	mux.HandleFunc("GET "+members, p.service(p.handleMemberships, lti.NRPSScopeMembershipReadOnly))
	// The demo gradebook shows what the services received.
	mux.HandleFunc("GET /courses/{id}/gradebook", p.handleGradebook)
	mux.HandleFunc("POST /courses/{id}/gradebook/services", p.handleGradebookServices)
}
