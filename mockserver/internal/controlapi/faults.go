package controlapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func (a *API) endpoints(platformName string) []string {
	p, ok := a.platforms[platformName]
	if !ok {
		return nil
	}
	return p.Endpoints()
}

// POST /_mock/faults → 201 {"id"}
func (a *API) postFault(w http.ResponseWriter, r *http.Request) {
	var f mockapi.Fault
	if err := decode(r, &f); err != nil {
		fail(w, err)
		return
	}
	if field, err := faults.Validate(f, a.endpoints); err != nil {
		fail(w, bad(field, "%v", err))
		return
	}
	id := a.env.Faults.Add(f)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (a *API) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, mockapi.Faults{Faults: a.env.Faults.List()})
}

func (a *API) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	a.env.Faults.Clear()
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteFault(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !a.env.Faults.Remove(id) {
		fail(w, notFound("id", "no fault %q", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
