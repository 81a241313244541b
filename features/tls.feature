@tls
Feature: TLS versions and the certificate
  The application and its websocket endpoint speak only TLS 1.2 or newer, and
  present a certificate that is trusted, valid for the host and not about to
  expire. TLS 1.0 and 1.1 are probed with a hand-written ClientHello (rustls
  cannot speak them); a real TLS 1.2 or 1.3 handshake is the positive control.

  @check-tls-versions @asvs-9.1.2 @asvs-9.1.3 @asvs5-12.1.1 @wstg-cryp-01
  Scenario Outline: Only TLS 1.2 or newer is accepted (<app>)
    Then only TLS 1.2 or newer is accepted

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-certificate @asvs-9.1.2 @asvs5-12.2.2 @wstg-cryp-01
  Scenario Outline: The certificate is trusted, valid for the host and not about to expire (<app>)
    Then the certificate is trusted, valid for the host and not about to expire

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
