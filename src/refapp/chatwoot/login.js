// Login page of the Chatwoot reference target (app/javascript/v3/views/login).
// As the real dashboard does, it stores JSON.stringify(response.headers) of the
// sign-in in cw_d_session_info through js-cookie 3: path=/ and an expiry in days,
// no SameSite (js-cookie 3 ignores Cookies.defaults), no Secure, not HttpOnly.
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('refapp-config').textContent);
  var root = document.getElementById('app');

  var readCookie = refapp.readCookie;

  // js-cookie 3.0.5 `set` with its default converter.
  function setCookie(name, value, days) {
    var expires = new Date(Date.now() + days * 864e5).toUTCString();
    name = encodeURIComponent(name).replace(/%(2[346B]|5E|60|7C)/g, decodeURIComponent).replace(/[()]/g, escape);
    value = encodeURIComponent(value).replace(/%(2[346BF]|3[AC-F]|40|5[BDE]|60|7[BCD])/g, decodeURIComponent);
    document.cookie = name + '=' + value + '; path=/; expires=' + expires;
  }

  // RouteHelper: any cw_d_session_info sends the login page to the app.
  if (CFG.sessionInfoCookie && readCookie('cw_d_session_info') !== null) {
    location.replace('/app/');
    return;
  }

  var el = refapp.el;

  var email = el('input', { name: 'email_address', 'data-testid': 'email_input', type: 'text' });
  var password = el('input', { name: 'password', 'data-testid': 'password_input', type: 'password' });
  var toast = el('div', { role: 'alert', 'class': 'toast' });
  var form = el('form', {}, [
    el('h2', {}, ['Login to Chatwoot']),
    el('label', {}, ['Email', email]),
    el('label', {}, ['Password', password]),
    el('button', { type: 'submit', 'data-testid': 'submit_button' }, ['Login'])
  ]);
  root.replaceChildren(form, toast);

  function show(text) { toast.textContent = text; }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    refappTraffic.credentialsSent(email.value, password.value);
    fetch('/auth/sign_in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: email.value, password: password.value })
    }).then(function (r) {
      if (r.status === 429) { return r.text().then(show); }
      if (!r.ok) {
        if (CFG.silentLoginError) return;
        return r.json().then(function (j) { show(j.errors ? j.errors[0] : 'Login failed'); });
      }
      var headers = {};
      r.headers.forEach(function (v, k) { headers[k] = v; });
      refappTraffic.signedIn(headers['access-token']);
      return r.json().then(function (j) {
        var days = Math.floor((Number(headers.expiry) * 1000 - Date.now()) / 864e5);
        if (CFG.sessionInfoCookie) setCookie('cw_d_session_info', JSON.stringify(headers), days);
        if (CFG.webStorage) localStorage.setItem('cw_auth', JSON.stringify(headers));
        show('Login successful');
        location.assign('/app/accounts/' + j.data.account_id + '/dashboard');
      });
    }).catch(function () { show('Login failed'); });
  });
})();
