package wechat

// EmulatesKefu marks WeChat as a platform with customer-service messages,
// so the control API opens windows for its apps.
func (e *Emulator) EmulatesKefu() {}
