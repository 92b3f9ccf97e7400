// The conversation ws-server.js and ws-client.js act out (Node `ws`, no compression).
// [sender, kind, payload]; kinds: text, binary, ping, close ([code, reason]).
'use strict';
module.exports = [
  ['server', 'text', 'welcome from a Node ws server: pushed before any client message'],
  ['client', 'text', 'hello from the Node ws client'],
  ['server', 'text', 'echo: hello from the Node ws client'],
  ['client', 'binary', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03])],
  ['server', 'binary', Buffer.from([0x03, 0x02, 0x01, 0x00, 0xef, 0xbe, 0xad, 0xde])],
  ['client', 'ping', Buffer.from('still there?')],
  ['server', 'text', 'yes, and here is another push'],
  ['client', 'close', [1000, 'done, thanks']],
];
