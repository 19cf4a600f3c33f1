Feature: Sending a subscribe message on every platform
  A mini-program backend sends a subscribe message to a user who has
  accepted the template. Each platform has its own token, request and answer
  shapes; the user gets the message either way: sent straight to the
  platform's API, or handed to the sender, which stores it and delivers it.

  Scenario Outline: A subscribed user receives a message sent straight to <platform>
    Given a <platform> mini-program on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform
    Then the platform accepts it
    And alice receives the message exactly once

    Examples:
      | platform |
      | wechat   |
      | alipay   |
      | douyin   |
      | kuaishou |
      | baidu    |

  Scenario Outline: A subscribed user receives a message sent through the sender on <platform>
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template once
    When I send alice a message through the sender
    Then the message is delivered after 1 attempt
    And alice receives the message exactly once
    And the message carries the platform's message id when <platform> gives one

    Examples:
      | platform |
      | wechat   |
      | alipay   |
      | douyin   |
      | kuaishou |
      | baidu    |

  Scenario Outline: <platform> refuses a message to someone who is not a user of the mini-program
    Given a <platform> mini-program on the platform
    When I send a stranger a message directly to the platform
    Then the platform answers "<code>"
    And nobody receives anything

    Examples:
      | platform | code                 |
      | wechat   | 40003                |
      | alipay   | 40004/USER_NOT_EXIST |
      | douyin   | 28001007             |
      | kuaishou | 100200100            |
      | baidu    | 4010                 |
