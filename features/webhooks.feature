@webhooks
Feature: Result webhooks tell the caller's backend how each message ended
  Instead of polling every message, a caller gives its API key (or an app)
  a webhook: the sender POSTs the message, as its API shows it, when it is
  delivered, fails, is rejected or cancelled, signed with the webhook's
  secret (Minipush-Signature: HMAC-SHA256 over the timestamp and the body).
  A receiver that fails is retried with backoff until it answers 2xx, and
  the sender's delivery log shows every attempt (docs/webhooks.md).

  The receiver runs in the test process: in the containers mode the
  sender's container reaches it at its Docker network's gateway.

  Background:
    Given my API key has a result webhook

  Scenario: A delivered message is reported to the receiver with a signed POST
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template once
    When I send alice a message through the sender
    Then the message is delivered
    And the webhook receiver gets a signed POST for the message with status "delivered"

  Scenario: A message the user did not subscribe to is reported with its reason
    Given a wechat mini-program served by the sender that enforces consent, pushing json in safe mode
    And alice rejects the template in a popup
    And the sender's ledger shows alice rejected the template
    When I send alice a message through the sender
    Then the message is rejected as not subscribed
    And the webhook receiver gets a signed POST for the message with status "rejected" and reason "not_subscribed"

  Scenario: The receiver fails twice; the third try succeeds
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template once
    And the webhook receiver answers 500 to the first 2 POSTs about the app's messages
    When I send alice a message through the sender
    Then the message is delivered
    And the webhook receiver gets a signed POST for the message with status "delivered"
    And the delivery log of the message shows 3 attempts answered 500, 500 and 204
