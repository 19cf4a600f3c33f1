@sender-clock
Feature: Recurring schedules
  Some sends repeat — every Monday at 9:00. A schedule holds a cron
  expression, read in its time zone, a target and a template; at each time
  it names the sender makes one broadcast, once, even across a restart
  (docs/campaigns.md). The scenarios move the sender's clock, which only an
  in-process sender lets a test do: the sender binary has no clock control,
  so the containers mode leaves them out.

  @isolated
  Scenario: A weekly schedule runs once on Monday at 9:00, and not again after a restart
    Given a wechat mini-program served by the sender
    And alice and bob have subscribed to the template for the long term
    And the sender's clock reads 2030-01-06 12:00 in Asia/Shanghai
    When I schedule the message for alice and bob with cron "0 9 * * 1" in Asia/Shanghai
    Then the schedule's next run is 2030-01-07 09:00 in Asia/Shanghai
    When the sender's clock moves to 2030-01-07 09:00 in Asia/Shanghai
    Then the schedule has made 1 broadcast
    And alice and bob each receive the broadcast exactly once
    And the sender lists the schedule's broadcast, done with every message delivered
    When the sender restarts
    Then after the sender has looked at its schedules again, the schedule has still made 1 broadcast
    And alice and bob each receive the broadcast exactly once
    And the sender lists the schedule's broadcast, done with every message delivered

  @isolated
  Scenario: A schedule's run inside quiet hours is held until they end, then goes out over the ramp
    Given a wechat mini-program served by the sender with campaign rules
    And alice and bob have subscribed to the template for the long term
    And the sender's clock reads 2030-01-06 12:00 in Asia/Shanghai
    When I schedule the message for alice and bob with cron "30 6 * * *" in Asia/Shanghai
    And the sender's clock moves to 2030-01-07 06:30 in Asia/Shanghai
    Then the schedule has made 1 broadcast
    And the broadcast's messages are held for quiet hours until 08:00 in Shanghai, within the 10-minute ramp
    When the sender's clock moves to 2030-01-07 08:10 in Asia/Shanghai
    Then alice and bob each receive the broadcast exactly once

  @isolated
  Scenario: An urgent schedule's run goes out inside quiet hours
    Given a wechat mini-program served by the sender with campaign rules
    And alice has subscribed to the template for the long term
    And the sender's clock reads 2030-01-06 12:00 in Asia/Shanghai
    When I schedule the urgent message for alice with cron "30 6 * * *" in Asia/Shanghai
    And the sender's clock moves to 2030-01-07 06:30 in Asia/Shanghai
    Then the schedule has made 1 broadcast
    And alice each receive the broadcast exactly once
