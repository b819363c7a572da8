package ltiplatform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Browser plays a user's browser over real HTTP: it keeps cookies and walks
// redirects one hop at a time so that each one can be inspected.
//
// Cookies come from net/http/cookiejar, which since Go 1.23 sends Secure
// cookies to localhost and loopback addresses over plain http, as browsers
// treat them as secure contexts; a tool's Secure session cookie therefore
// works against an httptest server on 127.0.0.1. The jar ignores SameSite
// and Partitioned, so cross-site cookie blocking is not simulated.
type Browser struct {
	client *http.Client
	// MaxRedirects bounds redirects followed by PostForm and Get.
	MaxRedirects int
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Browser{
		client: &http.Client{
			Jar:     jar,
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		MaxRedirects: 10,
	}
}

// HTTPClient is the underlying client; it does not follow redirects.
func (b *Browser) HTTPClient() *http.Client { return b.client }

// Cookies returns the cookies the browser would send to rawURL.
func (b *Browser) Cookies(rawURL string) []*http.Cookie {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	return b.client.Jar.Cookies(u)
}

// Result is the last response of a navigation.
type Result struct {
	StatusCode int
	URL        string // after redirects
	Body       string
	Header     http.Header
}

// AuthResponse is the form the platform's authorization endpoint posts to
// the tool: id_token and state, or error, error_description and state.
type AuthResponse struct {
	Action string
	Fields url.Values
}

// PageError reports a page where a redirect or a form was expected.
type PageError struct {
	Step       string
	URL        string
	StatusCode int
	Body       string
}

func (e *PageError) Error() string {
	body := e.Body
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	return fmt.Sprintf("%s: %s answered %d: %s", e.Step, e.URL, e.StatusCode, body)
}

const maxBody = 10 << 20

func (b *Browser) do(ctx context.Context, method, rawURL string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("User-Agent", "ltiplatform-browser/1.0")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", rawURL, err)
	}
	return resp, string(data), nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func location(resp *http.Response) (string, error) {
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("redirect from %s without a usable Location: %w", resp.Request.URL, err)
	}
	return loc.String(), nil
}

// Login opens a tool's login initiation URL, follows its redirect to the
// platform's authorization endpoint and returns the form the platform
// answers with. A page from the tool instead of a redirect (an error, or a
// page that uses platform storage first) is a *PageError.
func (b *Browser) Login(ctx context.Context, loginURL string) (*AuthResponse, error) {
	resp, body, err := b.do(ctx, http.MethodGet, loginURL, nil)
	if err != nil {
		return nil, err
	}
	if !isRedirect(resp.StatusCode) {
		return nil, &PageError{Step: "login initiation", URL: loginURL, StatusCode: resp.StatusCode, Body: body}
	}
	authURL, err := location(resp)
	if err != nil {
		return nil, err
	}
	return b.Authorize(ctx, authURL)
}

// Authorize opens an authorization request URL and reads the auto-post
// form the platform answers with.
func (b *Browser) Authorize(ctx context.Context, authURL string) (*AuthResponse, error) {
	resp, body, err := b.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &PageError{Step: "authorization", URL: authURL, StatusCode: resp.StatusCode, Body: body}
	}
	ar, err := ParseForm(body, resp.Request.URL)
	if err != nil {
		return nil, &PageError{Step: "authorization (" + err.Error() + ")", URL: authURL, StatusCode: resp.StatusCode, Body: body}
	}
	return ar, nil
}

// ParseForm reads the first form of an HTML page: its action, resolved
// against base, and the values of its named inputs.
func ParseForm(page string, base *url.URL) (*AuthResponse, error) {
	// Without scripting, noscript content is parsed as markup, as in a
	// browser with JavaScript off.
	doc, err := html.ParseWithOptions(strings.NewReader(page), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, err
	}
	form := find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "form" })
	if form == nil {
		return nil, errors.New("no form on the page")
	}
	action, err := base.Parse(attr(form, "action"))
	if err != nil {
		return nil, fmt.Errorf("form action: %w", err)
	}
	ar := &AuthResponse{Action: action.String(), Fields: url.Values{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "input" || n.Data == "textarea") {
			if name := attr(n, "name"); name != "" {
				v := attr(n, "value")
				if n.Data == "textarea" && n.FirstChild != nil {
					v = n.FirstChild.Data
				}
				ar.Fields.Add(name, v)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return ar, nil
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// PostForm posts fields to action and follows redirects.
func (b *Browser) PostForm(ctx context.Context, action string, fields url.Values) (*Result, error) {
	return b.navigate(ctx, http.MethodPost, action, fields)
}

// Get opens a URL and follows redirects.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Result, error) {
	return b.navigate(ctx, http.MethodGet, rawURL, nil)
}

// navigate follows redirects as a browser does: 301/302/303 turn into a
// GET, 307/308 repeat the request with its body.
func (b *Browser) navigate(ctx context.Context, method, rawURL string, form url.Values) (*Result, error) {
	for hops := 0; ; hops++ {
		resp, body, err := b.do(ctx, method, rawURL, form)
		if err != nil {
			return nil, err
		}
		if !isRedirect(resp.StatusCode) {
			return &Result{StatusCode: resp.StatusCode, URL: rawURL, Body: body, Header: resp.Header}, nil
		}
		if hops >= b.MaxRedirects {
			return nil, fmt.Errorf("more than %d redirects, last from %s", b.MaxRedirects, rawURL)
		}
		if rawURL, err = location(resp); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
			method, form = http.MethodGet, nil
		}
	}
}

// Launch starts a launch on p, logs in to the tool and posts the platform's
// answer to it, returning the tool's final page.
func (b *Browser) Launch(ctx context.Context, p *Platform, req LaunchRequest) (*Result, error) {
	loginURL, err := p.StartLaunch(req)
	if err != nil {
		return nil, err
	}
	ar, err := b.Login(ctx, loginURL)
	if err != nil {
		return nil, err
	}
	return b.PostForm(ctx, ar.Action, ar.Fields)
}
