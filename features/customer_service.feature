Feature: Customer-service conversations
  Beside subscribe messages, a WeChat mini-program answers users through its
  customer-service API — but only while the user's action keeps a window
  open: a user who enters the session from a contact button may be answered
  twice within a minute, a user who writes may be answered five times within
  48 hours. Images in answers are uploaded as temporary media first and sent
  by their media id. The mock holds the window, counts the answers and lands
  each delivered answer in the inbox beside the subscribe messages.

  Scenario: A user enters the session: the backend answers twice, the third answer hits the limit
    Given a wechat mini-program on the platform
    And alice opens the mini-program's customer-service session
    When I answer alice "您好，请问有什么可以帮您？" through customer service
    And I answer alice "您的订单已发货" through customer service
    Then the platform accepts them
    When I answer alice "还有其他问题吗？" through customer service
    Then the platform answers "45047" saying "out of response count limit"
    And alice has received 2 customer-service messages

  Scenario: A user writes: an uploaded image is among the five answers
    Given a wechat mini-program on the platform
    And alice writes to the mini-program's customer service
    When I upload an image to the platform
    And I answer alice with the uploaded image through customer service
    Then the platform accepts it
    And alice has received the uploaded image from customer service
    When I answer alice "图片中是您的运单" through customer service 4 times
    Then the platform accepts them
    When I answer alice "最后一条" through customer service
    Then the platform answers "45047"
    And alice has received 5 customer-service messages

  Scenario: Nobody is answered who has not written
    Given a wechat mini-program on the platform
    And alice uses the mini-program but never subscribed
    When I answer alice "您好" through customer service
    Then the platform answers "45015" saying "response out of time limit"
    And alice has received 0 customer-service messages

  @isolated
  Scenario: The window closes 48 hours after the user wrote
    Given a wechat mini-program on the platform
    And alice writes to the mini-program's customer service
    When I answer alice "收到，我们尽快处理" through customer service
    Then the platform accepts it
    When the platform's clock moves forward by 48h
    And I answer alice "处理好了" through customer service
    Then the platform answers "45015"
    And alice has received 1 customer-service message
