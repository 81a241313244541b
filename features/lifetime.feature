@lifetime
Feature: Absolute session lifetime
  Sessions must end after the expected maximum lifetime (SESSIONDRILL_MAX_LIFETIME)
  even when used all the time. The lifetime the application advertises to the
  browser is checked first; enforcement is then measured by using a session
  until it is refused.

  @check-lifetime-advertised @asvs-3.3.2 @asvs5-7.3.2
  Scenario Outline: The advertised session lifetime is within the maximum (<app>)
    Given a fresh browser
    And I am signed in through the login page
    Then the advertised session lifetime is within the expected maximum

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-lifetime-enforced @asvs-3.3.2 @asvs5-7.3.2 @wstg-sess-07 @slow
  Scenario Outline: A session in continuous use ends at the maximum lifetime (<app>)
    Given I am signed in through the API
    When I keep using the API session until the maximum lifetime plus grace has passed
    Then the session was rejected before the maximum lifetime plus grace ended

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
