Feature: Campaign rules — dedup windows, quiet hours, frequency caps
  Operations staff set rules per app (docs/campaigns.md) and the sender keeps
  them at admission, whoever calls it: the same user does not get the same
  template twice within the dedup window, non-urgent messages wait out the
  users' night in their time zone and go at its end spread over a ramp, and a
  user gets at most so many messages a day. The campaign app's rules: time zone
  Asia/Shanghai, dedup window 1h, quiet hours 22:00–08:00 with a 10-minute ramp,
  at most 3 messages a user a day, over it rejected.

  The scenarios move the sender's clock (never sleep on it): in-process only,
  as the sender binary in its container reads the host's clock.

  @isolated @sender-clock
  Scenario: The same order's message twice within the dedup window is a duplicate
    Given a wechat mini-program served by the sender with campaign rules
    And alice has subscribed to the template for the long term
    And the sender's clock is at 10:00 in Shanghai
    When I send alice a message about order "A-1001" through the sender
    Then the message is delivered
    When I send alice a message about order "A-1001" through the sender
    Then the message is rejected as a duplicate of the first
    When I send alice a message about order "A-1002" through the sender
    Then the message is delivered
    And alice has received 2 messages in all

  @isolated @sender-clock
  Scenario: Messages sent at night are held until quiet hours end, then go out over the ramp
    Given a wechat mini-program served by the sender with campaign rules
    And 4 users have subscribed to the template for the long term
    And alice has subscribed to the template for the long term
    And the sender's clock is at 23:30 in Shanghai
    When I send a message to each of them through the sender
    Then every message is held for quiet hours until 08:00 in Shanghai, within the 10-minute ramp
    When I send alice an urgent message through the sender
    Then the message is delivered
    And the held messages are still waiting, none sent
    When the sender's clock moves on to 08:10 in Shanghai
    Then all the messages are delivered
    And each of them receives the message exactly once

  @isolated @sender-clock
  Scenario: A fourth message in a day to one user is over the frequency cap
    Given a wechat mini-program served by the sender with campaign rules
    And alice has subscribed to the template for the long term
    And the sender's clock is at 12:00 in Shanghai
    When I send alice 3 messages about different orders through the sender
    Then all the messages are delivered
    When I send alice a message about order "B-2001" through the sender
    Then the message is rejected for the frequency cap
    When the sender's clock moves on to 09:00 in Shanghai
    And I send alice a message about order "B-2002" through the sender
    Then the message is delivered
    And alice has received 4 messages in all

  @isolated @sender-clock
  Scenario: A group broadcast leaves out the member who got the order's message within the dedup window
    Given a wechat mini-program served by the sender with campaign rules
    And alice, bob and carol have subscribed to the template for the long term
    And the app's group "vip" holds alice, bob and carol
    And the sender's clock is at 10:00 in Shanghai
    When I send alice a message about order "C-3001" through the sender
    Then the message is delivered
    When I broadcast a message about order "C-3001" to the group "vip" through the sender
    Then the broadcast counts 2 delivered and 1 rejected
    And alice's message of the broadcast is rejected as a duplicate of her first message
    And bob and carol each receive the broadcast exactly once
    And alice has received 1 message in all

  @isolated @sender-clock
  Scenario: A member of a group broadcast already at the day's frequency cap is left out
    Given a wechat mini-program served by the sender with campaign rules
    And alice and bob have subscribed to the template for the long term
    And the app's group "vip" holds alice and bob
    And the sender's clock is at 12:00 in Shanghai
    When I send alice 3 messages about different orders through the sender
    Then all the messages are delivered
    When I broadcast a message to the group "vip" through the sender
    Then the broadcast counts 1 delivered and 1 rejected
    And alice's message of the broadcast is rejected for the frequency cap
    And bob each receive the broadcast exactly once
    And alice has received 3 messages in all
