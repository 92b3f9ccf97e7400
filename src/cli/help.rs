//! The examples and the exit codes at the end of each command's `--help` (and of the man
//! page, which clap_mangen makes from the same text).

pub const MAIN: &str = "\
Examples:
  wirewalk                                  the guided tour, on a simulated WebSocket session
  wirewalk inspect capture.pcapng           every packet, layer by layer
  wirewalk inspect -r capture.pcap -nn --summary -f 'tcp port 8080'
  tcpdump -U --immediate-mode -w - -i lo port 8080 | wirewalk inspect -r - --summary
  wirewalk explain osi                      a concept in plain words

Exit status:
  0  success
  1  a damaged or truncated input, read and shown up to the damage; or a failure while running
  2  a usage error (a bad option, filter, --packet or --stream out of range) or no capture privilege

Colour: --color, or NO_COLOR, CLICOLOR=0, CLICOLOR_FORCE=1, TERM=dumb (auto: only on a terminal).";

pub const INSPECT: &str = "\
Examples:
  wirewalk inspect capture.pcapng                        the layer tree of every packet
  wirewalk inspect -r capture.pcap --summary             one line a packet (tcpdump -r)
  wirewalk inspect capture.pcap -f websocket             only WebSocket frames (tshark -Y websocket)
  wirewalk inspect capture.pcap -Y 'socketio.event == \"chat message\"'
  wirewalk inspect capture.pcap -f 'tcp.flags.syn == 1 and not tcp.flags.ack == 1'
  wirewalk inspect capture.pcap -f 'src host 10.0.0.1 and dst portrange 8000-8100'
  wirewalk inspect capture.pcap --packet 4               packet 4 (the whole file is still analysed)
  wirewalk inspect capture.pcap --stream 0 --diagram     the ladder of conversation 0
  wirewalk inspect capture.pcap -T json | jq .           JSON Lines (docs/json.md)
  wirewalk inspect capture.pcap -f http -w http.pcap     write the packets shown
  tcpdump -U --immediate-mode -w - -i lo | wirewalk inspect -r - --summary   live

Filters: protocol names (eth ip ip6 tcp udp dns http websocket engineio socketio…),
tcpdump primitives (host, src/dst host, net, port, src/dst port, portrange), Wireshark
fields (tcp.flags.syn == 1, http.request.method == \"GET\", websocket.opcode == 1,
websocket.text contains \"hi\"), analysis tags (rst, retransmission…), and/or/not, ( ).

Exit status: 0 success; 1 a damaged or truncated capture (read up to the damage);
2 a usage error (bad option or filter, --packet/--stream that does not exist).";

pub const SIMULATE: &str = "\
Examples:
  wirewalk simulate --list                    the scenarios
  wirewalk simulate websocket                 the handshake, the Upgrade, frames, teardown
  wirewalk simulate lossy --summary           a lost segment and its retransmission
  wirewalk simulate socketio -w sio.pcapng    write it for Wireshark
  wirewalk simulate handshake -w - | tshark -r -";

pub const TOUR: &str = "\
Examples:
  wirewalk tour                      the simulated WebSocket session (Enter, b, q)
  wirewalk tour --list               the scenarios the tour can walk through
  wirewalk tour lossy                a lost segment instead
  wirewalk tour --pcap capture.pcap  your own capture
  wirewalk tour --live               real traffic on loopback (needs the capture privilege)";

pub const CAPTURE: &str = "\
Examples:
  wirewalk capture                   loopback, every packet explained as it arrives
  wirewalk capture -i eth0 -p 443 --summary
  wirewalk capture -c 20 -w first20.pcapng
  wirewalk capture -w - | tshark -r -

Capturing needs CAP_NET_RAW: `sudo setcap cap_net_raw+ep \"$(command -v wirewalk)\"` once, or
sudo. Ctrl-C ends the capture cleanly (the summary is shown, the -w file is complete).";

pub const DEMO: &str = "\
Examples:
  wirewalk demo websocket                 a real server and client on loopback
  wirewalk demo socketio --summary        Socket.IO: polling, the upgrade, events
  wirewalk demo websocket -w demo.pcap    keep the capture
  wirewalk demo websocket --serve 0.0.0.0:8080   a chat server for a class
  wirewalk demo socketio --serve 0.0.0.0:8080    the same with Socket.IO (socket.io-client)

The demo captures on loopback, which needs CAP_NET_RAW: `sudo setcap cap_net_raw+ep
\"$(command -v wirewalk)\"` once, or sudo. Without it: `wirewalk simulate websocket`.";

pub const EXPLAIN: &str = "\
Examples:
  wirewalk explain            the list of topics
  wirewalk explain osi        the seven layers
  wirewalk explain upgrade    HTTP's Upgrade to WebSocket";

pub const LESSON: &str = "\
Examples:
  wirewalk lesson list                the lessons and your progress
  wirewalk lesson start handshake     Enter, b(ack), h(int), q(uit and keep progress)
  wirewalk lesson check               check every lesson's answers against its packets";

pub const COMPLETIONS: &str = "\
Examples:
  wirewalk completions bash > ~/.local/share/bash-completion/completions/wirewalk
  wirewalk completions zsh > \"${fpath[1]}/_wirewalk\"
  wirewalk completions fish > ~/.config/fish/completions/wirewalk.fish";

pub const MAN: &str = "\
Examples:
  wirewalk man | man -l -                  read it now
  wirewalk man --dir /usr/local/share/man/man1   wirewalk.1 and one page per command";
