// The wirewalk report page. Every string from the capture is inserted with textContent
// or as an SVG text node, never as markup; attribute names are constants here.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("wirewalk-data").textContent);
  const packets = [];
  const byNumber = new Map();
  let end = data.end || null;
  let selected = null;
  let firstTime = null;
  const tbody = document.querySelector("#packets tbody");
  const search = document.getElementById("search");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function layerName(l) { return String(l.protocol || "?"); }
  function transportOf(p) {
    for (const l of p.layers || []) {
      if (l.protocol === "tcp" || l.protocol === "udp") return l.protocol;
    }
    return null;
  }
  function topOsi(p) {
    let osi = 0;
    for (const l of p.layers || []) osi = Math.max(osi, l.osi || 0);
    return Math.min(osi || 2, 7);
  }
  function appHeadlines(p) {
    return (p.layers || []).filter(l => l.osi === 7 && l.headline).map(l => l.headline);
  }
  function show(v) {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.map(x => (typeof x === "object" && x !== null) ? JSON.stringify(x) : String(x)).join(", ");
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  // Every string of a packet, lower-cased, for the search box.
  function searchText(p) {
    const parts = [p.info, "stream " + p.stream, "#" + p.number, p.ladder && p.ladder.label];
    (function walk(v) {
      if (v === null || v === undefined) return;
      if (typeof v === "object") { for (const k in v) { if (k !== "field_ranges") { parts.push(k); walk(v[k]); } } }
      else parts.push(String(v));
    })(p.layers);
    (p.analysis || []).forEach(t => parts.push(t));
    return parts.join(" ").toLowerCase();
  }

  // ---- the packet list
  function addPacket(p) {
    if (byNumber.has(p.number)) return;
    if (firstTime === null) firstTime = p.time;
    (p.layers || []).forEach((l, i) => {
      l.headline = (p.headlines || [])[i] || "";
      l.field_ranges = (p.field_ranges || [])[i] || {};
    });
    p._search = searchText(p);
    packets.push(p);
    byNumber.set(p.number, p);
    const tr = el("tr", "pkt osi-" + topOsi(p));
    tr.dataset.number = String(p.number);
    if (p.ladder && p.ladder.problem) tr.classList.add("problem");
    tr.appendChild(el("td", "n", p.number));
    tr.appendChild(el("td", "t", (p.time - firstTime).toFixed(6)));
    tr.appendChild(el("td", "s", p.stream === null || p.stream === undefined ? "" : p.stream));
    tr.appendChild(el("td", "len", p.wire_len));
    const apps = appHeadlines(p);
    const info = el("td", "info", p.info + (apps.length ? "  ·  " + apps.join(" · ") : ""));
    tr.appendChild(info);
    tr.addEventListener("click", () => select(p.number));
    p._row = tr;
    tbody.appendChild(tr);
    applyFilter(p);
  }
  function applyFilter(only) {
    const q = search.value.trim().toLowerCase();
    const words = q ? q.split(/\s+(?:and\s+)?/).filter(Boolean) : [];
    // "stream 3" is one term.
    const terms = [];
    for (let i = 0; i < words.length; i++) {
      if (words[i] === "stream" && i + 1 < words.length) { terms.push("stream " + words[i + 1]); i++; }
      else terms.push(words[i]);
    }
    const list = only ? [only] : packets;
    for (const p of list) {
      const hit = terms.every(t => p._search.includes(t));
      p._row.classList.toggle("hidden", !hit);
    }
    const shown = packets.filter(p => !p._row.classList.contains("hidden")).length;
    document.getElementById("count").textContent = terms.length ? shown + " of " + packets.length + " packets" : packets.length + " packets";
  }
  search.addEventListener("input", () => applyFilter());

  // ---- one packet: the layer tree and the bytes
  function byteLayers(p, n) {
    const osi = new Array(n).fill(0);
    for (const l of p.layers || []) {
      const [s, e] = l.range || [0, 0];
      for (let i = Math.max(0, s); i < Math.min(e, n); i++) osi[i] = l.osi;
    }
    return osi;
  }
  function highlight(range) {
    const hex = document.getElementById("hex");
    for (const b of hex.querySelectorAll(".hl")) b.classList.remove("hl");
    if (!range) return;
    const [s, e] = range;
    for (let i = s; i < e; i++) {
      for (const b of hex.querySelectorAll('[data-i="' + i + '"]')) b.classList.add("hl");
    }
  }
  function drawHex(p) {
    const box = document.getElementById("hex");
    box.textContent = "";
    const hex = p.hex || "";
    const n = hex.length / 2;
    const osi = byteLayers(p, n);
    for (let row = 0; row < n; row += 16) {
      const line = el("span", "row");
      line.appendChild(el("span", "off", row.toString(16).padStart(4, "0")));
      let ascii = "";
      const asciiSpans = [];
      for (let i = row; i < row + 16; i++) {
        if (i === row + 8) line.appendChild(el("span", "sep", " "));
        if (i < n) {
          const byte = parseInt(hex.substr(i * 2, 2), 16);
          const b = el("span", "b" + (osi[i] ? " osi-" + osi[i] : ""), hex.substr(i * 2, 2));
          b.dataset.i = String(i);
          line.appendChild(b);
          line.appendChild(document.createTextNode(" "));
          const a = el("span", "a" + (osi[i] ? " osi-" + osi[i] : ""), byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".");
          a.dataset.i = String(i);
          asciiSpans.push(a);
        } else {
          line.appendChild(el("span", "b", "   "));
        }
      }
      line.appendChild(el("span", "sep", " "));
      for (const a of asciiSpans) line.appendChild(a);
      box.appendChild(line);
    }
    if (p.hex_more) box.appendChild(el("span", "more", "… " + p.hex_more + " more bytes not shown"));
  }
  function fieldRows(table, layer, key, value, depth) {
    const tr = el("tr", "field");
    const k = el("td", "k", key);
    k.style.paddingLeft = (0.4 + depth * 1.2) + "em";
    tr.appendChild(k);
    const nested = value && typeof value === "object" && !Array.isArray(value);
    tr.appendChild(el("td", "v", nested ? "" : show(value)));
    const ranges = layer.field_ranges || {};
    const range = depth === 0 && ranges[key] ? ranges[key] : layer.range;
    tr.dataset.field = key;
    tr.addEventListener("mouseenter", () => { tr.classList.add("hot"); highlight(range); });
    tr.addEventListener("mouseleave", () => { tr.classList.remove("hot"); highlight(null); });
    table.appendChild(tr);
    if (nested) for (const k2 of Object.keys(value)) fieldRows(table, layer, k2, value[k2], depth + 1);
  }
  function noteP(n) { return el("p", "note " + (n.level === "warning" ? "warning" : "info"), n.text); }
  function drawTree(p) {
    const tree = document.getElementById("tree");
    tree.textContent = "";
    const dir = p.ladder ? (p.ladder.from_client ? "client → server" : "server → client") : "";
    document.getElementById("detail-title").textContent =
      "Packet " + p.number + " · " + p.wire_len + " bytes" + (p.stream !== null && p.stream !== undefined ? " · " + (transportOf(p) || "").toUpperCase() + " stream " + p.stream : "") + (dir ? " · " + dir : "");
    (p.layers || []).forEach((l, i) => {
      const d = el("details", "layer osi-" + Math.min(l.osi || 2, 7));
      d.open = true;
      d.dataset.layer = String(i);
      const s = el("summary");
      s.appendChild(el("span", "proto", "L" + l.osi + " " + layerName(l)));
      s.appendChild(el("span", "headline", l.headline || ""));
      if (l.from) s.appendChild(el("span", "hint", "  from the " + l.from));
      s.addEventListener("mouseenter", () => highlight(l.range));
      s.addEventListener("mouseleave", () => highlight(null));
      d.appendChild(s);
      const body = el("div", "body");
      if (l.explain) body.appendChild(el("p", "explain", l.explain));
      const table = el("table", "fields");
      const f = l.fields || {};
      for (const k of Object.keys(f)) fieldRows(table, l, k, f[k], 0);
      if (l.frames && l.frames.length > 1) fieldRows(table, l, "carried by frames", l.frames, 0);
      body.appendChild(table);
      for (const c of l.checks || []) body.appendChild(noteP(c));
      d.appendChild(body);
      tree.appendChild(d);
    });
    if ((p.analysis || []).length) tree.appendChild(el("p", "note info", "Analysis: " + p.analysis.join(", ")));
    if (p.state) tree.appendChild(el("p", "note info", "TCP state after this packet: client " + p.state.client + ", server " + p.state.server));
    for (const n of p.notes || []) tree.appendChild(noteP(n));
    drawHex(p);
  }
  function select(number) {
    const p = byNumber.get(number);
    if (!p) return;
    if (selected !== null && byNumber.has(selected)) byNumber.get(selected)._row.classList.remove("selected");
    for (const a of document.querySelectorAll(".arrow.selected")) a.classList.remove("selected");
    selected = number;
    p._row.classList.add("selected");
    for (const a of document.querySelectorAll('.arrow[data-number="' + number + '"]')) a.classList.add("selected");
    drawTree(p);
    if (history.replaceState) history.replaceState(null, "", "#" + number);
  }
  document.addEventListener("keydown", (e) => {
    if (e.target === search) return;
    if (!["ArrowDown", "ArrowUp", "j", "k"].includes(e.key)) return;
    const visible = packets.filter(p => !p._row.classList.contains("hidden"));
    if (!visible.length) return;
    let i = visible.findIndex(p => p.number === selected);
    i = (e.key === "ArrowDown" || e.key === "j") ? Math.min(visible.length - 1, i + 1) : Math.max(0, i - 1);
    select(visible[i].number);
    visible[i]._row.scrollIntoView({ block: "nearest" });
    e.preventDefault();
  });

  // ---- the ladders
  const MAX_ROWS = 400;
  const COLOURS = { 2: "#2f6fdf", 3: "#1f9d4a", 4: "#b88600", 5: "#0f9fb0", 6: "#c04fd0", 7: "#9b3fb5" };
  function drawLadders() {
    const box = document.getElementById("ladders");
    box.textContent = "";
    const convs = (end && end.conversations) || [];
    const groups = new Map();
    for (const p of packets) {
      const t = transportOf(p);
      if (t === null || p.stream === null || p.stream === undefined) continue;
      const key = t + ":" + p.stream;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(p);
    }
    if (!groups.size) { box.appendChild(el("p", "hint", "No TCP or UDP conversation in this capture.")); return; }
    for (const [key, list] of groups) {
      const [t, s] = key.split(":");
      const conv = convs.find(c => c.transport === t && String(c.stream) === s) || {};
      const wrap = el("div", "ladder");
      wrap.dataset.stream = key;
      const what = conv.application ? " · " + conv.application : "";
      wrap.appendChild(el("h3", null, t.toUpperCase() + " stream " + s + what + (conv.client ? " · client " + conv.client + " ↔ server " + conv.server : "")));
      const rows = list.slice(0, MAX_ROWS);
      const W = 900, X1 = 190, X2 = 710, TOP = 34, H = 26;
      const g = svg("svg", { viewBox: "0 0 " + W + " " + (TOP + rows.length * H + 10), role: "img" });
      g.appendChild(svg("title", {}, t.toUpperCase() + " stream " + s + ": " + rows.length + " packets"));
      g.appendChild(svg("text", { x: X1, y: 16, "text-anchor": "middle", class: "host" }, "client " + (conv.client || "")));
      g.appendChild(svg("text", { x: X2, y: 16, "text-anchor": "middle", class: "host" }, "server " + (conv.server || "")));
      const bottom = TOP + rows.length * H;
      g.appendChild(svg("line", { x1: X1, y1: 22, x2: X1, y2: bottom, stroke: "#888", "stroke-width": 2 }));
      g.appendChild(svg("line", { x1: X2, y1: 22, x2: X2, y2: bottom, stroke: "#888", "stroke-width": 2 }));
      rows.forEach((p, i) => {
        const y = TOP + i * H + 16;
        const lad = p.ladder || { from_client: true, label: p.info, osi: 4 };
        const colour = lad.problem ? "#c62828" : (COLOURS[lad.osi] || "#555");
        const a = svg("g", { class: "arrow" });
        a.setAttribute("data-number", String(p.number));
        const [xa, xb] = lad.from_client ? [X1, X2] : [X2, X1];
        const head = lad.from_client ? -9 : 9;
        a.appendChild(svg("line", { x1: xa, y1: y, x2: xb, y2: y, stroke: colour, "stroke-width": 2 }));
        a.appendChild(svg("polygon", { points: xb + "," + y + " " + (xb + head) + "," + (y - 5) + " " + (xb + head) + "," + (y + 5), fill: colour }));
        let label = String(lad.label || "");
        if (label.length > 64) label = label.slice(0, 63) + "…";
        a.appendChild(svg("text", { x: (X1 + X2) / 2, y: y - 4, "text-anchor": "middle", class: "label", fill: colour }, label));
        a.appendChild(svg("text", { x: 4, y: y + 4, class: "num" }, p.number));
        if (p.state) {
          a.appendChild(svg("text", { x: X1 - 10, y: y + 4, "text-anchor": "end", class: "state" }, p.state.client));
          a.appendChild(svg("text", { x: X2 + 10, y: y + 4, class: "state" }, p.state.server));
        }
        // A wide invisible band, so the arrow is easy to click.
        a.appendChild(svg("rect", { x: 0, y: y - 13, width: W, height: H, fill: "transparent" }));
        a.addEventListener("click", () => { select(p.number); p._row.scrollIntoView({ block: "nearest" }); });
        g.appendChild(a);
      });
      wrap.appendChild(g);
      if (list.length > rows.length) wrap.appendChild(el("p", "hint", "… and " + (list.length - rows.length) + " more packets in this conversation: search \"stream " + s + "\" in the list."));
      box.appendChild(wrap);
    }
  }

  // ---- Socket.IO sessions and Engine.IO packets
  function drawSessions() {
    const box = document.getElementById("sessions");
    box.textContent = "";
    for (const line of (end && end.sessions) || []) box.appendChild(el("p", "session-line", line));
    const table = el("table", "sio");
    const head = el("tr");
    ["Packet", "Stream", "Direction", "Layer", "Type", "What"].forEach(h => head.appendChild(el("th", null, h)));
    table.appendChild(head);
    let n = 0;
    for (const p of packets) {
      for (const l of p.layers || []) {
        if (l.protocol !== "socketio" && l.protocol !== "engineio") continue;
        const f = l.fields || {};
        const tr = el("tr");
        tr.appendChild(el("td", null, p.number));
        tr.appendChild(el("td", null, p.stream));
        tr.appendChild(el("td", "dir", l.from === "client" ? "client → server" : "server → client"));
        tr.appendChild(el("td", null, l.protocol === "socketio" ? "Socket.IO" : "Engine.IO" + (f.transport ? " (" + f.transport + ")" : "")));
        tr.appendChild(el("td", null, f.packet_type));
        const what = l.protocol === "socketio"
          ? [f.namespace, f.event, f.args !== undefined ? show(f.args) : null, f.ack_id !== undefined && f.ack_id !== null ? "ack " + f.ack_id : null].filter(Boolean).join(" · ")
          : (f.data !== undefined ? show(f.data) : "");
        tr.appendChild(el("td", null, what));
        tr.addEventListener("click", () => select(p.number));
        table.appendChild(tr);
        n++;
      }
    }
    if (n) box.appendChild(table);
    else if (!box.childNodes.length) box.appendChild(el("p", "hint", "No Socket.IO or Engine.IO traffic in this capture."));
    document.querySelector("section.sessions").classList.toggle("hidden", n === 0 && !box.querySelector(".session-line") && !data.live);
  }

  function drawEnd() {
    const s = end && end.summary;
    const totals = document.getElementById("totals");
    if (s) {
      const c = s.conversations || {};
      let t = s.packets + " packets, " + s.bytes + " bytes, " + Number(s.duration || 0).toFixed(3) + " s; " + (c.tcp || 0) + " TCP and " + (c.udp || 0) + " UDP conversations";
      const probs = Object.keys(s.analysis || {});
      if (probs.length) t += "; " + probs.map(k => s.analysis[k] + " " + k).join(", ");
      totals.textContent = t;
    } else {
      totals.textContent = packets.length + " packets";
    }
    const w = document.getElementById("warnings");
    w.textContent = "";
    const list = (s && s.warnings) || [];
    for (const x of list) w.appendChild(el("li", null, (x.packet ? "packet " + x.packet + ": " : "") + x.text));
    if (s && s.warnings_omitted) w.appendChild(el("li", null, s.warnings_omitted + " more warnings not listed"));
    if (end && end.omitted) w.appendChild(el("li", null, "This page holds the first " + packets.length + " packets; " + end.omitted + " more were counted but left out. Use wirewalk inspect with -f or --stream to look at them."));
    document.querySelector("section.warnings").classList.toggle("hidden", !w.childNodes.length);
    drawLadders();
    drawSessions();
  }

  const title = String(data.title || "capture");
  document.getElementById("title").textContent = title;
  document.getElementById("footer-title").textContent = title;
  document.title = "wirewalk · " + title;
  for (const p of data.packets || []) addPacket(p);
  drawEnd();
  const fromHash = parseInt(location.hash.slice(1), 10);
  if (packets.length) select(byNumber.has(fromHash) ? fromHash : packets[0].number);

  // ---- live: `wirewalk serve` sends each new packet, then the conversations and summary
  if (data.live) {
    const banner = document.getElementById("banner");
    let redraw = null;
    let delay = 500;
    const connect = () => {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + data.live);
      ws.onopen = () => { banner.hidden = true; delay = 500; };
      ws.onmessage = (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === "packet") {
          addPacket(m);
          if (selected === null) select(m.number);
        } else if (m.type === "end") {
          end = m;
        }
        if (redraw === null) redraw = setTimeout(() => { redraw = null; drawEnd(); }, 200);
      };
      ws.onclose = () => {
        banner.textContent = "Disconnected from wirewalk serve — reconnecting…";
        banner.hidden = false;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
    };
    connect();
  }
  window.wirewalk = { packets: packets, select: select };
})();
