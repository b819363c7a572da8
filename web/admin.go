package web

// adminRoutes serves the administration console under /admin.
func (s *Server) adminRoutes() {}
