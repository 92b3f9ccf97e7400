// Record every Engine.IO packet a side hands to its transport (polling or websocket),
// and every Socket.IO packet inside them, decoded with socket.io's own parser.
// Hooked at the transports' send(), so the upgrade probe ("2probe"/"3probe"), the
// upgrade packet ("5") and the noop ("6") are recorded too, not only application packets.
'use strict';
const path = require('path');
const { Decoder, PacketType } = require('socket.io-parser');
const { now } = require('./jslog');
const { deconstructPacket } = require(path.join(__dirname, 'node_modules/socket.io-parser/build/cjs/binary.js'));

const SIO_TYPES = Object.fromEntries(Object.entries(PacketType).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

function eioData(data) {
  if (data === undefined) return null;
  if (typeof data === 'string') return data;
  return { _binary_hex: Buffer.from(data).toString('hex') };
}

function makeRecorder(log) {
  const decoder = new Decoder();
  let transport = null;
  let ts; // the time of the current send(): one HTTP body or one run of WebSocket frames
  let bodies = 0; // HTTP bodies this side sent with polling packets
  decoder.on('decoded', (packet) => {
    // back to the form that was on the wire: Buffers become {"_placeholder":true,"num":N}
    const { packet: wire, buffers } = deconstructPacket(packet);
    // the decoder turns BINARY_EVENT/BINARY_ACK into EVENT/ACK once the attachments are
    // back in place; on the wire they were binary packets ("51-…")
    let type = SIO_TYPES[packet.type];
    const isEvent = type === 'EVENT' || type === 'BINARY_EVENT';
    const isAck = type === 'ACK' || type === 'BINARY_ACK';
    if (buffers.length) type = isEvent ? 'BINARY_EVENT' : 'BINARY_ACK';
    const rec = {
      kind: 'socketio', transport, type, namespace: packet.nsp,
      event: isEvent ? wire.data[0] : null,
      args: isEvent ? wire.data.slice(1) : isAck ? wire.data : null,
      ack_id: packet.id === undefined ? null : packet.id,
      attachments: buffers.length,
    };
    if (buffers.length) rec.attachments_hex = buffers.map((b) => Buffer.from(b).toString('hex'));
    if (!isEvent && !isAck) rec.data = wire.data === undefined ? null : wire.data;
    log.write(rec, ts);
  });
  // sentAt: taken before the transport wrote anything, so the peer's reply sorts after
  return (transportName, packets, sentAt) => {
    ts = sentAt;
    const body = transportName === 'polling' ? ++bodies : null;
    for (const p of packets) {
      const rec = { kind: 'engineio', transport: transportName, type: p.type, data: eioData(p.data) };
      // polling: packets with the same number travelled in one HTTP body
      if (body !== null) rec.http_body = body;
      log.write(rec, ts);
      if (p.type === 'message') {
        transport = transportName;
        decoder.add(p.data);
      }
    }
  };
}

function hookServer(log) {
  const rec = makeRecorder(log);
  const { Polling } = require(path.join(__dirname, 'node_modules/engine.io/build/transports/polling.js'));
  const { WebSocket } = require(path.join(__dirname, 'node_modules/engine.io/build/transports/websocket.js'));
  for (const [name, cls] of [['polling', Polling], ['websocket', WebSocket]]) {
    const orig = cls.prototype.send;
    cls.prototype.send = function (packets) {
      const t = now();
      const r = orig.call(this, packets); // polling may append a close packet: record after
      rec(name, packets, t);
      return r;
    };
  }
}

function hookClient(log) {
  const rec = makeRecorder(log);
  const { Transport } = require('engine.io-client');
  const orig = Transport.prototype.send;
  Transport.prototype.send = function (packets) {
    if (this.readyState === 'open') rec(this.name, packets, now());
    return orig.call(this, packets);
  };
}

module.exports = { hookServer, hookClient };
