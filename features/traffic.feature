@traffic
Feature: What the browser loads and sends
  Read from the browser's own record (chromedriver's performance log and
  console): the login page and the signed-in page load nothing over plain
  HTTP, the credentials leave the browser only over TLS, and the session
  token never travels in an address, a Referer or a redirect.

  @check-no-mixed-content @asvs-9.1.1 @asvs5-12.2.1 @wstg-cryp-03
  Scenario Outline: The login and signed-in pages load nothing over plain HTTP (<app>)
    Given a fresh browser
    When I sign in through the login page
    Then the pages loaded nothing over plain HTTP

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-credentials-over-tls @asvs-9.1.1 @asvs5-12.2.1 @wstg-cryp-03
  Scenario Outline: The credentials are sent only over HTTPS (<app>)
    Given a fresh browser
    When I sign in through the login page
    Then the credentials were sent only over HTTPS

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-token-not-in-url @asvs-3.1.1 @asvs5-14.2.1 @wstg-sess-04
  Scenario Outline: The session token never travels in a URL (<app>)
    Given a fresh browser
    When I sign in through the login page
    Then no address, Referer or redirect carried the session token

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
