Feature: The sender keeps a consent ledger from the platforms' pushes
  WeChat and Douyin tell the developer's server when a user answers a
  subscribe popup or switches a template off in the settings, and WeChat
  reports each delivery. The platform pushes these to the sender, signed and
  (in WeChat's compatible and safe modes) encrypted; the sender checks every
  push, keeps a ledger of who allowed what, and — for an app that enforces
  consent — holds back a message the user did not allow, without calling the
  platform and without spending a credit.

  Scenario Outline: Three popup credits deliver three messages; the fourth is held back (<format>, <mode>)
    Given a wechat mini-program served by the sender that enforces consent, pushing <format> in <mode> mode
    When alice accepts the template in 3 popups
    Then the sender's ledger shows alice with 3 one-time credits
    When I send alice 4 messages through the sender one after another
    Then the first 3 are delivered and the last is rejected as not subscribed
    And the platform accepted 3 sends for alice
    And the platform never answered a send for alice with its not-subscribed code
    And each delivered message carries the platform's delivery receipt

    Examples:
      | format | mode       |
      | xml    | plain      |
      | json   | plain      |
      | xml    | compatible |
      | json   | compatible |
      | xml    | safe       |
      | json   | safe       |

  Scenario: A rejection in the settings stops the messages already queued; a new accept resumes
    Given a wechat mini-program served by the sender that enforces consent, pushing json in safe mode
    And alice accepts the template in 1 popup
    And the sender's ledger shows alice with 1 one-time credit
    When I send alice 2 messages scheduled 6 seconds from now through the sender
    And alice switches the template off in the settings
    Then the sender's ledger shows alice rejected the template
    And they are all rejected as not subscribed
    And the platform never answered a send for alice with its not-subscribed code
    When alice accepts the template in 1 popup
    And the sender's ledger shows alice with 1 one-time credit
    And I send alice a message through the sender
    Then the message is delivered
    And the platform accepted 1 send for alice

  Scenario: A rejection in the popup holds back the next message
    Given a wechat mini-program served by the sender that enforces consent, pushing xml in plain mode
    And alice accepts the template in 1 popup
    And alice rejects the template in a popup
    Then the sender's ledger shows alice rejected the template
    When I send alice a message through the sender
    Then the message is rejected as not subscribed
    And the platform accepted 0 sends for alice
    And the platform never answered a send for alice with its not-subscribed code

  Scenario Outline: A forged push changes nothing (<spoiled>, <mode> mode)
    Given a wechat mini-program served by the sender that enforces consent, pushing <format> in <mode> mode
    And alice accepts the template in 1 popup
    And the sender's ledger shows alice with 1 one-time credit
    When the platform spoils its pushes to the app with a wrong <spoiled>
    And alice accepts the template in 1 popup
    Then the sender refuses every attempt of the push until the platform gives up
    And the sender's ledger shows alice with 1 one-time credit

    Examples:
      | spoiled       | format | mode       |
      | signature     | xml    | plain      |
      | msg_signature | json   | safe       |
      | encryption    | xml    | compatible |
      | appid         | json   | safe       |

  Scenario: A replayed push, an hour old, changes nothing
    Given a wechat mini-program served by the sender that enforces consent, pushing json in plain mode
    And alice accepts the template in 1 popup
    And the sender's ledger shows alice with 1 one-time credit
    When the platform spoils its pushes to the app with an old timestamp
    And alice accepts the template in 1 popup
    Then the sender refuses every attempt of the push until the platform gives up
    And the sender's ledger shows alice with 1 one-time credit

  Scenario: A failed delivery shows in the message's receipt
    Given a wechat mini-program served by the sender that enforces consent, pushing json in safe mode
    And alice accepts the template in 1 popup
    And the platform will report the next delivery as failed with code 10001
    When I send alice a message through the sender
    Then the message is delivered
    And the message's receipt says failed with code "10001"

  Scenario: Douyin's subscription actions reach the ledger
    Given a douyin mini-program served by the sender that enforces consent
    When alice accepts the template in 2 popups
    Then the sender's ledger shows alice with 2 one-time credits
    When I send alice 3 messages through the sender one after another
    Then the first 2 are delivered and the last is rejected as not subscribed
    And the platform accepted 2 sends for alice
    And the platform never answered a send for alice with its not-subscribed code
    When alice switches the template off in the settings
    Then the sender's ledger shows alice rejected the template
