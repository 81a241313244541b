@chatwoot-own
Feature: Chatwoot's own session risks
  Chatwoot seals its Rails cookies with SECRET_KEY_BASE, and hands every browser
  that signs in two long-lived tokens besides the session: the permanent
  api_access_token and the pubsub_token of its realtime channel.

  @check-secret-key-base @asvs-3.5.3 @asvs5-7.2.1
  Scenario Outline: The Rails session cookie is not sealed with a publicly known secret (<app>)
    Given the cookies and storage of a browser signed in through the login page
    Then the server session cookie is not sealed with a publicly known secret

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-long-lived-after-sign-out @asvs-3.3.1 @asvs5-7.4.1 @wstg-sess-06
  Scenario Outline: Signing out revokes the long-lived tokens handed out at sign-in (<app>)
    Given I am signed in through the API
    When I sign out through the API
    Then the API session's long-lived credentials are rejected by the API
    And resuming the API session over the realtime channel is rejected

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-long-lived-after-password-change @asvs-3.3.3 @asvs5-7.4.3 @destructive
  Scenario Outline: A password change revokes the long-lived API token (<app>)
    Given I am signed in through the API
    When I change the password using the API session
    Then the API session's long-lived credentials are rejected by the API

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
