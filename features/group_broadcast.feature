Feature: Group broadcasts
  A broadcast is one message to many users — a list, or a named group kept in
  the sender. It is fanned out into one message per recipient when it is
  accepted; each member gets it once, and a member who cannot receive it does
  not hold up the others.

  Scenario Outline: Every member of a group on <platform> receives the broadcast once
    Given a <platform> mini-program served by the sender
    And alice, bob and carol have subscribed to the template for the long term
    And the app's group "vip" holds alice, bob and carol
    When I broadcast a message to the group "vip" through the sender
    Then the broadcast has 3 recipients
    And the broadcast counts 3 delivered
    And alice, bob and carol each receive the broadcast exactly once

    Examples:
      | platform |
      | wechat   |
      | alipay   |
      | douyin   |
      | kuaishou |
      | baidu    |

  Scenario: A member who never subscribed fails while the others receive the broadcast
    Given a wechat mini-program served by the sender
    And alice and bob have subscribed to the template for the long term
    And dave uses the mini-program but never subscribed
    And the app's group "everyone" holds alice, bob and dave
    When I broadcast a message to the group "everyone" through the sender
    Then the broadcast counts 2 delivered and 1 failed
    And the broadcast's failed message is dave's, with code "43101"
    And alice and bob each receive the broadcast exactly once

  Scenario: A broadcast to a list sends once to each distinct recipient
    Given a wechat mini-program served by the sender
    And alice and bob have subscribed to the template for the long term
    When I broadcast a message to alice, bob, alice and bob through the sender
    Then the broadcast has 2 recipients
    And the broadcast counts 2 delivered
    And alice and bob each receive the broadcast exactly once

  Scenario: A broadcast to a group that does not exist is refused
    Given a wechat mini-program served by the sender
    When I broadcast a message to the group "nobody" through the sender
    Then the sender refuses it naming "group" and the rule "not_found"
