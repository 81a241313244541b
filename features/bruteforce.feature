@bruteforce
Feature: Brute force against the sign-in
  Repeated wrong passwords are blocked within the application's documented
  bound (Rocket.Chat's Block_Multiple_Failed_Logins: 10 per user; Chatwoot's
  Rack::Attack: 5 per address, or Devise lockable), a forged X-Forwarded-For or
  X-Real-IP does not lift the block, and the block ends. These scenarios block
  the account for the block's length, so they run only where destructive
  scenarios may (SESSIONDRILL_ALLOW_DESTRUCTIVE=1) and wait the block out.

  @check-login-throttle @asvs-2.2.1 @asvs5-6.3.1 @wstg-athn-03
  Scenario Outline: Repeated wrong passwords are blocked, and no forged address escapes the block (<app>)
    When wrong passwords are sent through the API until sign-in is blocked
    Then sign-in was blocked within the expected number of failures
    And a forged X-Forwarded-For or X-Real-IP does not lift the block
    And the account signs in again once the block has passed

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
