@login
Feature: Signing in
  Signing in through the real login page must yield a session the application
  itself accepts, and a wrong password must yield none. Every later verdict
  depends on capturing a real session, so these two also calibrate the suite.

  @check-login-valid-session @asvs-3.2.1 @wstg-sess-01
  Scenario Outline: Signing in through the login page yields a valid session (<app>)
    Given a fresh browser
    When I sign in through the login page
    Then the browser holds a session credential
    And the browser session is accepted by the API

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-login-wrong-password @wstg-athn-04
  Scenario Outline: A wrong password yields no session and the page says so (<app>)
    Given a fresh browser
    When I sign in through the login page with a wrong password
    Then the browser holds no session credential
    And the login page shows an error

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
