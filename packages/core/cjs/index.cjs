'use strict';
// require('@udpkit/core'). Requiring the ES module itself would give its
// namespace object, which is frozen: code that replaces `createSocket` on
// the module (test doubles, instrumentation) would do nothing or throw.
// Node's require('node:dgram') is a plain, mutable object; so is this: the
// ES module's default export, the very object `import dgram from` gives.
module.exports = require('../dist/index.js').default;
