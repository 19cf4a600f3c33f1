Feature: Platform quotas shape delivery
  Platforms cap how many messages an app may send per second or per day and
  answer a quota code beyond it. The sender treats that as the app being
  throttled: it pauses that app's sends, keeps the messages (their retry
  budget untouched) and sends them when the window allows — and, configured
  below a known cap, it never reaches the cap at all.

  Scenario: WeChat's daily quota (45009) holds the app's messages until the quota day ends
    Given a wechat mini-program served by the sender
    And alice and bob have subscribed to the template for the long term
    And the platform allows the app 1 send a day
    When I send alice a message through the sender
    Then the message is delivered
    When I send bob a message through the sender
    Then the message waits for retry with code "45009"
    And its next attempt is not before the next midnight in Beijing
    And its retry budget is untouched
    When I send alice another message through the sender
    Then the message is held without reaching the platform

  Scenario Outline: <platform> throttles a burst and every message still gets through
    Given a <platform> mini-program served by the sender
    And 6 users have subscribed to the template for the long term
    And the platform allows the app 2 sends a second
    When I send a message to each of them through the sender, all due at once
    Then all the messages are delivered
    And each of them receives the message exactly once
    And the platform answered "<code>" at least once
    And none of the messages spent its retry budget

    Examples:
      | platform | code      |
      | alipay   | 40004     |
      | douyin   | 28003018  |
      | kuaishou | 100200112 |
      | baidu    | 18        |

  Scenario: A sender configured below the platform's rate never hits the quota
    Given a wechat mini-program served by the sender that sends at most 4 messages a second
    And 12 users have subscribed to the template for the long term
    And the platform allows the app 6 sends a second
    When I send a message to each of them through the sender
    Then all the messages are delivered
    And the platform never answered "45009"
    And delivering them took at least 2 seconds

  @isolated
  Scenario: WeChat refuses sends over the daily quota until the next day
    Given a wechat mini-program on the platform
    And alice has subscribed to the template for the long term
    And the platform allows the app 2 sends a day
    When I send alice 2 messages directly to the platform
    Then the platform accepts them
    When I send alice another message directly to the platform
    Then the platform answers "45009"
    When the platform's clock moves to the next day
    And I fetch a new access token
    And I send alice another message directly to the platform
    Then the platform accepts it
