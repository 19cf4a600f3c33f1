package api

import (
	"fmt"
	"net/http"
)

type groupBody struct {
	App     string   `json:"app"`
	Members []string `json:"members"`
}

// PUT /v1/groups/{name} {"app","members":[…]} replaces the group's members.
func (a *API) putGroup(w http.ResponseWriter, r *http.Request) {
	name, ps := pathGroup(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	bulk(w, r)
	var req groupBody
	if !decode(w, r, maxBroadcastBody, &req) {
		return
	}
	if _, ok := a.apps[req.App]; !ok {
		ps = append(ps, Problem{"app", "unknown_app", "app must name a configured app"})
	}
	members := dedupe(req.Members)
	if len(members) == 0 {
		ps = append(ps, Problem{"members", "required", "members must list at least one recipient"})
	}
	if len(members) > maxGroupMembers {
		ps = append(ps, Problem{"members", "too_many", fmt.Sprintf("%d members, over the limit of %d per request", len(members), maxGroupMembers)})
	} else {
		ps = append(ps, checkList("members", req.Members)...)
	}
	if len(ps) > 0 {
		writeProblems(w, capProblems(ps))
		return
	}
	if err := a.store.PutGroup(r.Context(), req.App, name, members); err != nil {
		a.storeError(w, err, "group")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "app": req.App, "members": len(members)})
}

// GET /v1/groups/{name}?app=
func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	app, name, ok := a.groupParams(w, r)
	if !ok {
		return
	}
	members, err := a.store.Group(r.Context(), app, name)
	if err != nil {
		a.storeError(w, err, "group")
		return
	}
	writeJSON(w, http.StatusOK, groupBody{App: app, Members: members})
}

// DELETE /v1/groups/{name}?app=
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	app, name, ok := a.groupParams(w, r)
	if !ok {
		return
	}
	if err := a.store.DeleteGroup(r.Context(), app, name); err != nil {
		a.storeError(w, err, "group")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupParams reads {name} and ?app= of a group read or delete (400 when
// either is bad).
func (a *API) groupParams(w http.ResponseWriter, r *http.Request) (app, name string, ok bool) {
	name, ps := pathGroup(r)
	q, qp := queryParams(r, "app")
	ps = append(ps, qp...)
	if _, known := a.apps[q["app"]]; !known && len(qp) == 0 {
		ps = append(ps, Problem{"app", "unknown_app", "query parameter app must name a configured app"})
	}
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return "", "", false
	}
	return q["app"], name, true
}
