package web

// registrationRoutes serves LTI Dynamic Registration and the Canvas JSON
// configuration.
func (s *Server) registrationRoutes() {}
