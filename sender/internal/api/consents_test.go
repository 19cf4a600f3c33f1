package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
)

// GET /v1/consents shows an app's ledger as a list page, one user's on
// request, each entry with what it means for the next send; pages follow
// next_cursor; it needs an API key and names a bad parameter.
func TestConsents(t *testing.T) {
	t.Parallel()
	hs, st, _ := server(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	st.consents = []consent.Entry{
		{App: "shop", User: "alice", TemplateID: "t1", Credits: 2, Accepts: 2, Source: consent.SourcePopup, UpdatedAt: at},
		{App: "shop", User: "bob", TemplateID: "t1", Rejected: true, Rejects: 1, Source: consent.SourceSettings, UpdatedAt: at},
		{App: "tok", User: "alice", TemplateID: "t1", LongTerm: true, UpdatedAt: at},
	}
	code, b := do(t, hs, http.MethodGet, "/v1/consents?app=shop", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	var got struct {
		Consents []struct {
			User     string `json:"user"`
			Credits  int    `json:"credits"`
			Rejected bool   `json:"rejected"`
			Allows   bool   `json:"allows"`
			Verdict  string `json:"verdict"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.NextCursor != "" || len(got.Consents) != 2 ||
		got.Consents[0].User != "alice" || !got.Consents[0].Allows || got.Consents[0].Verdict != "credit" || got.Consents[0].Credits != 2 ||
		got.Consents[1].User != "bob" || got.Consents[1].Allows || got.Consents[1].Verdict != "rejected" {
		t.Errorf("GET /v1/consents?app=shop = %s", b)
	}
	code, b = do(t, hs, http.MethodGet, "/v1/consents?app=shop&user=bob", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	if err := json.Unmarshal(b, &got); err != nil || len(got.Consents) != 1 || got.Consents[0].User != "bob" {
		t.Errorf("one user's ledger: %s", b)
	}
	// Page by page: one entry, then the next from the cursor.
	code, b = do(t, hs, http.MethodGet, "/v1/consents?app=shop&limit=1", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	got.NextCursor = ""
	if err := json.Unmarshal(b, &got); err != nil || len(got.Consents) != 1 || got.Consents[0].User != "alice" || got.NextCursor == "" {
		t.Fatalf("first page: %s", b)
	}
	code, b = do(t, hs, http.MethodGet, "/v1/consents?app=shop&limit=1&cursor="+got.NextCursor, "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	if err := json.Unmarshal(b, &got); err != nil || len(got.Consents) != 1 || got.Consents[0].User != "bob" {
		t.Fatalf("second page: %s", b)
	}

	for _, tc := range []struct{ query, field string }{
		{"", "app"}, {"?app=nope", "app"}, {"?app=shop&limit=0", "limit"}, {"?app=shop&limit=x", "limit"},
		{"?app=shop&usr=bob", "usr"}, {"?app=shop&cursor=!!", "cursor"},
	} {
		code, b := do(t, hs, http.MethodGet, "/v1/consents"+tc.query, "Bearer "+key, nil)
		wellFormed(t, code, b, http.StatusBadRequest)
		var e errorBody
		if err := json.Unmarshal(b, &e); err != nil || len(e.Problems) == 0 || e.Problems[0].Field != tc.field {
			t.Errorf("GET /v1/consents%s = %d %s, want a problem naming %s", tc.query, code, b, tc.field)
		}
	}
	if code, _ := do(t, hs, http.MethodGet, "/v1/consents?app=shop", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without an API key: %d, want 401", code)
	}
}
