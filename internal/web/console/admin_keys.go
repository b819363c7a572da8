package console

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Each registration signs with keys of its own, published at its own JWKS
// URL: the console shows them on the platform's page, rotates and retires
// them there, and lists every registration's signing key on /admin/keys.

type keyView struct {
	KID       string
	Created   kit.TimeView
	Retired   kit.TimeView
	State     string
	Signing   bool
	Published bool
	// Shared keys are also published at the shared URL, which LMSs
	// registered before keys were per registration may still use.
	Shared bool
}

func (s *Handlers) keyView(in toolkey.Info) keyView {
	v := keyView{KID: in.KID, Created: s.TimeView(&in.CreatedAt), Retired: s.TimeView(in.RetiredAt), Signing: in.Signing, Shared: in.Shared}
	switch {
	case in.Signing:
		v.State, v.Published = "Signing", true
	case in.RetiredAt != nil:
		v.State = "Retired"
	default:
		v.State, v.Published = "Published", true
	}
	return v
}

// platformKeys is what the console shows of a registration's keys.
type platformKeys struct {
	// JWKSURL is the registration's own key set, the URL its LMS must hold.
	JWKSURL string
	// CanvasConfigURL is the Canvas JSON configuration of the registration.
	CanvasConfigURL string
	Keys            []keyView
	Signing         keyView
	// SharedSigning warns that the registration still signs with a key
	// every LMS registered before shared: its LMS may still use the shared
	// URL and must be given JWKSURL before a rotation.
	SharedSigning bool
	SharedURL     string
	Error         string
}

func (s *Handlers) platformKeys(infos []toolkey.Info, platformID string) platformKeys {
	k := platformKeys{JWKSURL: s.JWKSURL(platformID), CanvasConfigURL: s.canvasConfigURL(platformID), SharedURL: s.URL("/.well-known/jwks.json")}
	for _, in := range infos {
		if in.PlatformID != platformID {
			continue
		}
		v := s.keyView(in)
		k.Keys = append(k.Keys, v)
		if v.Signing {
			k.Signing, k.SharedSigning = v, v.Shared
		}
	}
	return k
}

// canvasConfigURL is the Canvas JSON configuration for a registration.
func (s *Handlers) canvasConfigURL(platformID string) string {
	return s.URL("/lti/config.json?" + url.Values{"platform": {platformID}}.Encode())
}

type keysRow struct {
	P platformView
	platformKeys
}

type adminKeysPage struct {
	L         kit.Layout
	A         adminBar
	Rows      []keysRow
	SharedURL string
	// SharedKIDs are the shared keys still published at SharedURL.
	SharedKIDs []string
}

// KeysPage lists every registration with its JWKS URL and signing key.
func (s *Handlers) KeysPage(c echo.Context) error {
	ctx := c.Request().Context()
	ps, err := s.Registry.List(ctx)
	if err != nil {
		return err
	}
	all, err := s.Keys.All(ctx)
	if err != nil {
		return err
	}
	page := adminKeysPage{L: s.Layout("Keys"), A: s.adminBar(c, "keys"), SharedURL: s.URL("/.well-known/jwks.json")}
	for _, p := range ps {
		page.Rows = append(page.Rows, keysRow{P: s.platformView(p), platformKeys: s.platformKeys(all, p.ID)})
	}
	shared, err := s.Keys.SharedSet(ctx)
	if err != nil {
		return err
	}
	for i := 0; i < shared.Len(); i++ {
		if k, ok := shared.Key(i); ok {
			page.SharedKIDs = append(page.SharedKIDs, k.KeyID())
		}
	}
	return s.RenderPage(c, http.StatusOK, adminKeysView(page))
}

// PlatformKeysRotate gives the registration a new signing key.
func (s *Handlers) PlatformKeysRotate(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	in, err := s.Keys.Rotate(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	s.adminLog(c, "registration key rotated", slog.String("platform", p.ID), slog.String("kid", in.KID))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=rotated#keys")
}

// PlatformKeysRetire stops publishing one of the registration's keys.
func (s *Handlers) PlatformKeysRetire(c echo.Context) error {
	p, err := s.platform(c)
	if err != nil {
		return err
	}
	kid := c.FormValue("kid")
	err = s.Keys.Retire(c.Request().Context(), p.ID, kid)
	switch {
	case errors.Is(err, toolkey.ErrSigningKey):
		return s.renderPlatformPage(c, http.StatusConflict, p, platformPageErrors{keys: "Key " + kid + ": " + toolkey.ErrSigningKey.Message})
	case errors.Is(err, store.ErrNotFound):
		return s.renderPlatformPage(c, http.StatusNotFound, p, platformPageErrors{keys: "This registration has no key " + kid + "."})
	case err != nil:
		return err
	}
	s.adminLog(c, "registration key retired", slog.String("platform", p.ID), slog.String("kid", kid))
	return c.Redirect(http.StatusSeeOther, "/admin/platforms/"+p.ID+"?done=retired#keys")
}

// registrationKeys reads one registration's keys for its page.
func (s *Handlers) registrationKeys(c echo.Context, p tenant.Platform) (platformKeys, error) {
	infos, err := s.Keys.List(c.Request().Context(), p.ID)
	if err != nil {
		return platformKeys{}, err
	}
	return s.platformKeys(infos, p.ID), nil
}
