@tokens
Feature: Session tokens
  Tokens cannot be guessed: thousands of fresh ones are analysed bit by bit as
  Burp Sequencer does (statistics can only prove weakness; a pass means no
  weakness was found). Answers that carry a session's data stay out of caches.

  @check-token-strength @asvs-3.2.2 @asvs5-7.2.3 @wstg-sess-01
  Scenario Outline: Fresh tokens show no statistical weakness and at least 128 effective bits (<app>)
    When I collect fresh session tokens through the API
    Then the tokens show no statistical weakness and at least 128 effective bits

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-not-cacheable @asvs-8.2.1 @wstg-sess-04
  Scenario Outline: Answers carrying session data are not cacheable (<app>)
    Given I am signed in through the API
    Then answers carrying the API session's data are not cacheable

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |

  @check-forged-tokens @asvs-3.2.2 @asvs5-7.2.3 @wstg-sess-01
  Scenario Outline: Forged and random tokens are refused (<app>)
    Given I am signed in through the API
    Then forged and random variants of the API session's token are refused by the API

    @rocketchat
    Examples:
      | app        |
      | rocketchat |

    @chatwoot
    Examples:
      | app        |
      | chatwoot   |
