Feature: Alipay request signatures
  Alipay has no access token: every call to its gateway is signed with the
  app's private key (RSA2), and every answer is signed with Alipay's key. A
  request whose signature does not verify is refused and nothing is sent; a
  sender with the wrong key holds the app's messages instead of burning them.

  Scenario: A request signed with another key is refused and nothing is sent
    Given an alipay mini-program on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform signed with another key
    Then the platform answers "40002/isv.invalid-signature"
    And the answer quotes the string the platform verified
    And alice has 1 subscription left
    And nobody receives anything

  Scenario: A request changed after it was signed is refused
    Given an alipay mini-program on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform and its timestamp is changed after signing
    Then the platform answers "40002/isv.invalid-signature"
    And alice has 1 subscription left

  Scenario: An unsigned request is refused
    Given an alipay mini-program on the platform
    And alice has subscribed to the template once
    When I send alice an unsigned message directly to the platform
    Then the platform answers "40001/isv.missing-signature"
    And alice has 1 subscription left

  Scenario: Alipay's answers are signed with the platform's key
    Given an alipay mini-program on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform
    Then the platform accepts it
    And the answer's signature verifies with the Alipay public key

  Scenario: A sender signing with the wrong private key fails the app's messages at once and reports the app unhealthy
    Given an alipay mini-program served by the sender that signs with the wrong private key
    And alice has subscribed to the template once
    When I send alice a message through the sender
    Then the message fails with code "40002/isv.invalid-signature" after 1 attempt
    And the sender reports the app unhealthy, naming "isv.invalid-signature"
    And alice has 1 subscription left
    And the platform receives no more sends for the app within 1 second

  Scenario: A sender holding the wrong Alipay public key does not trust the answers
    Given an alipay mini-program served by the sender that verifies answers with the wrong Alipay public key
    And alice has subscribed to the template once
    When I send alice a message through the sender
    Then the message is not reported delivered, its last code being "bad_response_signature"
