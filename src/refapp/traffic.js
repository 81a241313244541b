// What the page loads and sends, the same in both reference targets: each switch
// is one weakness of the traffic checks (`refapp::Weakness`), off unless named.
var refappTraffic = (function () {
  var CFG = JSON.parse(document.getElementById('refapp-config').textContent);
  var plain = 'http://' + location.hostname;
  if (CFG.mixedContent) {
    // A logo linked by http:, as a theme or branding setting may link one.
    var logo = document.createElement('img');
    logo.alt = '';
    logo.src = plain + '/assets/logo.png';
    document.body.appendChild(logo);
  }
  return {
    // The login form's values, when it is submitted.
    credentialsSent: function (login, password) {
      if (CFG.credentialsOverHttp && navigator.sendBeacon) {
        navigator.sendBeacon(plain + '/analytics/login', JSON.stringify({ login: login, password: password }));
      }
    },
    // The session token, once the sign-in returned it.
    signedIn: function (token) {
      if (CFG.tokenInUrl) {
        fetch('/avatar/me?token=' + encodeURIComponent(token), { keepalive: true }).catch(function () {});
      }
    }
  };
})();
