// Socket.IO 4.x over TLS 1.3 (wss://) for the tls13-node-socketio fixture: Node's
// https server with the secrets taken from its 'keylog' event, socket.io-client with
// transports: ['websocket'] connecting to https://wirewalk.test (resolved to 127.0.0.1
// here, so the ClientHello carries that SNI).
// usage: node tls_sio_peer.js server PORT CERT KEY KEYS LOG
//        node tls_sio_peer.js client PORT LOG
// LOG gets tls.sh's entries: {"t", "kind": "tls"|"sio", "side", ...}.
'use strict';
const fs = require('fs');

const [side, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const fail = (e) => { console.error(`${side}:`, e); process.exit(1); };
const log = (path, entry) => fs.appendFileSync(path, JSON.stringify({ t: Date.now() / 1000, ...entry }) + '\n');

function server(cert, key, keys, logPath) {
  const https = require('https');
  const { Server } = require('socket.io');
  const srv = https.createServer({
    cert: fs.readFileSync(cert),
    key: fs.readFileSync(key),
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['http/1.1'],
  });
  // The secrets of every connection, in the NSS key log format (SSLKEYLOGFILE).
  srv.on('keylog', (line) => fs.appendFileSync(keys, line));
  srv.on('secureConnection', (s) => {
    log(logPath, {
      kind: 'tls', side: 'server', version: s.getProtocol(), cipher: s.getCipher().name,
      cipher_iana: s.getCipher().standardName, alpn: s.alpnProtocol || null, sni: s.servername || null,
    });
  });
  const io = new Server(srv, { serveClient: false, transports: ['websocket'] });
  const sent = (event, ...args) => log(logPath, { kind: 'sio', side: 'server', event, args });
  io.on('connection', (socket) => {
    socket.emit('welcome', 'hello over wss');
    sent('welcome', 'hello over wss');
    socket.on('chat message', (msg) => {
      socket.emit('chat message', `echo: ${msg}`);
      sent('chat message', `echo: ${msg}`);
    });
    socket.on('disconnect', () => io.close(() => setTimeout(() => process.exit(0), 300)));
  });
  srv.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
}

async function client(logPath) {
  // wirewalk.test is this machine: the name the certificate and the SNI carry.
  const dns = require('dns');
  const lookup = dns.lookup;
  dns.lookup = (host, opts, cb) => {
    if (typeof opts === 'function') { cb = opts; opts = {}; }
    if (host !== 'wirewalk.test') return lookup(host, opts, cb);
    return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  };
  const { io } = require('socket.io-client');
  const socket = io(`https://wirewalk.test:${port}`, {
    transports: ['websocket'],
    rejectUnauthorized: false, // the certificate is self-signed, made for this run
  });
  const next = (ev) => new Promise((resolve) => socket.once(ev, resolve));
  await next('connect');
  await next('welcome');
  socket.emit('chat message', 'hi over wss');
  log(logPath, { kind: 'sio', side: 'client', event: 'chat message', args: ['hi over wss'] });
  await next('chat message');
  await new Promise((r) => setTimeout(r, 100));
  socket.disconnect();
  setTimeout(() => process.exit(0), 500);
}

if (side === 'server') server(...rest);
else client(...rest).catch(fail);
