@deactivation @destructive
Feature: Deactivating an account ends its sessions everywhere
  An administrator (a second account, SESSIONDRILL_<APP>_ADMIN_USER and _ADMIN_PASSWORD)
  deactivates the test account; every session of it is then replayed on every channel.
  The account is always reactivated afterwards, even when the scenario fails or the run
  is interrupted, and a fresh sign-in proves it. Against configured targets it runs
  only with SESSIONDRILL_ALLOW_DESTRUCTIVE=1.

  @check-deactivation-ends-sessions @asvs5-7.4.2 @asvs5-7.4.5
  Scenario Outline: Deactivating the account ends its sessions on every channel (<app>)
    Given a fresh browser
    And I am signed in through the login page
    And a second session is signed in through the API
    And a realtime connection is open with the second session
    When an administrator deactivates the account
    Then the browser session is rejected by the API
    And the second session is rejected by the API
    And the realtime connection of the second session is closed
    And resuming the second session over the realtime channel is rejected

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
