@store
Feature: The session store is not open
  Sessions live in the application's stores (Rocket.Chat's MongoDB, Chatwoot's
  Redis and PostgreSQL). Anyone who reaches a store that answers without
  credentials can read or forge every session. Each configured store is asked,
  without credentials, for something only an authenticated client should get.

  @check-session-store @asvs5-13.2.1
  Scenario Outline: The session stores refuse clients without credentials (<app>)
    Then the session stores refuse clients without credentials

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
