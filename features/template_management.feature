Feature: Managing templates and checking content through the platforms' own APIs
  A backend does more than send: it picks templates from the platform's
  library through the platform's API, asks whether a user is subscribed,
  checks a user's image before showing it, and some backends post JSON where
  the docs show a form. The mock keeps one world for all of it: a template
  added through the platform's API is the one the control API lists and the
  send accepts.

  Scenario: A Douyin template added with add_app_tpl carries a message once the user subscribes
    Given a douyin mini-program on the platform
    And alice uses the mini-program but never subscribed
    When I add the public template 12259 with the keywords "物品名称 快递单号" through the platform's template API
    Then the mock lists the new template among the app's templates
    And the platform reports alice not subscribed to the new template
    When alice subscribes to the new template once
    Then the platform reports alice subscribed once to the new template
    When I send alice a message with the new template directly to the platform
    Then the platform accepts it
    And alice receives the message exactly once
    And the platform reports alice not subscribed to the new template

  Scenario: Douyin's image check judges an image by the content rules
    Given a douyin mini-program on the platform
    And the platform's content rules hold the image "https://img.example/counterfeit.png" as risky
    When I ask the platform's image check about "https://img.example/counterfeit.png"
    Then the platform judges the image risky
    When I ask the platform's image check about "https://img.example/kitten.png"
    Then the platform judges the image clean

  Scenario: A Baidu template added with templateadd carries a message keyed keyword1, keyword2
    Given a baidu mini-program on the platform
    When I add the library title "BD0003" with the keywords 1 and 2 through the platform's template API
    Then the mock lists the new template among the app's templates
    When alice subscribes to the new template once
    And I send alice a message with the new template directly to the platform
    Then the platform accepts it
    And alice receives the message exactly once

  Scenario: A Kuaishou message posted as JSON is delivered like a form
    Given a kuaishou mini-program on the platform
    And alice has subscribed to the template once
    When I send alice a message with a JSON body directly to the platform
    Then the platform accepts it
    And alice receives the message exactly once
    When I send alice a message with a JSON body directly to the platform
    Then the platform answers "100200110"
