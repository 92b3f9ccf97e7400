  // The WebSocket chat (`demo websocket --serve`): one connection to /ws, the server's
  // JSON lines on it, and a reconnection of our own when it closes.
  function startChat(nick, ui) {
    let ws = null, delay = 300;
    function connect() {
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws?nick=" + encodeURIComponent(nick));
      ws.onopen = () => { delay = 300; ui.up(); };
      ws.onmessage = (ev) => {
        let m; try { m = JSON.parse(ev.data); } catch (e) { return; }
        ui.line(m);
      };
      ws.onclose = (ev) => {
        ui.down("Disconnected from the classroom server" + (ev.reason ? " (" + ev.reason + ")" : "") + " — reconnecting… You cannot send until it is back.");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 3000);
      };
    }
    connect();
    return {
      send(t) {
        if (!ws || ws.readyState !== WebSocket.OPEN) return false;
        ws.send(t);
        return true;
      },
    };
  }
