@password @destructive
Feature: A password change ends the other sessions and needs the current password
  Changes the account's password and always changes it back, even when the
  scenario fails or the run is interrupted. Against configured targets it runs
  only with SESSIONDRILL_ALLOW_DESTRUCTIVE=1.

  @check-password-change @asvs-3.3.3 @asvs5-7.4.3 @wstg-sess-06
  Scenario Outline: Changing the password ends the account's other sessions (<app>)
    Given a fresh browser
    And I am signed in through the login page
    And a second session is signed in through the API
    And a realtime connection is open with the second session
    When I change the password using the browser session
    Then the second session is rejected by the API
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

  @check-password-change-needs-current @asvs5-6.2.3
  Scenario Outline: A password change needs the current password (<app>)
    Given I am signed in through the API
    When I change the password with a wrong current password using the API session
    Then the password change was refused and the password still signs in

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
