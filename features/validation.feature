@validation
Feature: The sender refuses what it can know is wrong before accepting it
  A message whose data does not fit its template would only fail after the
  202, with the platform's raw text. The sender knows each app's templates
  (from the platform's template list, or declared in its configuration) and
  each platform's value rules, and refuses such a message at once: a 422
  naming the field, the rule and the reason. Nothing reaches the platform.

  Scenario Outline: The sender refuses a <platform> message missing the keyword <keyword>
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template for the long term
    And the sender has delivered a message of the app to alice
    When I send alice a message without the keyword <keyword> through the sender
    Then the sender refuses it naming "data.<keyword>" and the rule "missing_keyword" with the reason "invalid_template"
    And the platform received no send for the app after the first

    Examples:
      | platform | keyword  |
      | wechat   | time3    |
      | douyin   | 快递公司     |
      | baidu    | keyword2 |

  Scenario: The sender refuses a WeChat message with a keyword its template lacks
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    And the sender has delivered a message of the app to alice
    When I send alice a message with thing9 set to "extra" through the sender
    Then the sender refuses it naming "data.thing9" and the rule "unknown_keyword" with the reason "invalid_template"
    And the platform received no send for the app after the first

  Scenario: The sender refuses a Kuaishou date in the wrong format
    Given a kuaishou mini-program served by the sender whose template has the keywords "thing01 date01"
    And alice has subscribed to the template for the long term
    When I send alice a message with date01 set to "2026-01-02" through the sender
    Then the sender refuses it naming "data.date01" and the rule "keyword_invalid" with the reason "invalid_data"
    And the platform never received a send for the app
