// Node `ws` peers for the ws-node fixture.
// usage: node ws_node_peer.js server|client PORT LOG.jsonl
//
// Every frame a side sends is logged from inside ws's Sender (sendFrame, which every
// outgoing frame goes through, including the automatic pong and the close echo): the
// header is read back from the bytes, the payload unmasked, and each data message
// joined from its frames — what was on the wire, not what the script meant to send.
'use strict';
const { WebSocket, WebSocketServer } = require('ws');
const { Log, Inbox, now } = require('./jslog');
const steps = require('./ws_node_scenario');

const [side, portArg, logPath] = process.argv.slice(2);
const port = Number(portArg);
const log = new Log(logPath, side);
const OPCODES = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function hook(ws) {
  const state = { script: false, message: null };
  const sender = ws._sender;
  const orig = sender.sendFrame;
  sender.sendFrame = function (list, cb) {
    const b = Buffer.concat(list.map((x) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from(x))));
    const ts = now(); // before the write: the peer's answer must sort after this frame
    orig.call(this, list, cb);
    const fin = b[0] >> 7, rsv = (b[0] >> 4) & 7, opcode = b[0] & 15, masked = b[1] >> 7;
    let n = b[1] & 127, off = 2;
    if (n === 126) { n = b.readUInt16BE(2); off = 4; } else if (n === 127) { n = Number(b.readBigUInt64BE(2)); off = 10; }
    let data = Buffer.from(b.subarray(off + (masked ? 4 : 0), off + (masked ? 4 : 0) + n));
    if (masked) { const key = b.subarray(off, off + 4); data = data.map((x, i) => x ^ key[i % 4]); }
    if (opcode === 1 || opcode === 2) state.message = { opcode: OPCODES[opcode], rsv1: Boolean(rsv & 4), parts: [] };
    if (opcode <= 2) {
      const m = state.message;
      m.parts.push(data);
      if (fin) {
        const whole = Buffer.concat(m.parts);
        const rec = { opcode: m.opcode };
        if (m.opcode === 'text') rec.text = whole.toString('utf8'); else rec.data_hex = whole.toString('hex');
        Object.assign(rec, {
          message_len: whole.length, fragments: m.parts.length, fragment_lens: m.parts.map((p) => p.length),
          wire_payload_lens: m.parts.map((p) => p.length), compressed: m.rsv1,
        });
        log.write(rec, ts);
        state.message = null;
      }
    } else if (opcode === 9 || opcode === 10) {
      log.write({ opcode: OPCODES[opcode], data_hex: data.toString('hex'), auto: !state.script }, ts);
    } else if (opcode === 8) {
      log.write({ opcode: 'close', close_code: data.length >= 2 ? data.readUInt16BE(0) : null,
        close_reason: data.subarray(2).toString('utf8'), auto: !state.script }, ts);
    }
  };
  return state;
}

async function act(ws) {
  const state = hook(ws);
  const inbox = new Inbox();
  const pongs = new Inbox();
  const pings = new Inbox();
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
  ws.on('message', (data, isBinary) => inbox.push({ data, isBinary }));
  ws.on('pong', (data) => pongs.push(data));
  ws.on('ping', (data) => pings.push(data)); // ws answers with a pong by itself (autoPong)
  for (const [sender, kind, payload] of steps) {
    if (sender === side) {
      state.script = true;
      if (kind === 'text' || kind === 'binary') ws.send(payload, { binary: kind === 'binary' });
      else if (kind === 'ping') ws.ping(payload);
      else if (kind === 'close') ws.close(payload[0], payload[1]);
      state.script = false; // (ws frames synchronously: the frame is already logged)
      if (kind === 'ping') await pongs.next();
      if (kind === 'close') await closed;
    } else if (kind === 'text' || kind === 'binary') {
      const { data, isBinary } = await inbox.next();
      const got = isBinary ? data.toString('hex') : data.toString();
      const want = kind === 'binary' ? payload.toString('hex') : payload;
      if (got !== want || isBinary !== (kind === 'binary')) throw new Error(`${side}: expected ${want}, got ${got}`);
    } else if (kind === 'ping') {
      await pings.next();
    } else if (kind === 'close') {
      await closed;
    }
  }
}

if (side === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  wss.on('listening', () => console.log(`listening ${port}`));
  wss.on('connection', (ws) => {
    act(ws).then(() => wss.close(() => setTimeout(() => process.exit(0), 200)), (e) => { console.error(e); process.exit(1); });
  });
} else {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { perMessageDeflate: false });
  ws.on('open', () => act(ws).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); }));
  ws.on('error', (e) => { console.error(e.message); process.exit(1); });
}
