@others @destructive
Feature: Signing out the other sessions ends them everywhere and keeps this one
  The request the application's own "sign out other sessions" control sends is made
  with the browser's session. A second session is then replayed on every channel, and
  the browser's session must still be accepted: ending the session that asked is a
  finding too. It ends the account's other sessions, so against configured targets it
  runs only with SESSIONDRILL_ALLOW_DESTRUCTIVE=1.

  @check-end-other-sessions @asvs5-7.5.2 @asvs5-7.4.3
  Scenario Outline: Signing out the other sessions ends them on every channel and keeps this one (<app>)
    Given a fresh browser
    And I am signed in through the login page
    And a second session is signed in through the API
    And a realtime connection is open with the second session
    When I sign out the other sessions using the browser session
    Then the second session is rejected by the API
    And the realtime connection of the second session is closed
    And resuming the second session over the realtime channel is rejected
    And the browser session is accepted by the API

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
