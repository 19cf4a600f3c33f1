@operator
Feature: An operator sees a paused app and resumes it
  A daily quota (WeChat 45009) pauses the whole app until the platform's
  next midnight, up to a day away. The pause is not silent: the app shows
  when it ends, why and the platform's code; the messages wait in the queue
  with their retry budgets untouched; and an operator with the admin scope
  can end the pause once the platform allows sends again. A key that may
  only read cannot.

  @isolated
  Scenario: A daily quota pauses the WeChat app, the pause is visible, and an operator resumes it
    Given a wechat mini-program served by the sender
    And alice and bob have subscribed to the template for the long term
    And the platform allows the app 1 send a day
    When I send alice a message through the sender
    Then the message is delivered
    When I send bob a message through the sender
    Then the message waits for retry with code "45009"
    And the sender shows the app paused until the next midnight in Beijing with the reason "quota_exceeded" and the code "45009"
    When I send alice another message through the sender
    Then the message is held without reaching the platform
    And the app's queue counts 1 queued and 1 retrying
    When the platform's clock moves to the next day
    And the platform allows the app 5 sends a day
    And a caller whose key may only read asks the sender to resume the app
    Then the sender answers 403
    And the app is still paused
    When an operator resumes the app
    Then the app is not paused
    And every message sent through the sender is delivered
    And bob receives the message exactly once
