@cookies
Feature: Session cookies and browser storage
  A browser signs in through the login page once per run; each scenario judges
  one requirement against the cookies and storage it then holds. Session cookies
  are those carrying the session token, plus the cookies the application is
  known to keep its session in. Attributes are read through the DevTools
  protocol, so an unset SameSite is reported as unset, not as Lax.

  Background:
    Given the cookies and storage of a browser signed in through the login page

  @check-cookie-secure @asvs-3.4.1 @asvs5-3.3.1 @wstg-sess-02
  Scenario Outline: Session cookies are marked Secure (<app>)
    Then every session cookie is Secure

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-cookie-httponly @asvs-3.4.2 @asvs5-3.3.4 @wstg-sess-02
  Scenario Outline: Session cookies are HttpOnly (<app>)
    Then every session cookie is HttpOnly

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-cookie-samesite @asvs-3.4.3 @asvs5-3.3.2 @wstg-sess-02
  Scenario Outline: Session cookies set SameSite to Lax or Strict (<app>)
    Then every session cookie has SameSite Lax or Strict

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-cookie-scope @asvs-3.4.5 @asvs5-3.3.3 @wstg-sess-02
  Scenario Outline: Session cookies are host-only and scoped to the application (<app>)
    Then every session cookie is host-only and scoped to the application's path

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-cookie-host-prefix @asvs-3.4.4 @asvs5-3.3.1 @wstg-sess-02
  Scenario Outline: Session cookies use the __Host- prefix (<app>)
    Then every session cookie has the __Host- prefix

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-token-not-scriptable @asvs-3.2.3 @asvs5-3.3.4 @wstg-sess-04
  Scenario Outline: Page script cannot read the session token (<app>)
    Then page script cannot read the session token

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
