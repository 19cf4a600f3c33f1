package scenarios

import (
	"github.com/cucumber/godog"
)

// platformRE matches a platform name in a step.
const platformRE = `(wechat|alipay|douyin|kuaishou|baidu)`

// usersRE matches one user or a list: "alice", "alice and bob",
// "alice, bob and carol".
const usersRE = `([a-z]+(?:(?:, | and )[a-z]+)*)`

// register binds the step texts of every feature — English and Chinese —
// to the scenario's methods. Steps are grouped as the features read:
// who is there, what the platform does, what is sent, what happens.
func (s *scenario) register(sc *godog.ScenarioContext) {
	s.registerAudiences(sc)
	s.registerBroadcastList(sc)
	// Mini-programs and their users.
	sc.Step(`^an? `+platformRE+` mini-program on the platform$`, s.appOnPlatform)
	sc.Step(`^an? `+platformRE+` mini-program on the platform whose template has the keywords "([^"]*)"$`, s.appOnPlatformWithKeywords)
	sc.Step(`^an? `+platformRE+` mini-program served by the sender$`, s.appOnSender)
	sc.Step(`^an? `+platformRE+` mini-program served by the sender whose template has the keywords "([^"]*)"$`, s.appOnSenderWithKeywords)
	sc.Step(`^an? `+platformRE+` mini-program served by the sender with the platform's content check$`, s.appOnSenderChecked)
	sc.Step(`^an? `+platformRE+` mini-program served by the sender that sends at most (\d+) messages a second$`, s.appOnSenderShaped)
	sc.Step(`^an alipay mini-program in certificate mode on the platform$`, s.alipayCertApp)
	sc.Step(`^an alipay mini-program served by the sender that signs with the wrong private key$`, s.alipayWrongAppKey)
	sc.Step(`^an alipay mini-program served by the sender that verifies answers with the wrong Alipay public key$`, s.alipayWrongAlipayKey)
	sc.Step(`^another `+platformRE+` mini-program "([^"]+)" served by the sender$`, s.anotherAppOnSender)
	sc.Step(`^`+usersRE+` (?:has|have) subscribed to the template (once|for the long term)$`, s.subscribed)
	sc.Step(`^(\w+) has subscribed to the template of "([^"]+)" (once|for the long term)$`, s.subscribedTo)
	sc.Step(`^(\d+) users have subscribed to the template for the long term$`, s.cohortSubscribed)
	sc.Step(`^`+usersRE+` uses? the mini-program but never subscribed$`, s.neverSubscribed)
	sc.Step(`^(\w+) subscribes to the template once$`, s.subscribesOnce)

	// What the platform does.
	sc.Step(`^the platform fails the next (\d+) sends? with (.+)$`, s.failNext)
	sc.Step(`^the platform fails every send with (.+)$`, s.failEvery)
	sc.Step(`^the platform recovers$`, s.recovers)
	sc.Step(`^the platform allows the app (\d+) sends? a (second|minute|day)$`, s.allows)
	sc.Step(`^the platform's clock moves forward by (\S+)$`, s.clockForward)
	sc.Step(`^the platform's clock moves to the next day$`, s.clockNextDay)

	// Calls straight to the platform.
	sc.Step(`^I send (\w+) (?:a|another) message directly to the platform$`, s.directSend)
	sc.Step(`^I send a stranger a message directly to the platform$`, s.directSendStranger)
	sc.Step(`^I send (\w+) (\d+) messages directly to the platform$`, s.directSendN)
	sc.Step(`^I send (\w+) a message with (\w+) set to "([^"]*)" directly to the platform$`, s.directSendWith)
	sc.Step(`^I send (\w+) a message directly to the platform signed with another key$`, s.alipaySignedWithAnotherKey)
	sc.Step(`^I send (\w+) a message directly to the platform and its timestamp is changed after signing$`, s.alipayTampered)
	sc.Step(`^I send (\w+) an unsigned message directly to the platform$`, s.alipayUnsigned)
	sc.Step(`^I send (\w+) a message directly to the platform over OpenAPI v3$`, s.alipayV3SendPlain)
	sc.Step(`^I send (\w+) a message directly to the platform over OpenAPI v3 with its signature tampered with$`, s.alipayV3SendTampered)
	sc.Step(`^I send (\w+) a message directly to the platform with (that|the previous|the new) token$`, s.directSendWithToken)
	sc.Step(`^I have fetched an access token$`, s.fetchToken)
	sc.Step(`^I (?:have fetched|fetch) a new access token$`, s.fetchNewToken)
	sc.Step(`^I fetch the stable token twice$`, s.stableTwice)
	sc.Step(`^both answers hold the same token$`, s.stableSame)
	sc.Step(`^I force a refresh of the stable token$`, s.stableForce)
	sc.Step(`^I get a different token$`, s.stableDifferent)
	sc.Step(`^(\w+) can still be sent a message with the previous stable token$`, s.stablePreviousWorks)
	sc.Step(`^I ask the platform's content security about "([^"]*)" for (\w+)$`, s.contentSecurity)
	sc.Step(`^the platform judges it "(\w+)" with the label "(\w+)"$`, s.judged)
	sc.Step(`^the platform accepts (?:it|them)$`, s.accepts)
	sc.Step(`^the platform answers "([^"]*)"$`, s.platformAnswers)
	sc.Step(`^the platform answers "([^"]*)" saying "([^"]*)"$`, s.answersSaying)
	sc.Step(`^the answer quotes the string the platform verified$`, s.quotesSignedString)
	sc.Step(`^the answer's signature verifies with the Alipay public key$`, s.answerSignatureVerifies)
	sc.Step(`^the answer's signature verifies with the Alipay certificate$`, s.answerSignatureVerifies)
	sc.Step(`^(\w+) has (\d+) subscriptions? left$`, s.subscriptionsLeft)

	// What users receive.
	sc.Step(`^(\w+) receives the message exactly once$`, s.receivesOnce)
	sc.Step(`^nobody receives anything$`, s.nobodyReceives)
	sc.Step(`^each of them receives the message exactly once$`, s.eachReceivesOnce)
	sc.Step(`^`+usersRE+` each receive the broadcast exactly once$`, s.eachReceivesBroadcast)

	// Messages handed to the sender.
	sc.Step(`^I send (\w+) (?:a|another) message through the sender$`, s.send)
	sc.Step(`^I send (\w+) a message saying "([^"]*)" through the sender$`, s.sendSaying)
	sc.Step(`^I send (\w+) a message with (\w+) set to "([^"]*)" through the sender$`, s.sendWith)
	sc.Step(`^I send a message to each of them through the sender$`, s.sendToEach)
	sc.Step(`^I send a message to each of them through the sender, all due at once$`, s.sendToEachAtOnce)
	sc.Step(`^I send (\w+) a message through the sender with the idempotency key "([^"]*)"$`, s.sendWithKey)
	sc.Step(`^I send (\w+) a message through "([^"]+)" with the idempotency key "([^"]*)"$`, s.sendThroughWithKey)
	sc.Step(`^I send the same request again$`, s.sendAgain)
	sc.Step(`^(\d+) identical requests for (\w+) with the idempotency key "([^"]*)" arrive at once$`, s.identicalAtOnce)
	sc.Step(`^I send (\w+) a message through the sender with the header key "([^"]*)" and the body key "([^"]*)"$`, s.sendConflictingKeys)
	sc.Step(`^I send (\w+) a message scheduled (\d+) seconds from now through the sender$`, s.sendScheduled)
	sc.Step(`^I redrive the message$`, s.redrive)

	// What the sender did.
	sc.Step(`^the message is delivered$`, s.delivered)
	sc.Step(`^the message is delivered after (\d+) attempts?$`, s.deliveredAfter)
	sc.Step(`^the message fails with code "([^"]*)" after (\d+) attempts?$`, s.failsAfter)
	sc.Step(`^the message is rejected with the label "([^"]*)"$`, s.rejectedWithLabel)
	sc.Step(`^the message waits for retry with code "([^"]*)"$`, s.waitsForRetry)
	sc.Step(`^its next attempt is not before the next midnight in Beijing$`, s.nextAttemptAfterMidnight)
	sc.Step(`^its retry budget is untouched$`, s.retryBudgetUntouched)
	sc.Step(`^the sender reports the app unhealthy, naming "([^"]*)"$`, s.appUnhealthy)
	sc.Step(`^its first (\d+) attempts failed with code "([^"]*)"$`, s.firstAttemptsFailed)
	sc.Step(`^the message carries the platform's message id when `+platformRE+` gives one$`, s.carriesMsgID)
	sc.Step(`^the message is held without reaching the platform$`, s.heldWithoutSending)
	sc.Step(`^the message is delivered, not before its time$`, s.deliveredOnTime)
	sc.Step(`^the message is not reported delivered, its last code being "([^"]*)"$`, s.notDelivered)
	sc.Step(`^it is listed among the app's failed messages$`, s.listedAsFailed)
	sc.Step(`^no message of the app failed$`, s.noneFailed)
	sc.Step(`^all the messages are delivered$`, s.allDelivered)
	sc.Step(`^none of the messages spent its retry budget$`, s.noneSpentRetries)
	sc.Step(`^the sender refuses it naming "([^"]*)" and the rule "([^"]*)"$`, s.refused)
	sc.Step(`^the sender answers (\d+)$`, s.senderAnswers)
	sc.Step(`^the sender answers 200 with the first message's id$`, s.answersFirstID)
	sc.Step(`^exactly one is accepted and the other (\d+) answer 200 with its id$`, s.oneAccepted)
	sc.Step(`^the two messages have different ids$`, s.differentIDs)
	sc.Step(`^both are delivered$`, s.bothDelivered)
	sc.Step(`^the platform never received a send for the app$`, s.noSends)
	sc.Step(`^the platform receives no more sends for the app within (\d+) seconds?$`, s.noMoreSends)
	sc.Step(`^the platform answered "([^"]*)" at least once$`, s.answeredAtLeastOnce)
	sc.Step(`^the platform never answered "([^"]*)"$`, s.neverAnswered)
	sc.Step(`^delivering them took at least (\d+) seconds$`, s.tookAtLeast)
	sc.Step(`^the sender asked the platform for an access token (\d+) times?$`, s.tokenRequests)

	// The platforms' template APIs and other calls beside the send.
	s.registerTemplates(sc)

	// Operator control of paused apps; the checks before the 202.
	s.registerOperator(sc)

	// Platform events and the consent ledger.
	s.registerConsent(sc)
	s.registerCampaigns(sc)
	s.registerWebhooks(sc)
	s.registerKefu(sc)

	// Groups and broadcasts.
	sc.Step(`^the app's group "([^"]+)" holds `+usersRE+`$`, s.group)
	sc.Step(`^I broadcast a message to the group "([^"]+)" through the sender$`, s.broadcastGroup)
	sc.Step(`^I broadcast a message to `+usersRE+` through the sender$`, s.broadcastList)
	sc.Step(`^the broadcast has (\d+) recipients$`, s.broadcastRecipients)
	sc.Step(`^the broadcast counts (\d+) delivered$`, s.broadcastDelivered)
	sc.Step(`^the broadcast counts (\d+) delivered and (\d+) failed$`, s.broadcastCounts)
	sc.Step(`^the broadcast's failed message is (\w+)'s, with code "([^"]*)"$`, s.broadcastFailed)

	// Restarts.
	sc.Step(`^every message has been attempted at least once$`, s.allAttempted)
	sc.Step(`^the sender restarts$`, s.restart)
	sc.Step(`^some but not all of the messages have been delivered$`, s.someDelivered)
	sc.Step(`^the sender's container is stopped and started again$`, s.restartContainer)

	// 中文 (features/one_time_grants_zh.feature).
	sc.Step(`^`+platformRE+` 平台上有一个小程序$`, s.appOnPlatform)
	sc.Step(`^发送服务为 `+platformRE+` 平台上的一个小程序发送消息$`, s.appOnSender)
	sc.Step(`^用户 (\w+) 订阅了一次模板$`, func(u string) error { return s.subscribed(u, "once") })
	sc.Step(`^用户 (\w+) 长期订阅了模板$`, func(u string) error { return s.subscribed(u, "for the long term") })
	sc.Step(`^我直接调用平台接口(?:再)?给 (\w+) 发送一条消息$`, s.directSend)
	sc.Step(`^平台接受了这条消息$`, s.accepts)
	sc.Step(`^平台以 "([^"]*)" 拒绝$`, s.platformAnswers)
	sc.Step(`^(\w+) 剩余的订阅次数为 (\d+)$`, s.subscriptionsLeft)
	sc.Step(`^(\w+) 只收到了 (\d+) 条消息$`, s.receivedInAll)
	sc.Step(`^我经由发送服务(?:再)?给 (\w+) 发送一条消息$`, s.send)
	sc.Step(`^我经由发送服务给 (\w+) 发送 (\d+) 条消息$`, s.sendN)
	sc.Step(`^这条消息已送达$`, s.delivered)
	sc.Step(`^这条消息以代码 "([^"]*)" 失败$`, s.failsWith)
	sc.Step(`^这些消息全部送达$`, s.allDelivered)
	sc.Step(`^(\w+) 的长期订阅仍然有效$`, s.longTermIntact)
}
