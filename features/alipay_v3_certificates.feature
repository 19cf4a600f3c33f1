Feature: Alipay OpenAPI v3 in certificate mode
  Alipay's newer OpenAPI v3 signs each call in an Authorization header, and
  an app in certificate mode names its app certificate and Alipay's root
  certificates by serial number. Alipay signs its answers in headers and
  names the Alipay certificate whose key verifies them. A call whose
  signature does not match what was sent is refused and nothing is sent.

  Scenario: A v3 send in certificate mode reaches the user
    Given an alipay mini-program in certificate mode on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform over OpenAPI v3
    Then the platform accepts it
    And the answer's signature verifies with the Alipay certificate
    And alice receives the message exactly once
    And alice has 0 subscriptions left

  Scenario: A v3 send with a tampered signature is refused and nothing is sent
    Given an alipay mini-program in certificate mode on the platform
    And alice has subscribed to the template once
    When I send alice a message directly to the platform over OpenAPI v3 with its signature tampered with
    Then the platform answers "401/invalid-signature"
    And the answer's signature verifies with the Alipay certificate
    And alice has 1 subscription left
    And nobody receives anything
