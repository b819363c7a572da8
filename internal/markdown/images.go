package markdown

import (
	"regexp"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Images. An image in a post is fetched by every reader's browser as the
// page loads: from anywhere on the web, it tells its owner who reads the
// post and when (staff, and readers of anonymous threads, included); from
// Roundtable's own address it is a request in the reader's session. So an
// image is shown as a link: its alt text, marked "(external image)",
// linking to its address, which the reader may choose to open. Only
// images of Roundtable's own file store are shown as images.

// ownFile matches the address of a file in Roundtable's file store as a
// post names it: /files/<id>/<name>, the same wherever the post is read
// (each page points it at its own discussion, see discuss.localFiles).
var ownFile = regexp.MustCompile(`^/files/[a-z2-7]{26}/[^/?#]+$`)

// ownImage reports whether an image's address is in Roundtable's own file
// store, whose images are shown in place (the CSP's img-src allows 'self').
func ownImage(dest []byte) bool { return ownFile.Match(dest) }

// imagesAsLinks turns every image not in the file store into a link to its
// address, or, inside a link (where a link cannot go), into its alt text.
type imagesAsLinks struct{}

func (imagesAsLinks) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var images []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering && !ownImage(img.Destination) {
			images = append(images, img)
		}
		return ast.WalkContinue, nil
	})
	// Innermost first: an image in another image's alt text is in a link
	// once the outer one is.
	for i := len(images) - 1; i >= 0; i-- {
		img := images[i]
		parent := img.Parent()
		if insideLink(img) {
			for c := img.FirstChild(); c != nil; {
				next := c.NextSibling()
				parent.InsertBefore(parent, img, c)
				c = next
			}
			parent.ReplaceChild(parent, img, ast.NewString([]byte(" (image)")))
			continue
		}
		link := ast.NewLink()
		link.Destination, link.Title = img.Destination, img.Title
		link.SetAttributeString("class", []byte("external-image"))
		if img.FirstChild() == nil {
			link.AppendChild(link, ast.NewString(img.Destination))
		}
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		link.AppendChild(link, ast.NewString([]byte(" (external image)")))
		parent.ReplaceChild(parent, img, link)
	}
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.Kind() {
		case ast.KindLink, ast.KindImage:
			return true
		}
	}
	return false
}
