// Dashboard of the Chatwoot reference target: validates the session as the real
// dashboard does (GET /auth/validate_token with the headers kept in cw_d_session_info),
// subscribes to RoomChannel with the pubsub_token, and signs out from the sidebar
// profile menu (DELETE /auth/sign_out, then clearCookiesOnLogout).
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('refapp-config').textContent);
  var root = document.getElementById('app');
  var AUTH_KEYS = ['access-token', 'token-type', 'client', 'expiry', 'uid'];

  var readCookie = refapp.readCookie;

  function removeCookie(name) {
    document.cookie = name + '=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }

  // The default headers APIHelper puts on axios; {} when the server keeps the session.
  function authHeaders() {
    if (!CFG.sessionInfoCookie) return {};
    var raw = readCookie('cw_d_session_info');
    if (raw === null) return null;
    var all = JSON.parse(raw);
    var h = {};
    AUTH_KEYS.forEach(function (k) { if (all[k]) h[k] = all[k]; });
    return h;
  }

  function clearCookiesOnLogout() {
    ['cw_d_session_info', 'auth_data', 'user'].forEach(removeCookie);
    localStorage.removeItem('draftMessages');
    sessionStorage.removeItem('impersonationUser');
    if (CFG.webStorage) localStorage.removeItem('cw_auth');
  }

  var el = refapp.el;

  // auth.js logout(): cookies are cleared and the page leaves only when the sign-out
  // request succeeds; on failure the page stays as it is.
  function logout() {
    fetch('/auth/sign_out', { method: 'DELETE', headers: authHeaders() || {} }).then(function (r) {
      if (!r.ok) return;
      clearCookiesOnLogout();
      location.assign('/');
    }, function () {});
  }

  function render(user) {
    var item = el('button', { role: 'menuitem', type: 'button' }, ['Log out']);
    item.addEventListener('click', logout);
    var menu = el('div', { role: 'menu', hidden: '' }, [item]);
    var trigger = el('button', { type: 'button', 'class': 'profile' },
      [el('div', {}, [user.available_name]), el('div', {}, [user.email])]);
    trigger.addEventListener('click', function () { menu.hidden = !menu.hidden; });
    root.replaceChildren(el('aside', {}, [trigger, menu]), el('main', {}, [el('h1', {}, ['Conversations'])]));
  }

  function cable(user) {
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/cable',
      ['actioncable-v1-json']);
    ws.onmessage = function (ev) {
      var m = JSON.parse(ev.data);
      if (m.type === 'welcome') {
        ws.send(JSON.stringify({ command: 'subscribe', identifier: JSON.stringify({
          channel: 'RoomChannel', pubsub_token: user.pubsub_token, account_id: user.account_id, user_id: user.id
        }) }));
      }
    };
  }

  var headers = authHeaders();
  if (headers === null) { location.replace('/app/login'); return; }
  fetch('/auth/validate_token', { headers: headers }).then(function (r) {
    if (r.status === 401) { clearCookiesOnLogout(); location.replace('/app/login'); return; }
    return r.json().then(function (j) {
      var user = j.payload.data;
      if (location.pathname.indexOf('/app/accounts/') !== 0) {
        location.replace('/app/accounts/' + user.account_id + '/dashboard');
        return;
      }
      render(user);
      cable(user);
    });
  }).catch(function () { location.replace('/app/login'); });
})();
