// Shared by the Chatwoot stand-in's page scripts.
var refapp = {
  readCookie: function (name) {
    var found = null;
    document.cookie.split('; ').forEach(function (pair) {
      var i = pair.indexOf('=');
      if (i > 0 && decodeURIComponent(pair.slice(0, i)) === name) found = decodeURIComponent(pair.slice(i + 1));
    });
    return found;
  },
  el: function (tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
};
