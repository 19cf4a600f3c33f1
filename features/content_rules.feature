Feature: Content rules
  Two lines of defence keep unacceptable text out of users' inboxes. The
  sender's own content rules refuse a message at the API, before anything is
  stored, and name the rule. Optionally the sender asks the platform's
  content-security API before each send and rejects what the platform judges
  risky, recording the platform's label. Without that check, the platforms
  that screen at send refuse risky text with their own code.

  Scenario: A message breaking one of the sender's content rules is refused at the API, naming the rule
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message saying "fake-invoice" through the sender
    Then the sender refuses it naming "data.thing1" and the rule "content:no-fake-invoice"
    And the platform never received a send for the app

  Scenario Outline: With the content check on, <platform> judges the text risky and the message is rejected with its label
    Given a <platform> mini-program served by the sender with the platform's content check
    And alice has subscribed to the template for the long term
    When I send alice a message saying "counterfeit" through the sender
    Then the message is rejected with the label "<label>"
    And the platform never received a send for the app
    And nobody receives anything

    Examples:
      | platform | label       |
      | wechat   | 20006       |
      | alipay   | counterfeit |
      | douyin   | text_censor |
      | baidu    | risk        |

  Scenario: With the content check on, text the platform only flags for review is delivered
    Given a wechat mini-program served by the sender with the platform's content check
    And alice has subscribed to the template for the long term
    When I send alice a message saying "limited-offer" through the sender
    Then the message is delivered
    And alice receives the message exactly once

  Scenario Outline: Without the content check, <platform> screens the text at send and refuses it
    Given a <platform> mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message saying "counterfeit" through the sender
    Then the message fails with code "<code>" after 1 attempt
    And nobody receives anything

    Examples:
      | platform | code                    |
      | wechat   | 45168                   |
      | alipay   | 40004/CONTENT_ILLEGAL   |
      | douyin   | 28001007                |
      | kuaishou | 100200111               |

  Scenario: Kuaishou has no content-security API, so with the check on its send screening still decides
    Given a kuaishou mini-program served by the sender with the platform's content check
    And alice has subscribed to the template for the long term
    When I send alice a message saying "counterfeit" through the sender
    Then the message fails with code "100200111" after 1 attempt

  Scenario: WeChat's content-security API judges text against its rules
    Given a wechat mini-program on the platform
    And alice has subscribed to the template for the long term
    When I ask the platform's content security about "counterfeit" for alice
    Then the platform judges it "risky" with the label "20006"
    When I ask the platform's content security about "a parcel is on its way" for alice
    Then the platform judges it "pass" with the label "100"
