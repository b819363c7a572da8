package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/toolkey"
)

type keyView struct {
	KID       string
	Created   timeView
	Retired   timeView
	State     string
	Signing   bool
	Published bool
}

type adminKeysPage struct {
	L     Layout
	A     adminBar
	Keys  []keyView
	JWKS  string
	Error string
}

func (s *Server) renderKeys(c echo.Context, status int, errMsg string) error {
	infos, err := s.Keys.List(c.Request().Context())
	if err != nil {
		return err
	}
	page := adminKeysPage{L: s.layout("Keys"), A: s.adminBar(c, "keys"), JWKS: s.URL("/.well-known/jwks.json"), Error: errMsg}
	for _, in := range infos {
		v := keyView{KID: in.KID, Created: s.timeView(&in.CreatedAt), Retired: s.timeView(in.RetiredAt), Signing: in.Signing}
		switch {
		case in.Signing:
			v.State, v.Published = "Signing", true
		case in.RetiredAt != nil:
			v.State = "Retired"
		default:
			v.State, v.Published = "Published", true
		}
		page.Keys = append(page.Keys, v)
	}
	return s.render(c, status, "admin_keys", page)
}

func (s *Server) adminKeys(c echo.Context) error {
	return s.renderKeys(c, http.StatusOK, "")
}

func (s *Server) adminKeysRotate(c echo.Context) error {
	in, err := s.Keys.Rotate(c.Request().Context())
	if err != nil {
		return err
	}
	s.adminLog(c, "tool key rotated", slog.String("kid", in.KID))
	return c.Redirect(http.StatusSeeOther, "/admin/keys?done=rotated")
}

func (s *Server) adminKeysRetire(c echo.Context) error {
	kid := c.FormValue("kid")
	err := s.Keys.Retire(c.Request().Context(), kid)
	switch {
	case errors.Is(err, toolkey.ErrSigningKey):
		return s.renderKeys(c, http.StatusConflict, "Key "+kid+": "+toolkey.ErrSigningKey.Message)
	case errors.Is(err, store.ErrNotFound):
		return s.renderKeys(c, http.StatusNotFound, "There is no key "+kid+".")
	case err != nil:
		return err
	}
	s.adminLog(c, "tool key retired", slog.String("kid", kid))
	return c.Redirect(http.StatusSeeOther, "/admin/keys?done=retired")
}
