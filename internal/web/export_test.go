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
