Feature: Keyword values follow the platform's type and length rules
  WeChat types each template keyword by its name — thing, number, phrase,
  character_string, time — and refuses a value that breaks the type's rule
  (47003). The sender applies the same rules before it accepts a message: a
  bad value is refused at once, naming the field and the rule, instead of
  failing later on the platform. Rules the sender does not model are the
  platform's: such a message is accepted and then fails with the platform's
  code (features/validation.feature has the other platforms' checks).

  Scenario Outline: WeChat refuses a <keyword> value that <problem>
    Given a wechat mini-program on the platform whose template has the keywords "thing1 number2 phrase3 character_string4 time5"
    And alice has subscribed to the template for the long term
    When I send alice a message with <keyword> set to "<value>" directly to the platform
    Then the platform answers "47003" saying "data.<keyword>.value <reason>"
    And nobody receives anything

    Examples:
      | keyword           | value                 | problem                       | reason        |
      | thing1            | 一二三四五六七八九十一二三四五六七八九十一 | is longer than 20 characters  | exceeds limit |
      | number2           | 12a                   | is not a number               | invalid       |
      | phrase3           | 订单已经发货          | is longer than 5 characters   | exceeds limit |
      | character_string4 | 单号123               | holds Chinese characters      | invalid       |
      | time5             | 25:61                 | is not a time of day          | invalid       |
      | thing1            |                       | is empty                      | is empty      |

  Scenario Outline: The sender refuses a WeChat <keyword> value that <problem>, naming the field and the rule
    Given a wechat mini-program served by the sender whose template has the keywords "thing1 number2 phrase3 character_string4 time5"
    And alice has subscribed to the template for the long term
    When I send alice a message with <keyword> set to "<value>" through the sender
    Then the sender refuses it naming "data.<keyword>" and the rule "<rule>"
    And the platform never received a send for the app

    Examples:
      | keyword           | value                 | problem                       | rule                  |
      | thing1            | 一二三四五六七八九十一二三四五六七八九十一 | is longer than 20 characters  | keyword_exceeds_limit |
      | number2           | 12a                   | is not a number               | keyword_invalid       |
      | phrase3           | 订单已经发货          | is longer than 5 characters   | keyword_exceeds_limit |
      | character_string4 | 单号123               | holds Chinese characters      | keyword_invalid       |
      | time5             | 25:61                 | is not a time of day          | keyword_invalid       |
      | thing1            |                       | is empty                      | keyword_empty         |

  Scenario: A WeChat message whose every value keeps its rule is delivered
    Given a wechat mini-program served by the sender whose template has the keywords "thing1 number2 phrase3 character_string4 time5"
    And alice has subscribed to the template for the long term
    When I send alice a message with phrase3 set to "已发货" through the sender
    Then the message is delivered
    And alice receives the message exactly once

  Scenario Outline: A <platform> rule the sender does not model fails on the platform with <code>
    Given a <platform> mini-program served by the sender whose template has the keywords "<keywords>"
    And alice has subscribed to the template for the long term
    When I send alice a message with <key> set to "<value>" through the sender
    Then the message fails with code "<code>" after 1 attempt
    And nobody receives anything

    Examples:
      | platform | keywords       | key      | value                       | code                       |
      | alipay   | thing1 time2   | keyword1 | 一二三四五六七八九十一二三四五六七八九十一 | 40004/INVALID_PARAMETER    |
