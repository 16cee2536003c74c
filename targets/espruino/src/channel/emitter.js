/**
 * A minimal event emitter for device objects (on, emit). Espruino objects
 * have a built-in on/emit; this one is explicit so the behaviour (listeners
 * in registration order, exceptions propagate) does not depend on it.
 */
exports.init = function (o) {
  o._ev = {};
};

exports.mixin = function (Ctor) {
  Ctor.prototype.on = function (name, fn) {
    (this._ev[name] = this._ev[name] || []).push(fn);
    return this;
  };
  Ctor.prototype.emit = function (name, a) {
    var l = this._ev[name];
    if (l) for (var i = 0; i < l.length; i++) l[i].call(this, a);
  };
};
