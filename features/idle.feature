@idle @slow
Feature: Idle timeout
  A session nobody uses must end after the expected idle timeout; a session in
  use must not (otherwise a short absolute timeout would pass for an idle one).
  Both wait the expected idle timeout plus grace (SESSIONDRILL_IDLE_TIMEOUT,
  SESSIONDRILL_GRACE), concurrently with the other scenarios.

  @check-idle-expiry @asvs-3.3.2 @asvs5-7.3.1 @wstg-sess-07
  Scenario Outline: A session left idle is rejected (<app>)
    Given I am signed in through the API
    When I leave the API session untouched for the idle timeout plus grace
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

  @check-idle-activity @asvs5-7.3.1 @wstg-sess-07
  Scenario Outline: A session in use outlives the idle timeout (<app>)
    Given I am signed in through the API
    When I keep using the API session until the idle timeout plus grace has passed
    Then the session was never rejected while in use

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
