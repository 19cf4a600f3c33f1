Feature: Nothing accepted is lost when the sender restarts
  The sender commits a message before it answers 202, and keeps its queue,
  its retry schedule and its access tokens in its database. A restart —
  a deploy, a crash of the host — loses none of them and sends nothing twice.

  @isolated
  Scenario: Messages waiting for a retry are delivered after a restart
    Given a wechat mini-program served by the sender
    And 5 users have subscribed to the template for the long term
    And the platform fails every send with HTTP 503
    When I send a message to each of them through the sender
    And every message has been attempted at least once
    And the sender restarts
    And the platform recovers
    Then all the messages are delivered
    And each of them receives the message exactly once
    And no message of the app failed

  @isolated
  Scenario: A scheduled message is sent at its time across a restart
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message scheduled 3 seconds from now through the sender
    And the sender restarts
    Then the message is delivered, not before its time
    And alice receives the message exactly once

  @isolated
  Scenario: The sender keeps its access token across a restart
    Given a wechat mini-program served by the sender
    And alice has subscribed to the template for the long term
    When I send alice a message through the sender
    Then the message is delivered
    When the sender restarts
    And I send alice another message through the sender
    Then the message is delivered
    And the sender asked the platform for an access token 1 time

  @isolated @containers
  Scenario: The sender's container is stopped in the middle of a delivery run and started again
    Given a wechat mini-program served by the sender that sends at most 4 messages a second
    And 16 users have subscribed to the template for the long term
    When I send a message to each of them through the sender
    And some but not all of the messages have been delivered
    And the sender's container is stopped and started again
    Then all the messages are delivered
    And each of them receives the message exactly once
    And no message of the app failed
