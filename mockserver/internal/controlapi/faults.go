package controlapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Endpoints names the endpoints of a platform that faults can target (nil
// for a platform the mock does not emulate): its APIs, and its pushes when
// it pushes. Quotas take the APIs only.
func (a *API) Endpoints(platformName string) []string {
	p, ok := a.platforms[platformName]
	if !ok {
		return nil
	}
	return append(append([]string(nil), p.Endpoints()...), a.env.Push.FaultEndpoints(platformName)...)
}

// AddFault validates and injects a fault, returning its id.
func (a *API) AddFault(f mockapi.Fault) (string, error) {
	if field, err := faults.Validate(f, a.Endpoints); err != nil {
		return "", bad(field, "%v", err)
	}
	if field, err := a.env.Push.CheckFault(f); err != nil {
		return "", bad(field, "%v", err)
	}
	return a.env.Faults.Add(f), nil
}

// Faults lists the active faults with how often each has fired.
func (a *API) Faults() []mockapi.Fault { return a.env.Faults.List() }

// RemoveFault deletes one fault.
func (a *API) RemoveFault(id string) error {
	if !a.env.Faults.Remove(id) {
		return notFound("id", "no fault %q", id)
	}
	return nil
}

// ClearFaults deletes every fault.
func (a *API) ClearFaults() { a.env.Faults.Clear() }

// POST /_mock/faults → 201 {"id"}
func (a *API) postFault(w http.ResponseWriter, r *http.Request) {
	var f mockapi.Fault
	if err := decode(r, &f); err != nil {
		fail(w, err)
		return
	}
	id, err := a.AddFault(f)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (a *API) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, mockapi.Faults{Faults: a.Faults()})
}

func (a *API) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	a.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteFault(w http.ResponseWriter, r *http.Request) {
	if err := a.RemoveFault(mux.Vars(r)["id"]); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
