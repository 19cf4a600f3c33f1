package api

import (
	"net/http"

	"github.com/gorilla/mux"
)

type groupBody struct {
	App     string   `json:"app"`
	Members []string `json:"members"`
}

// PUT /v1/groups/{name} {"app","members":[…]} replaces the group's members.
func (a *API) putGroup(w http.ResponseWriter, r *http.Request) {
	var req groupBody
	if !decode(w, r, maxBroadcastBody, &req) {
		return
	}
	name := mux.Vars(r)["name"]
	var ps []Problem
	if _, ok := a.apps[req.App]; !ok {
		ps = append(ps, Problem{"app", "unknown_app", "app must name a configured app"})
	}
	members := dedupe(req.Members)
	if len(members) == 0 {
		ps = append(ps, Problem{"members", "required", "members must list at least one recipient"})
	}
	if len(members) > maxRecipients {
		ps = append(ps, Problem{"members", "too_many", "too many members"})
	}
	if len(ps) > 0 {
		writeProblems(w, ps)
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
	app, name := r.URL.Query().Get("app"), mux.Vars(r)["name"]
	if _, ok := a.apps[app]; !ok {
		writeProblems(w, []Problem{{"app", "unknown_app", "query parameter app must name a configured app"}})
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
	app, name := r.URL.Query().Get("app"), mux.Vars(r)["name"]
	if _, ok := a.apps[app]; !ok {
		writeProblems(w, []Problem{{"app", "unknown_app", "query parameter app must name a configured app"}})
		return
	}
	if err := a.store.DeleteGroup(r.Context(), app, name); err != nil {
		a.storeError(w, err, "group")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
