Feature: Idempotent message requests
  A caller that is not sure its request arrived sends it again with the same
  idempotency key. The sender answers with the first message and sends
  nothing more — also when the copies arrive at the same moment.

  Scenario: Repeating a request with the same idempotency key sends the message once
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message through the sender with the idempotency key "order-1001"
    And I send the same request again
    Then the sender answers 200 with the first message's id
    And alice receives the message exactly once

  Scenario: Ten identical requests arriving together send the message once
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When 10 identical requests for alice with the idempotency key "order-2002" arrive at once
    Then exactly one is accepted and the other 9 answer 200 with its id
    And alice receives the message exactly once

  Scenario: The same key used by another mini-program is another message
    Given a wechat mini-program served by the sender
    And another wechat mini-program "club" served by the sender
    And alice has subscribed to the template for the long term
    And alice has subscribed to the template of "club" for the long term
    When I send alice a message through the sender with the idempotency key "order-3003"
    And I send alice a message through "club" with the idempotency key "order-3003"
    Then the two messages have different ids
    And both are delivered

  Scenario: The Idempotency-Key header and the idempotency_key field must agree
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message through the sender with the header key "order-4004" and the body key "order-4005"
    Then the sender refuses it naming "idempotency_key" and the rule "conflict"
