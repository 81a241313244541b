@regeneration
Feature: A new session at every sign-in
  The session identifier must be created at authentication: never reused, never
  taken from the browser, never handed over in a link.

  @check-new-token-per-sign-in @asvs-3.2.1 @asvs5-7.2.4 @wstg-sess-03
  Scenario Outline: Every sign-in yields a new session token (<app>)
    When I sign in through the API twice
    Then the two sign-ins yielded different session tokens

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-planted-token @asvs-3.2.1 @asvs5-7.2.4 @wstg-sess-03
  Scenario Outline: A token planted before sign-in is not adopted (<app>)
    Given a fresh browser
    And a session token is planted in the browser
    When I sign in through the login page
    Then the browser session is not the planted token
    And the planted token is rejected by the API

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-issued-id-replaced @asvs-3.2.1 @asvs5-7.2.4 @wstg-sess-03
  Scenario Outline: A session id issued before sign-in does not survive it (<app>)
    Given a fresh browser
    And the login page is open
    When I sign in through the login page
    Then the browser session is not the id issued before sign-in
    And the id issued before sign-in is rejected by the API

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

  @check-token-link @asvs-3.1.1 @asvs5-14.2.1 @wstg-sess-04
  Scenario Outline: A link carrying a session token does not sign a browser in (<app>)
    Given a fresh browser
    And I am signed in through the API
    When I open a link carrying the API session's token in the browser
    Then the browser is not signed in with the API session

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

  @check-session-renewed @asvs-3.2.1 @asvs5-7.2.4 @wstg-sess-03
  Scenario Outline: The server's own session cookie is renewed at sign-in (<app>)
    Given a fresh browser
    And the login page is open
    When I sign in through the login page
    Then the server session cookie was replaced at sign-in

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
