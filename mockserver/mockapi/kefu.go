package mockapi

import "time"

// Customer-service triggers: what the user did to open the window.
const (
	// KefuTriggerMessage: the user wrote to the mini-program's customer
	// service (WeChat: 5 replies within 48 hours).
	KefuTriggerMessage = "message"
	// KefuTriggerEnter: the user entered the customer-service session
	// (WeChat: 2 replies within a minute).
	KefuTriggerEnter = "enter"
)

// KefuSession is the body of POST /_mock/kefu/sessions: a user writes to
// the app's customer service or enters the session, which opens (or renews)
// the window in which the app may reply. The user becomes a user of the app.
type KefuSession struct {
	Platform string `json:"platform"`
	AppID    string `json:"app_id"`
	OpenID   string `json:"openid"`
	// Trigger is "message" (default) or "enter".
	Trigger string `json:"trigger,omitempty"`
	// Text is the user's message (trigger "message"; default "你好") or the
	// contact button's session-from (trigger "enter"), as the push to the
	// app's server carries it.
	Text string `json:"text,omitempty"`
}

// KefuWindow is a user's customer-service window: the answer of POST and
// GET /_mock/kefu/sessions.
type KefuWindow struct {
	Platform string `json:"platform"`
	AppID    string `json:"app_id"`
	OpenID   string `json:"openid"`
	// Trigger and OpenedAt are the user's last action.
	Trigger  string    `json:"trigger"`
	OpenedAt time.Time `json:"opened_at"`
	// Deadline ends the window; Remaining replies may be sent before it.
	// Open says whether the window is open now.
	Deadline  time.Time `json:"deadline"`
	Remaining int       `json:"remaining"`
	Open      bool      `json:"open"`
	// Sent counts replies sent since the window was first opened.
	Sent int `json:"sent"`
	// Typing says whether the typing state shows now (until TypingUntil).
	Typing      bool       `json:"typing"`
	TypingUntil *time.Time `json:"typing_until,omitempty"`
}

// KefuWindows is the answer of GET /_mock/kefu/sessions.
type KefuWindows struct {
	Sessions []KefuWindow `json:"sessions"`
}

// Message kinds (Message.Kind and the inbox's kind filter).
const (
	KindSubscribe       = "subscribe"
	KindCustomerService = "customer_service"
)
