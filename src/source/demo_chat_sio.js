  // The Socket.IO chat (`demo socketio --serve`): the real socket.io-client, served by
  // this server at /socket.io.min.js. It starts with HTTP long-polling and upgrades to a
  // WebSocket by itself, and reconnects by itself: this shows what it is doing.
  function startChat(nick, ui) {
    if (typeof io !== "function") {
      ui.down("The Socket.IO client (/socket.io.min.js) did not load from the classroom server: reload the page.");
      return { send() { return false; } };
    }
    const transport = document.getElementById("transport");
    function showTransport(name) {
      transport.dataset.name = name;
      transport.textContent = name === "websocket" ? "WebSocket (upgraded from long-polling)" : name === "polling" ? "HTTP long-polling (upgrading to WebSocket…)" : name;
    }
    const socket = io("/chat", { auth: { nick: nick }, reconnectionDelay: 300, reconnectionDelayMax: 3000 });
    socket.on("connect", () => {
      ui.up();
      const engine = socket.io.engine;
      showTransport(engine.transport.name);
      engine.once("upgrade", (t) => showTransport(t.name));
    });
    for (const t of ["hello", "msg", "notice"]) socket.on(t, (m) => ui.line(m));
    socket.on("disconnect", (reason) => {
      showTransport("disconnected");
      ui.down("Disconnected from the classroom server (" + reason + ") — the Socket.IO client is reconnecting by itself… You cannot send until it is back.");
      // The client retries by itself unless the server itself disconnected it.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
    });
    socket.on("connect_error", (e) => {
      ui.down("Cannot reach the classroom server (" + e.message + ") — the Socket.IO client keeps trying… You cannot send until it is back.");
    });
    socket.io.on("reconnect_attempt", (n) => {
      ui.down("Disconnected from the classroom server — the Socket.IO client is reconnecting by itself (attempt " + n + ")… You cannot send until it is back.");
    });
    return {
      send(text) {
        if (!socket.connected) return false;
        // The callback makes it an emit with an acknowledgement id: the server's ACK
        // (3) with the same id calls it back.
        socket.emit("chat", { text: text }, (ack) => {
          if (ack && ack.refused !== undefined) ui.line({ t: "refused", n: ack.refused, text: text, why: ack.why });
          else if (ack) ui.acked(ack.n);
        });
        return true;
      },
    };
  }
