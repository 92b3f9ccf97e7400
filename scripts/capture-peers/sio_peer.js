// Socket.IO 4.x peers for the socketio-* fixtures.
// usage: node sio_peer.js server|client polling-upgrade|websocket-only PORT LOG.jsonl
//   polling-upgrade: default transports (HTTP long-polling first, then upgrade to WebSocket)
//   websocket-only:  transports: ['websocket'], plus the custom namespace /chat
'use strict';
const { Log, Inbox } = require('./jslog');
const { hookServer, hookClient } = require('./eio_hooks');

const [side, mode, portArg, logPath] = process.argv.slice(2);
const port = Number(portArg);
const log = new Log(logPath, side);
const fail = (e) => { console.error(`${side}:`, e); process.exit(1); };
const UPLOAD = Buffer.from('binary attachment: \x00\x01\x02\x03 raw bytes', 'latin1');
const FILE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // a PNG signature

function server() {
  hookServer(log);
  const { Server } = require('socket.io');
  const io = new Server(port, { serveClient: false });
  let open = 0;
  const gone = () => {
    if (--open === 0) io.close(() => setTimeout(() => process.exit(0), 300));
  };

  io.on('connection', (socket) => {
    open++;
    log.write({ kind: 'meta', engineio_sid: socket.conn.id, socketio_sid: socket.id, namespace: '/' });
    // a push the client never asked for: sent as soon as the client connects
    socket.emit('welcome', 'hello from the Socket.IO server');
    socket.on('chat message', (msg) => io.emit('chat message', msg)); // broadcast to everyone
    socket.on('join', (room, ack) => {
      socket.join(room);
      ack(`joined ${room}`);
      io.to(room).emit('room news', `a new member in ${room}`);
    });
    socket.on('add', (a, b, ack) => ack(a + b));
    socket.on('upload', (name, data, ack) => {
      ack({ name, bytes: data.length });
      socket.emit('file', 'signature.png', FILE);
      // the server asks, and the client acknowledges
      socket.emit('question', 'ready to leave?', (answer) => log.write({ kind: 'note', text: `client answered ${answer}` }));
    });
    socket.on('disconnect', gone);
  });

  io.of('/chat').on('connection', (socket) => {
    open++;
    socket.on('say', (text, ack) => {
      ack('ok');
      socket.broadcast.emit('said', text); // nobody else is here: sends nothing
      socket.emit('said', `you said: ${text}`);
    });
    socket.on('upload', (name, data, ack) => ack({ name, bytes: data.length }));
    socket.on('disconnect', gone);
  });
  io.httpServer.on('listening', () => console.log(`listening ${port}`));
}

async function client() {
  hookClient(log);
  const { Manager } = require('socket.io-client');
  const opts = mode === 'websocket-only' ? { transports: ['websocket'] } : {};
  const manager = new Manager(`http://127.0.0.1:${port}`, opts);
  const socket = manager.socket('/');
  const inbox = {};
  const on = (s, ev) => { inbox[ev] = new Inbox(); s.on(ev, (...args) => inbox[ev].push(args)); };
  for (const ev of ['welcome', 'chat message', 'room news', 'file', 'question']) on(socket, ev);
  await new Promise((resolve) => socket.on('connect', resolve));
  log.write({ kind: 'meta', engineio_sid: manager.engine.id });
  if (mode !== 'websocket-only' && manager.engine.transport.name !== 'websocket') {
    // let the upgrade finish before the conversation, so that the order on the wire is fixed
    await new Promise((resolve) => manager.engine.once('upgrade', resolve));
  }
  await inbox.welcome.next();

  socket.emit('chat message', 'hi everyone');               // event, no ack
  await inbox['chat message'].next();                        // the broadcast comes back
  if (mode !== 'websocket-only') {
    await socket.emitWithAck('join', 'room-42');             // event with ack
    await inbox['room news'].next();                         // io.to('room-42').emit
  }
  const sum = await socket.emitWithAck('add', 2, 3);
  if (sum !== 5) throw new Error(`2 + 3 = ${sum}?`);
  await socket.emitWithAck('upload', 'hello.bin', UPLOAD);  // binary attachment, with ack
  await inbox.file.next();                                   // binary from the server
  const [q, answer] = await inbox.question.next();
  answer('yes');                                             // the client acknowledges the server

  if (mode === 'websocket-only') {
    const chat = manager.socket('/chat');                    // a second namespace, same connection
    on(chat, 'said');
    await new Promise((resolve) => chat.on('connect', resolve));
    await chat.emitWithAck('say', 'hello, /chat');
    await inbox.said.next();
    await chat.emitWithAck('upload', 'chat.bin', Buffer.from([1, 2, 3, 4, 5]));
    chat.disconnect();
  }
  await new Promise((r) => setTimeout(r, 100));
  socket.disconnect();
  setTimeout(() => process.exit(0), 500);
}

if (side === 'server') server();
else client().catch(fail);
