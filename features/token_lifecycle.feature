Feature: Access tokens
  WeChat, Douyin, Kuaishou and Baidu open their APIs with an access token
  that expires; a refetch may retire the previous one. A backend must cope:
  the sender caches the token, and when the platform says it is invalid or
  expired it fetches a new one and sends again at once, so no message fails
  because of a token.

  @isolated
  Scenario: A WeChat access token stops working when its two hours are up
    Given a wechat mini-program on the platform
    And alice has subscribed to the template for the long term
    And I have fetched an access token
    When the platform's clock moves forward by 2h1m
    And I send alice a message directly to the platform with that token
    Then the platform answers "42001"

  @isolated
  Scenario: After a refetch the previous WeChat token works for five more minutes, then dies
    Given a wechat mini-program on the platform
    And alice has subscribed to the template for the long term
    And I have fetched an access token
    And I have fetched a new access token
    When I send alice a message directly to the platform with the previous token
    Then the platform accepts it
    When the platform's clock moves forward by 6m
    And I send alice a message directly to the platform with the previous token
    Then the platform answers "40001"
    When I send alice a message directly to the platform with the new token
    Then the platform accepts it

  Scenario: WeChat's stable token stays the same until a forced refresh
    Given a wechat mini-program on the platform
    And alice has subscribed to the template for the long term
    When I fetch the stable token twice
    Then both answers hold the same token
    When I force a refresh of the stable token
    Then I get a different token
    And alice can still be sent a message with the previous stable token

  Scenario Outline: The sender recovers from <platform>'s <code> without failing the message
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template once
    And the platform fails the next 1 send with errcode <code>
    When I send alice a message through the sender
    Then the message is delivered after 1 attempt
    And the sender asked the platform for an access token 2 times
    And alice receives the message exactly once
    And no message of the app failed

    Examples:
      | platform | code      |
      | wechat   | 40001     |
      | wechat   | 42001     |
      | douyin   | 28001003  |
      | douyin   | 28001008  |
      | kuaishou | 100200101 |
      | baidu    | 110       |
      | baidu    | 111       |

  @isolated
  Scenario Outline: A <platform> token that expires while the sender holds it is replaced without a failed message
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message through the sender
    Then the message is delivered
    When the platform's clock moves forward by <lifetime>
    And I send alice another message through the sender
    Then the message is delivered after 1 attempt
    And the sender asked the platform for an access token 2 times
    And no message of the app failed

    Examples:
      | platform | lifetime |
      | wechat   | 2h1m     |
      | douyin   | 2h1m     |
      | kuaishou | 48h1m    |
      | baidu    | 721h     |
