@redis
Feature: Two sender instances share one Redis
  Teams run two or more replicas of their backend for availability. On
  Redis the sender's instances serve one queue: a message is sent once
  whichever instance accepted it, the app's access token is fetched once
  for the deployment, the platform's rate cap holds for the deployment,
  and when Redis goes away the sender refuses new work instead of losing
  it. (docs/redis.md; these scenarios start a real redis-server.)

  Scenario: Messages accepted by either instance are delivered exactly once
    Given two sender instances share one Redis
    And 20 users have subscribed to the template for the long term
    When I send a message to each of them, alternating between the two instances
    Then all the messages are delivered
    And each of them receives the message exactly once
    And both instances report every message as delivered
    And the platform issued the app 1 access token

  Scenario: The app's rate limit is the deployment's, not each instance's
    Given two sender instances share one Redis, each allowed 10 messages a second for the app
    And 30 users have subscribed to the template for the long term
    When I send a message to each of them, alternating between the two instances
    Then all the messages are delivered
    And the platform never received more than 11 of the app's messages in one second

  Scenario: An instance stops in the middle of a run and the other finishes the work
    Given two sender instances share one Redis, each allowed 10 messages a second for the app
    And 30 users have subscribed to the template for the long term
    When I send a message to each of them, alternating between the two instances
    And some but not all of the messages have been delivered
    And the first instance stops
    Then all the messages are delivered
    And each of them receives the message exactly once

  Scenario: Redis goes away and comes back: refused meanwhile, nothing accepted lost
    Given two sender instances share one Redis
    And 10 users have subscribed to the template for the long term
    When I send a message to each of them, alternating between the two instances
    And Redis is killed
    Then a message sent to either instance is refused with 503 and a Retry-After
    And neither instance is ready
    When Redis is started again from its append-only file
    Then both instances are ready again
    And all the messages are delivered
    And each of them receives the message exactly once
