package controlapi

import (
	"net/http"

	"github.com/gorilla/mux"
)

// surfaceRoutes registers the control calls of the message surface beyond
// subscribe messages (issue 13): customer-service sessions, updatable
// message activities, temporary media and media checks.
func (a *API) surfaceRoutes(c *mux.Router) {
	a.kefuRoutes(c)
	c.Handle("/activities", methods{http.MethodGet: a.getActivities})
	c.Handle("/media", methods{http.MethodGet: a.getMedia})
	c.Handle("/media-checks", methods{http.MethodGet: a.getMediaChecks})
	c.Handle("/media-checks/settings", methods{http.MethodPut: a.putMediaCheckSettings, http.MethodPost: a.putMediaCheckSettings})
}
