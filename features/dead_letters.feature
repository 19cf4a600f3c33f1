Feature: Dead letters
  A message the platform refuses for good — the user never subscribed — is
  failed at once with the platform's code: a dead letter, listed for the
  operator. So is a message whose retries ran out. Once the cause is fixed,
  the operator redrives it and it is delivered.

  Scenario Outline: A message to a <platform> user who never subscribed is dead-lettered, then redriven once they subscribe
    Given a <platform> mini-program served by the sender
    And bob uses the mini-program but never subscribed
    When I send bob a message through the sender
    Then the message fails with code "<code>" after 1 attempt
    And it is listed among the app's failed messages
    When bob subscribes to the template once
    And I redrive the message
    Then the message is delivered
    And bob receives the message exactly once

    Examples:
      | platform | code                      |
      | wechat   | 43101                     |
      | alipay   | 40004/USER_NOT_SUBSCRIBED |
      | douyin   | 28014043                  |
      | kuaishou | 100200110                 |
      | baidu    | 4007                      |

  Scenario Outline: A <platform> message whose retries run out is dead-lettered, then redriven once the platform recovers
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template once
    And the platform fails every send with errcode <busy>
    When I send alice a message through the sender
    Then the message fails with code "<code>" after 4 attempts
    When the platform recovers
    And I redrive the message
    Then the message is delivered
    And alice receives the message exactly once

    Examples:
      | platform | busy      | code                   |
      | wechat   | -1        | -1                     |
      | alipay   | 20000     | 20000/isp.unknow-error |
      | kuaishou | 100200500 | 100200500              |

  Scenario: Only dead letters can be redriven
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message through the sender
    Then the message is delivered
    When I redrive the message
    Then the sender answers 409
    And alice receives the message exactly once
