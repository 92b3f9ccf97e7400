"""Real TLS peers on loopback for wirewalk's TLS fixtures (run by tls.sh).

  tls_peer.py https-server PORT CERT KEY LOG [tls12]   Python ssl + http.server, one request
  tls_peer.py https-client PORT KEYLOG LOG             Python ssl + http.client, TLS 1.3
  tls_peer.py wss-server PORT CERT KEY LOG             websockets over TLS 1.3, one connection
  tls_peer.py wss-client PORT KEYLOG LOG               websockets client, writes the key log

Each side appends JSON lines to LOG as it sends (what the tests compare against): the
TLS parameters it saw (SNI, version, suite, ALPN) and every HTTP request/response or
WebSocket message.
"""

import asyncio
import http.client
import http.server
import json
import socket
import ssl
import sys
import time

SNI = "wirewalk.test"
# The OpenSSL names the peers report, with their IANA names (the names in the record).
IANA = {
    "TLS_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}


def log(path, **entry):
    entry["t"] = time.time()
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def tls_facts(path, who, sock, sni=None):
    name, version, _bits = sock.cipher()
    log(path, kind="tls", side=who, version=version, cipher=name,
        cipher_iana=IANA.get(name, name), alpn=sock.selected_alpn_protocol(), sni=sni)


def server_context(cert, key, tls12=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def client_context(keylog):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.keylog_filename = keylog
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def https_server(port, cert, key, path, tls12):
    ctx = server_context(cert, key, tls12)
    seen = {}

    def sni_cb(sock, name, _ctx):
        seen["sni"] = name

    ctx.sni_callback = sni_cb

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            tls_facts(path, "server", self.connection, seen.get("sni"))
            body = b"hello from the Python https server\n"
            log(path, kind="http", side="client", method="GET", uri=self.path)
            log(path, kind="http", side="server", status=200, body=body.decode())
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening", flush=True)
    srv.handle_request()
    srv.server_close()


class NamedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address, names the host wirewalk.test in the SNI."""

    def connect(self):
        sock = socket.create_connection((self.host, self.port))
        self.sock = self._context.wrap_socket(sock, server_hostname=SNI)


def https_client(port, keylog, path):
    conn = NamedHTTPSConnection("127.0.0.1", port, context=client_context(keylog))
    conn.request("GET", "/hello?lang=en", headers={"Host": SNI})
    resp = conn.getresponse()
    body = resp.read()
    print("client got", resp.status, body)
    conn.close()


async def wss_server_main(port, cert, key, path):
    import websockets

    ctx = server_context(cert, key)
    done = asyncio.get_running_loop().create_future()

    async def handler(ws):
        tls_facts(path, "server", ws.transport.get_extra_info("ssl_object"),
                  ws.transport.get_extra_info("ssl_object").server_hostname)
        await ws.send("server push before any request")
        log(path, kind="ws", side="server", text="server push before any request")
        msg = await ws.recv()
        reply = "echo: " + msg
        await ws.send(reply)
        log(path, kind="ws", side="server", text=reply)
        data = await ws.recv()
        await ws.send(bytes(reversed(data)))
        log(path, kind="ws", side="server", data_hex=bytes(reversed(data)).hex())
        await ws.close(1000, "bye")
        done.set_result(None)

    async with websockets.serve(handler, "127.0.0.1", port, ssl=ctx, compression=None):
        print("listening", flush=True)
        await done
        await asyncio.sleep(0.3)


async def wss_client_main(port, keylog, path):
    import websockets

    ctx = client_context(keylog)
    async with websockets.connect(f"wss://127.0.0.1:{port}/chat", ssl=ctx,
                                  server_hostname=SNI, compression=None) as ws:
        await ws.recv()
        await ws.send("hello over wss")
        log(path, kind="ws", side="client", text="hello over wss")
        await ws.recv()
        data = bytes(range(16))
        await ws.send(data)
        log(path, kind="ws", side="client", data_hex=data.hex())
        await ws.recv()
        try:
            await ws.recv()
        except websockets.ConnectionClosed:
            pass


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "https-server":
        https_server(port, sys.argv[3], sys.argv[4], sys.argv[5], len(sys.argv) > 6)
    elif mode == "https-client":
        https_client(port, sys.argv[3], sys.argv[4])
    elif mode == "wss-server":
        asyncio.run(wss_server_main(port, sys.argv[3], sys.argv[4], sys.argv[5]))
    elif mode == "wss-client":
        asyncio.run(wss_client_main(port, sys.argv[3], sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
