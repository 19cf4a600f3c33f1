package mockapi

import "time"

// Media-check statuses (MediaCheck.Status).
const (
	MediaCheckPending   = "pending"    // the verdict waits for its moment
	MediaCheckPushed    = "pushed"     // the verdict push is queued (PushID)
	MediaCheckNotPushed = "not_pushed" // due, but nothing could be pushed (Note says why)
)

// MediaCheck is one asynchronous media check (WeChat media_check_async)
// and what became of its verdict: the answer of GET /_mock/media-checks.
type MediaCheck struct {
	Platform  string `json:"platform"`
	AppID     string `json:"app_id"`
	TraceID   string `json:"trace_id"`
	OpenID    string `json:"openid,omitempty"`
	MediaURL  string `json:"media_url"`
	MediaType int    `json:"media_type"`
	Version   int    `json:"version"`
	// Suggest and Label are the verdict ("pass", "risky"; 100, 21000).
	Suggest     string     `json:"suggest"`
	Label       int        `json:"label"`
	RequestedAt time.Time  `json:"requested_at"`
	DueAt       time.Time  `json:"due_at"`
	Status      string     `json:"status"`
	PushedAt    *time.Time `json:"pushed_at,omitempty"`
	PushID      string     `json:"push_id,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// MediaChecks is the answer of GET /_mock/media-checks.
type MediaChecks struct {
	Checks []MediaCheck `json:"checks"`
	// Delay is the wait, on the mock clock, between a check and its push.
	Delay Duration `json:"delay"`
}

// MediaCheckSettings is the body of PUT /_mock/media-checks/settings.
type MediaCheckSettings struct {
	Platform string `json:"platform"`
	// Delay is the wait between a check and its verdict's push (0 pushes
	// at once).
	Delay Duration `json:"delay"`
}

// MediaFile is an uploaded temporary media file (WeChat media/upload),
// without its bytes: the answer of GET /_mock/media.
type MediaFile struct {
	Platform    string    `json:"platform"`
	AppID       string    `json:"app_id"`
	MediaID     string    `json:"media_id"`
	Type        string    `json:"type"`
	ContentType string    `json:"content_type"`
	FileName    string    `json:"filename,omitempty"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Expired     bool      `json:"expired"`
}

// MediaFiles is the answer of GET /_mock/media.
type MediaFiles struct {
	Media []MediaFile `json:"media"`
}
