package controlapi

import "github.com/gorilla/mux"

// surfaceRoutes registers the control calls of the message surface beyond
// subscribe messages (issue 13): customer-service sessions, updatable
// message activities, temporary media and media checks.
func (a *API) surfaceRoutes(c *mux.Router) {
	a.kefuRoutes(c)
}
