// Page script of the Rocket.Chat reference target. It reproduces what the real
// web client does with a session: the password is hashed client side and sent as
// a DDP login over REST (method.callAnon/login); the token is then resumed over
// the /websocket DDP connection, stored in localStorage (Meteor.* keys) and
// written to rc_uid/rc_token cookies through document.cookie, `secure` only on
// https. Logout goes over DDP and clears storage, not the cookies.
// The hardened posture instead relies on an HttpOnly cookie the server sets.
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('refapp-config').textContent);
  var root = document.getElementById('root');
  var KEYS = { uid: 'Meteor.userId', token: 'Meteor.loginToken', expires: 'Meteor.loginTokenExpires' };
  var socket = null;
  var nextId = 1;
  var pending = {};

  function sha256hex(text) {
    function rotr(n, x) { return (x >>> n) | (x << (32 - n)); }
    var K = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var bytes = Array.from(new TextEncoder().encode(text));
    var bitLen = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    for (var s = 56; s >= 0; s -= 8) bytes.push(s >= 32 ? Math.floor(bitLen / Math.pow(2, s)) & 0xff : (bitLen >>> s) & 0xff);
    var w = new Array(64);
    for (var i = 0; i < bytes.length; i += 64) {
      for (var t = 0; t < 16; t++) {
        w[t] = (bytes[i + 4 * t] << 24) | (bytes[i + 4 * t + 1] << 16) | (bytes[i + 4 * t + 2] << 8) | bytes[i + 4 * t + 3];
      }
      for (t = 16; t < 64; t++) {
        var s0 = rotr(7, w[t - 15]) ^ rotr(18, w[t - 15]) ^ (w[t - 15] >>> 3);
        var s1 = rotr(17, w[t - 2]) ^ rotr(19, w[t - 2]) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var t1 = (h + (rotr(6, e) ^ rotr(11, e) ^ rotr(25, e)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
        var t2 = ((rotr(2, a) ^ rotr(13, a) ^ rotr(22, a)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H = [(H[0] + a) | 0, (H[1] + b) | 0, (H[2] + c) | 0, (H[3] + d) | 0,
           (H[4] + e) | 0, (H[5] + f) | 0, (H[6] + g) | 0, (H[7] + h) | 0];
    }
    return H.map(function (x) { return ('00000000' + (x >>> 0).toString(16)).slice(-8); }).join('');
  }

  function saveLogin(uid, token, expiresMs) {
    if (!CFG.webStorage || CFG.storesNothing) return;
    localStorage.setItem(KEYS.uid, uid);
    localStorage.setItem(KEYS.token, token);
    localStorage.setItem(KEYS.expires, new Date(expiresMs).toString());
  }

  function clearLogin() {
    Object.keys(KEYS).forEach(function (k) { localStorage.removeItem(KEYS[k]); });
  }

  function writeCookies(uid, token) {
    if (!CFG.clientCookies || CFG.storesNothing) return;
    var secure = location.protocol === 'https:' && CFG.clientCookiesSecure ? '; secure' : '';
    document.cookie = 'rc_uid=' + encodeURI(uid) + '; path=/' + secure;
    document.cookie = 'rc_token=' + encodeURI(token) + '; path=/' + secure;
  }

  function clearClientCookies() {
    ['rc_uid', 'rc_token'].forEach(function (n) {
      document.cookie = n + '=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    });
  }

  function ddp() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    return new Promise(function (resolve, reject) {
      var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/websocket');
      ws.onopen = function () { ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] })); };
      ws.onerror = function () { reject(new Error('websocket error')); };
      ws.onclose = function () { socket = null; };
      ws.onmessage = function (ev) {
        var m = JSON.parse(ev.data);
        if (m.msg === 'connected') { socket = ws; resolve(ws); }
        if (m.msg === 'ping') ws.send(JSON.stringify({ msg: 'pong' }));
        if (m.msg === 'result' && pending[m.id]) {
          var p = pending[m.id];
          delete pending[m.id];
          if (m.error) p.reject(m.error); else p.resolve(m.result);
        }
      };
    });
  }

  function call(method, params) {
    return ddp().then(function (ws) {
      return new Promise(function (resolve, reject) {
        var id = String(nextId++);
        pending[id] = { resolve: resolve, reject: reject };
        ws.send(JSON.stringify({ msg: 'method', method: method, id: id, params: params }));
      });
    });
  }

  // Meteor.loginWithToken over the websocket.
  function resume(token) {
    return call('login', [{ resume: token }]).then(function (r) {
      saveLogin(r.id, r.token, r.tokenExpires.$date);
      writeCookies(r.id, r.token);
      return r;
    });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function showLogin(failed) {
    var user = el('input', { name: 'usernameOrEmail', id: 'u' + Math.random().toString(36).slice(2), autocapitalize: 'none' });
    var pass = el('input', { type: 'password', name: 'password', id: 'p' + Math.random().toString(36).slice(2) });
    var fields = [el('label', { 'for': user.id }, ['Email or username']), user,
                  el('label', { 'for': pass.id }, ['Password']), pass];
    if (failed && !CFG.silentLoginError) {
      user.setAttribute('aria-invalid', 'true');
      pass.setAttribute('aria-invalid', 'true');
      fields.push(el('span', { role: 'alert' }, ['Invalid username or password']));
    }
    var form = el('form', { 'aria-labelledby': 'login-title', novalidate: '' },
      [el('h2', { id: 'login-title' }, ['Login'])].concat(fields, [el('button', { type: 'submit' }, ['Login'])]));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); submit(user.value, pass.value); });
    root.replaceChildren(form);
  }

  // 8.x: the top NavBar's "User menu" icon button (no data-qa) opens a multi-select
  // GenericMenu whose items are menuitemcheckbox options.
  function showApp(username) {
    var item = el('div', { role: 'menuitemcheckbox', 'aria-checked': 'false', tabindex: '-1' },
      [el('span', { 'class': 'rcx-option__content' }, ['Logout'])]);
    var menu = el('div', { role: 'menu', hidden: '' }, [item]);
    var button = el('button', { type: 'button', 'aria-label': 'User menu', title: 'User menu',
      'class': 'rcx-button--icon' }, [el('span', {}, [username || 'me'])]);
    button.addEventListener('click', function () { menu.hidden = !menu.hidden; });
    item.addEventListener('click', logout);
    var navbar = el('nav', { 'aria-label': 'Navigation' }, [button, menu]);
    root.replaceChildren(navbar, el('main', { id: 'main-content' }, [el('h1', {}, ['Home'])]));
  }

  function submit(login, password) {
    refappTraffic.credentialsSent(login, password);
    var user = login.indexOf('@') >= 0 ? { email: login } : { username: login };
    var message = JSON.stringify({ msg: 'method', id: String(nextId++), method: 'login',
      params: [{ user: user, password: { digest: sha256hex(password), algorithm: 'sha-256' } }] });
    fetch('/api/v1/method.callAnon/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: message })
    }).then(function (r) { return r.json(); }).then(function (j) {
      var reply = JSON.parse(j.message);
      if (reply.error) { showLogin(true); return; }
      refappTraffic.signedIn(reply.result.token);
      if (CFG.serverCookie) {
        saveLogin(reply.result.id, reply.result.token, reply.result.tokenExpires.$date);
        return ddp().then(function () { showApp(login); });
      }
      return resume(reply.result.token).then(function () { showApp(login); });
    }).catch(function () { showLogin(true); });
  }

  function logout() {
    var done = function () {
      clearLogin();
      if (CFG.clearClientCookiesOnLogout) clearClientCookies();
      if (socket) socket.close();
      showLogin(false);
    };
    if (CFG.serverCookie) {
      fetch('/api/v1/logout', { method: 'POST' }).then(done, done);
    } else {
      call('logout', []).then(done, done);
    }
  }

  function start() {
    var q = new URLSearchParams(location.search);
    var linkToken = q.get('resumeToken');
    if (linkToken) history.replaceState(null, '', location.pathname);
    if (linkToken && CFG.urlTokenLogin) {
      // useLoginViaQuery: the link's token signs this browser in. While that login is in
      // flight there is no user yet, so AuthenticationCheck shows the login form first.
      showLogin(false);
      var settle = new Promise(function (resolve) { setTimeout(resolve, CFG.linkLoginDelayMs); });
      var viaLink = CFG.serverCookie
        ? fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                   body: JSON.stringify({ resume: linkToken }) })
            .then(function (r) { if (!r.ok) throw new Error('rejected'); return ddp(); })
        : resume(linkToken);
      viaLink.then(function () { return settle; })
        .then(function () { showApp(q.get('userId')); }, function () { showLogin(false); });
      return;
    }
    if (CFG.serverCookie) {
      fetch('/api/v1/me').then(function (r) {
        if (!r.ok) { showLogin(false); return; }
        return r.json().then(function (me) { return ddp().then(function () { showApp(me.username); }); });
      }).catch(function () { showLogin(false); });
      return;
    }
    var stored = CFG.webStorage && localStorage.getItem(KEYS.token);
    if (!stored) { showLogin(false); return; }
    resume(stored).then(function (r) { showApp(r.id); }, function () { clearLogin(); showLogin(false); });
  }

  start();
})();
