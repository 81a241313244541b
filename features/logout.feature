@logout
Feature: Signing out ends the session everywhere
  The credential captured before signing out is replayed from outside the
  browser, over the API and the realtime channel: a browser that merely looks
  signed out proves nothing.

  @check-logout-ui @asvs-3.3.1 @asvs5-7.4.1 @asvs5-14.3.1 @wstg-sess-06
  Scenario Outline: After signing out through the page the session is dead (<app>)
    Given a fresh browser
    And I am signed in through the login page
    When I sign out through the user interface
    Then the browser session is rejected by the API
    And resuming the browser session over the realtime channel is rejected
    And the browser no longer holds the session token

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-logout-api @asvs-3.3.1 @asvs5-7.4.1 @wstg-sess-06
  Scenario Outline: After signing out through the API the session is dead (<app>)
    Given I am signed in through the API
    When I sign out through the API
    Then the API session is rejected by the API
    And resuming the API session over the realtime channel is rejected

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
