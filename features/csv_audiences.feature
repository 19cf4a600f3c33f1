Feature: CSV audiences
  Operations staff export audiences from other systems as CSV: a recipient
  column and, per recipient, their own keyword values. The sender reads the
  file row by row; a bad row is reported with its line, field and reason and
  left out, while every good row's recipient receives the broadcast once,
  with their own values (docs/campaigns.md).

  Scenario: A CSV with two bad rows: the report names their lines and fields, the good rows are delivered
    Given a wechat mini-program served by the sender
    And alice, bob, carol and dave have subscribed to the template for the long term
    When I broadcast a message to this CSV audience through the sender:
      """
      to,{text}
      alice,for alice {marker}
      ,for nobody {marker}
      bob,for bob {marker}
      carol,a gift whose name runs far past the twenty characters a thing keyword holds {marker}
      dave,for dave {marker}
      """
    Then the sender reports 2 bad rows:
      | line | field  |
      | 3    | to     |
      | 5    | {text} |
    And the broadcast has 3 recipients
    And the broadcast counts 3 delivered
    And alice, bob and dave each receive the broadcast exactly once
    And carol does not receive the broadcast
