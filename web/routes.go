package web

// routes lists every route of the service.
func (s *Server) routes() {
	e := s.echo
	e.GET("/", s.home)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/*", s.static)
	e.GET("/.well-known/jwks.json", s.jwks)

	e.GET("/lti/login", s.ltiLogin)
	e.POST("/lti/login", s.ltiLogin)
	e.POST("/lti/launch", s.ltiLaunch)

	a := e.Group("/a/:link", s.requireSession)
	a.GET("", s.activity)

	s.registrationRoutes()
	s.adminRoutes()
}
