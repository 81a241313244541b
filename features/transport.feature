@transport
Feature: HTTPS only
  Sessions must never travel over plain HTTP: requests to http:// are
  redirected to https:// on the same host (or not served at all), and HTTPS
  responses tell browsers to stay on HTTPS for at least a year.

  @check-https-redirect @asvs-9.1.1 @asvs5-12.2.1 @wstg-cryp-03
  Scenario Outline: Plain HTTP is redirected to HTTPS (<app>)
    Then plain HTTP requests are redirected to HTTPS

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-hsts @asvs-14.4.5 @asvs5-3.4.1 @wstg-conf-07
  Scenario Outline: HTTPS responses carry HSTS for at least a year (<app>)
    Then HTTPS responses carry HSTS with a max-age of at least one year

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
