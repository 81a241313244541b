@limit @destructive
Feature: An account holds no more sessions than its declared limit
  Signs in one session more than the limit the application declares (Rocket.Chat's
  MAX_RESUME_LOGIN_TOKENS, Chatwoot's max_number_of_devices, or the profile's
  `sessions_per_account`), using the first session after every sign-in. The sign-ins
  end the account's older sessions, so against configured targets it runs only with
  SESSIONDRILL_ALLOW_DESTRUCTIVE=1.

  @check-session-limit @asvs5-7.1.2
  Scenario Outline: Signing in past the session limit ends the oldest session or is refused (<app>)
    When I sign in through the API one session past the account's session limit
    Then the account never held more sessions than its limit

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
