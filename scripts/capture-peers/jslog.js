// Shared by the Node peers: append what a side sends to a JSON Lines log.
'use strict';
const fs = require('fs');
const { performance } = require('perf_hooks');

function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

class Log {
  constructor(path, side) {
    this.fd = fs.openSync(path, 'a');
    this.side = side;
  }
  // ts: when it was sent (seconds since the epoch); records written with the same ts
  // stay together, in the order written
  write(rec, ts) {
    fs.writeSync(this.fd, JSON.stringify({ ts: ts === undefined ? now() : ts, from: this.side, ...rec }) + '\n');
  }
}

// A queue of incoming messages that a script can await one by one.
class Inbox {
  constructor() { this.items = []; this.waiters = []; }
  push(x) { const w = this.waiters.shift(); if (w) w(x); else this.items.push(x); }
  next() { return this.items.length ? Promise.resolve(this.items.shift()) : new Promise((r) => this.waiters.push(r)); }
}

module.exports = { Log, Inbox, now };
