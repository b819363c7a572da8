package web

// Hooks for the web_test package.

func init() { renderedPosts.renders = map[string]int{} }

// MarkdownRenders is how many times the process rendered a post's text
// (its cache missed).
func MarkdownRenders(body string) int {
	renderedPosts.mu.Lock()
	defer renderedPosts.mu.Unlock()
	return renderedPosts.renders[body]
}

// SessionCookieName names the session cookie of the activity whose id is
// link (without the __Host- prefix of an https installation).
func SessionCookieName(link string) string { return sessionCookieName(link) }

// MaxSessionCookies is how many session cookies a browser keeps at most.
const MaxSessionCookies = maxSessionCookies
