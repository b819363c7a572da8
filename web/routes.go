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

	a := e.Group("/a/:link", s.requireSession, s.requireCSRF)
	a.GET("", s.discussionList)
	a.GET("/new", s.newThreadForm)
	a.POST("/threads", s.createThread)
	a.GET("/t/:thread", s.thread)
	a.POST("/t/:thread/replies", s.reply)
	a.POST("/t/:thread/flag", s.threadFlag)
	a.GET("/t/:thread/p/:post/edit", s.editForm)
	a.POST("/t/:thread/p/:post/edit", s.edit)
	a.GET("/t/:thread/p/:post/history", s.history)
	a.POST("/t/:thread/p/:post/vote", s.vote)
	a.POST("/t/:thread/p/:post/accept", s.accept)
	a.POST("/t/:thread/p/:post/endorse", s.endorse)
	a.POST("/t/:thread/p/:post/delete", s.deletePost)
	a.GET("/t/:thread/p/:post/flag", s.flagForm)
	a.POST("/t/:thread/p/:post/flag", s.flagPost)
	a.GET("/moderation", s.moderationQueue)
	a.GET("/moderation/log", s.moderationLog)
	a.POST("/moderation/p/:post/hide", s.hidePost)
	a.POST("/moderation/p/:post/restore", s.restorePost)
	a.POST("/moderation/p/:post/dismiss", s.dismissFlags)
	a.POST("/moderation/t/:thread/lock", s.lockFromQueue)
	a.POST("/moderation/u/:user/suspend", s.suspendMember)
	a.POST("/moderation/u/:user/lift", s.liftSuspension)
	a.GET("/events", s.liveEvents)
	a.GET("/notifications", s.notifications)
	a.POST("/notifications/read", s.markNotificationsRead)
	a.GET("/participation", s.participation)
	a.GET("/participation.csv", s.participationCSV)

	s.registrationRoutes()
	s.adminRoutes()
}
