Feature: Transient failures are retried until the message gets through
  Platforms answer "system busy", proxies in front of them answer 5xx, and
  connections drop. None of that is the message's fault: the sender retries
  with backoff, records every attempt, and the user gets the message once.
  A failed attempt never spends the user's one-time subscription.

  Scenario Outline: <platform> fails twice with <fault>, then the message is delivered
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template once
    And the platform fails the next 2 sends with <fault>
    When I send alice a message through the sender
    Then the message is delivered after 3 attempts
    And its first 2 attempts failed with code "<code>"
    And alice receives the message exactly once
    And no message of the app failed

    Examples:
      | platform | fault                | code                   |
      | wechat   | errcode -1           | -1                     |
      | wechat   | HTTP 502             | http 502               |
      | wechat   | a dropped connection | network                |
      | alipay   | errcode 20000        | 20000/isp.unknow-error |
      | alipay   | HTTP 503             | http 503               |
      | douyin   | errcode 28001005     | 28001005               |
      | douyin   | a dropped connection | network                |
      | kuaishou | errcode 100200500    | 100200500              |
      | kuaishou | HTTP 502             | http 502               |
      | baidu    | errcode 2            | 2                      |
      | baidu    | a dropped connection | network                |
