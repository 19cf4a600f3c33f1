package mockapi

import "time"

// Activity statuses (Activity.Status): an updatable message's card.
const (
	ActivityCreated    = "created"     // an id, no state set yet
	ActivityNotStarted = "not_started" // target_state 0: members joining
	ActivityStarted    = "started"     // target_state 1: final
	ActivityEnded      = "ended"       // past its expiry
)

// Activity is an updatable (动态) message's card as the platform holds it:
// the answer of GET /_mock/activities.
type Activity struct {
	Platform   string    `json:"platform"`
	AppID      string    `json:"app_id"`
	ActivityID string    `json:"activity_id"`
	OpenID     string    `json:"openid,omitempty"`
	UnionID    string    `json:"unionid,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// TargetState is the last state set; Parameters the last value of
	// each parameter; Updates counts accepted changes.
	TargetState int               `json:"target_state"`
	Parameters  map[string]string `json:"parameters"`
	Updates     int               `json:"updates"`
	UpdatedAt   *time.Time        `json:"updated_at,omitempty"`
	// Status and Text are what the card shows now ("成员正在加入，当前 3/10 人",
	// "已开始", "已结束"; no text before the first change).
	Status string `json:"status"`
	Text   string `json:"text,omitempty"`
}

// Activities is the answer of GET /_mock/activities.
type Activities struct {
	Activities []Activity `json:"activities"`
}
