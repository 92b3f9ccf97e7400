//! Socket.IO (protocol v5, and v4 where they agree): the packets inside Engine.IO
//! `message` packets, and [`SessionTracker`], which follows one Engine.IO session across
//! the TCP connections that carry it (the polling requests and the WebSocket).
//!
//! A packet is written `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`:
//! `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR, `5` BINARY_EVENT,
//! `6` BINARY_ACK. `2["chat message","hi"]` is what `socket.emit('chat message', 'hi')`
//! sends; `21["add",2,3]` asks for an answer with id 1, and `31[5]` is that answer.
//! Binary arguments travel as separate binary messages after the packet, which holds a
//! placeholder `{"_placeholder":true,"num":N}` for each.

use std::collections::{BTreeMap, HashMap};

use serde::ser::Serializer;
use serde::Serialize;
use serde_json::Value;

use super::app::{AppEvent, AppMessage, Check, Dir, Level};
use super::engineio::{EioTransport, EioType};
use crate::frame::Timestamp;

/// A Socket.IO packet type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SioType {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl SioType {
    pub const ALL: [SioType; 7] = [
        SioType::Connect,
        SioType::Disconnect,
        SioType::Event,
        SioType::Ack,
        SioType::ConnectError,
        SioType::BinaryEvent,
        SioType::BinaryAck,
    ];

    pub fn from_code(code: u8) -> Option<SioType> {
        SioType::ALL.get(code as usize).copied()
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    /// `CONNECT`, `EVENT`, … as in SPEC.md.
    pub fn name(self) -> &'static str {
        match self {
            SioType::Connect => "CONNECT",
            SioType::Disconnect => "DISCONNECT",
            SioType::Event => "EVENT",
            SioType::Ack => "ACK",
            SioType::ConnectError => "CONNECT_ERROR",
            SioType::BinaryEvent => "BINARY_EVENT",
            SioType::BinaryAck => "BINARY_ACK",
        }
    }

    /// EVENT or BINARY_EVENT.
    pub fn is_event(self) -> bool {
        matches!(self, SioType::Event | SioType::BinaryEvent)
    }

    /// ACK or BINARY_ACK.
    pub fn is_ack(self) -> bool {
        matches!(self, SioType::Ack | SioType::BinaryAck)
    }
}

/// One Socket.IO packet (the `socketio` layer of SPEC.md). `event`, `args` and `ack_id`
/// are serialized as null when absent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SioPacket {
    pub packet_type: SioType,
    /// `/` unless the packet names another namespace.
    pub namespace: String,
    /// The event name: the first element of an EVENT's array.
    pub event: Option<String>,
    /// The arguments: an EVENT's array after the event name, an ACK's array.
    pub args: Option<Value>,
    /// The acknowledgement id: on an EVENT, the sender wants an answer; on an ACK, the
    /// EVENT it answers.
    pub ack_id: Option<u64>,
    /// How many binary attachments follow (BINARY_EVENT, BINARY_ACK), else 0.
    pub attachments: u32,
    /// The payload of a CONNECT (the client's auth, or the server's `{"sid":…}`) or a
    /// CONNECT_ERROR (`{"message":…}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Rules broken by this packet (reported as checks on its event).
    #[serde(skip)]
    pub problems: Vec<Check>,
}

/// Why a string is not a Socket.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SioError {
    /// Empty, or the first character is not a type 0–6.
    UnknownType(String),
    /// The header (attachments, namespace, ack id) does not follow the grammar.
    Malformed,
    /// The payload is not JSON.
    BadJson,
    /// The payload nests deeper than `MAX_JSON_DEPTH`.
    TooDeep,
}

impl SioError {
    pub fn check(&self) -> Check {
        match self {
            SioError::UnknownType(found) => Check::SioUnknownType {
                found: found.clone(),
            },
            SioError::Malformed => Check::SioMalformed,
            SioError::BadJson => Check::SioBadJson,
            SioError::TooDeep => Check::SioJsonTooDeep {
                limit: super::app::MAX_JSON_DEPTH,
            },
        }
    }
}

/// Decodes one Socket.IO packet from the text of an Engine.IO message.
pub fn parse(s: &str) -> Result<SioPacket, SioError> {
    let Some(first) = s.chars().next() else {
        return Err(SioError::UnknownType("nothing".into()));
    };
    let packet_type = first
        .to_digit(10)
        .and_then(|d| SioType::from_code(d as u8))
        .ok_or_else(|| SioError::UnknownType(first.to_string()))?;
    let mut rest = &s[first.len_utf8()..];
    let mut attachments = 0u32;
    if matches!(packet_type, SioType::BinaryEvent | SioType::BinaryAck) {
        let dash = rest.find('-').ok_or(SioError::Malformed)?;
        attachments = rest[..dash].parse().map_err(|_| SioError::Malformed)?;
        rest = &rest[dash + 1..];
    }
    let mut namespace = "/".to_string();
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = rest[..end].to_string();
        rest = &rest[(end + 1).min(rest.len())..];
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits > 0 {
        Some(
            rest[..digits]
                .parse::<u64>()
                .map_err(|_| SioError::Malformed)?,
        )
    } else {
        None
    };
    rest = &rest[digits..];
    let payload: Option<Value> = if rest.is_empty() {
        None
    } else if super::app::json_depth(rest) > super::app::MAX_JSON_DEPTH {
        return Err(SioError::TooDeep);
    } else {
        Some(serde_json::from_str(rest).map_err(|_| SioError::BadJson)?)
    };

    let mut p = SioPacket {
        packet_type,
        namespace,
        event: None,
        args: None,
        ack_id,
        attachments,
        data: None,
        problems: Vec::new(),
    };
    let bad = Check::SioBadPayload {
        packet_type: packet_type.name(),
    };
    match packet_type {
        SioType::Connect | SioType::ConnectError => {
            let ok = match (&payload, packet_type) {
                (None, SioType::Connect) => true,
                (Some(Value::Object(_)), _) => true,
                // v4 (Socket.IO 2.x) sent the error as a string.
                (Some(Value::String(_)), SioType::ConnectError) => true,
                _ => false,
            };
            if !ok || ack_id.is_some() {
                p.problems.push(bad);
            }
            p.data = payload;
        }
        SioType::Disconnect => {
            if payload.is_some() || ack_id.is_some() {
                p.problems.push(bad);
            }
        }
        SioType::Event | SioType::BinaryEvent => match payload {
            Some(Value::Array(mut a)) if a.first().is_some_and(Value::is_string) => {
                let name = a.remove(0);
                p.event = name.as_str().map(str::to_string);
                p.args = Some(Value::Array(a));
            }
            other => {
                p.problems.push(bad);
                p.args = other;
            }
        },
        SioType::Ack | SioType::BinaryAck => {
            if !matches!(payload, Some(Value::Array(_))) {
                p.problems.push(bad);
            }
            if ack_id.is_none() {
                p.problems.push(Check::SioAckWithoutId);
            }
            p.args = payload;
        }
    }
    let placeholders = p.args.as_ref().map_or(0, count_placeholders);
    if placeholders != attachments as usize {
        p.problems.push(Check::SioPlaceholderMismatch {
            attachments,
            placeholders: placeholders as u32,
        });
    }
    Ok(p)
}

/// How many `{"_placeholder":true,"num":N}` objects a value holds.
pub fn count_placeholders(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(count_placeholders).sum(),
        Value::Object(o) => {
            if o.get("_placeholder") == Some(&Value::Bool(true))
                && o.get("num").is_some_and(Value::is_u64)
            {
                1
            } else {
                o.values().map(count_placeholders).sum()
            }
        }
        _ => 0,
    }
}

impl SioPacket {
    /// The checks for this packet's event.
    pub fn checks(&self) -> Vec<Check> {
        self.problems.clone()
    }

    /// The key of this packet's wording in `socketio.toml`, table `[socketio]`:
    /// `CONNECT_client`, `CONNECT_server`, `DISCONNECT`, `EVENT`, `EVENT_ack`, `ACK`,
    /// `CONNECT_ERROR`, `BINARY_EVENT`, `BINARY_ACK`.
    ///
    /// An event from the client is the client's `socket.emit` (it has no other way to send
    /// one); an event from the server (`*_server`) may come from `socket.emit`, `io.emit`,
    /// a room's or a broadcast's emit: the packet is the same, so the wording says so.
    pub fn wording_key(&self, from_client: bool) -> &'static str {
        match self.packet_type {
            SioType::Connect if from_client => "CONNECT_client",
            SioType::Connect if self.connect_sid().is_none() => "CONNECT_server_nosid",
            SioType::Connect => "CONNECT_server",
            SioType::Event if self.ack_id.is_some() && from_client => "EVENT_ack",
            SioType::Event if self.ack_id.is_some() => "EVENT_ack_server",
            SioType::Event if !from_client => "EVENT_server",
            SioType::BinaryEvent if !from_client => "BINARY_EVENT_server",
            t => t.name(),
        }
    }

    /// The Socket.IO socket id a server's CONNECT gives (protocol v5), not the Engine.IO
    /// session id of the open packet.
    pub fn connect_sid(&self) -> Option<&str> {
        if self.packet_type != SioType::Connect {
            return None;
        }
        self.data.as_ref()?.get("sid")?.as_str()
    }

    /// True when an object among the arguments has a key `room` (or `rooms`): the
    /// application's own data, since Socket.IO's packets never name rooms.
    pub fn args_name_a_room(&self) -> bool {
        let Some(Value::Array(a)) = &self.args else {
            return false;
        };
        a.iter().any(|v| {
            v.as_object().is_some_and(|o| {
                o.keys()
                    .any(|k| k.eq_ignore_ascii_case("room") || k.eq_ignore_ascii_case("rooms"))
            })
        })
    }

    /// Further teaching notes for this packet: keys of table `[lesson]` in
    /// `socketio.toml` (e.g. a server EVENT gets `server_push` and `broadcast_rooms`).
    pub fn lesson_keys(&self, from_client: bool) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.namespace != "/" && matches!(self.packet_type, SioType::Connect) {
            v.push("namespace");
        }
        match self.packet_type {
            SioType::Connect if !from_client => v.push("io_on_connection"),
            SioType::Event | SioType::BinaryEvent if from_client => v.push("client_emit"),
            SioType::Event | SioType::BinaryEvent => {
                v.push("server_push");
                v.push("broadcast_rooms");
            }
            SioType::Ack | SioType::BinaryAck => v.push("ack_callback"),
            _ => {}
        }
        if self.attachments > 0 {
            v.push("placeholders");
        }
        if self.args_name_a_room() {
            v.push("room_in_args");
        }
        v
    }

    /// Values for the wording's `{placeholders}`: `packet_type`, `namespace`, `event`,
    /// `args` (JSON), `args_js` (the arguments as they would be written in JavaScript:
    /// `'hi', 2`), `emit_js` (event and arguments: `'chat message', 'hi'`), `ack_id`,
    /// `attachments`, `sid` (a CONNECT answer's), `message` (a CONNECT_ERROR's).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("packet_type", self.packet_type.name().to_string()),
            ("namespace", self.namespace.clone()),
            ("event", self.event.clone().unwrap_or_default()),
            (
                "args",
                self.args.as_ref().map(Value::to_string).unwrap_or_default(),
            ),
            ("args_js", self.args_js()),
            (
                "ack_id",
                self.ack_id.map(|a| a.to_string()).unwrap_or_default(),
            ),
            ("attachments", self.attachments.to_string()),
        ];
        let sid = self
            .data
            .as_ref()
            .and_then(|d| d.get("sid"))
            .and_then(Value::as_str);
        v.push(("sid", sid.unwrap_or("(not given)").to_string()));
        let message = self
            .data
            .as_ref()
            .and_then(|d| d.get("message").and_then(Value::as_str).or(d.as_str()));
        v.push(("message", message.unwrap_or("no reason given").to_string()));
        v.push(("emit_js", self.emit_js()));
        v
    }

    /// An emit's arguments as JavaScript source: `'chat message', 'hi'`.
    pub fn emit_js(&self) -> String {
        let name = js(&Value::String(self.event.clone().unwrap_or_default()));
        let args = self.args_js();
        if args.is_empty() {
            name
        } else {
            format!("{name}, {args}")
        }
    }

    /// The arguments as JavaScript source, for "this is what `socket.emit(…)` sends":
    /// strings in single quotes, placeholders as `<binary N>`.
    pub fn args_js(&self) -> String {
        let Some(Value::Array(a)) = &self.args else {
            return String::new();
        };
        a.iter().map(js).collect::<Vec<_>>().join(", ")
    }
}

fn js(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => format!("[{}]", a.iter().map(js).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            if o.get("_placeholder") == Some(&Value::Bool(true)) {
                return format!(
                    "<binary {}>",
                    o.get("num").map(Value::to_string).unwrap_or_default()
                );
            }
            let fields: Vec<String> = o
                .iter()
                .map(|(k, v)| {
                    let plain = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                        && !k.starts_with(|c: char| c.is_ascii_digit());
                    if plain {
                        format!("{k}: {}", js(v))
                    } else {
                        format!("{}: {}", js(&Value::String(k.clone())), js(v))
                    }
                })
                .collect();
            if fields.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", fields.join(", "))
            }
        }
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Sessions across connections

/// Frame numbers of the steps of the upgrade from polling to WebSocket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpgradeDance {
    /// `2probe`: the client tests the new WebSocket.
    pub probe: Option<u64>,
    /// `3probe`: the server answers on it.
    pub probe_answer: Option<u64>,
    /// `noop` (6): the server ends the last pending poll.
    pub noop: Option<u64>,
    /// `5`: the client switches to the WebSocket for good.
    pub upgrade: Option<u64>,
}

/// One Engine.IO session (one `sid`), whatever connections carried it.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    /// The Engine.IO session id (empty when the capture never showed it).
    pub sid: String,
    pub version: u8,
    /// Conversations (stream indexes) that carried it, in order of first appearance.
    pub streams: Vec<u32>,
    pub polling_streams: Vec<u32>,
    pub websocket_streams: Vec<u32>,
    /// The transport in use at the end.
    pub transport: Option<EioTransport>,
    /// The frame of the open packet.
    pub open_frame: Option<u64>,
    pub ping_interval: Option<u64>,
    pub ping_timeout: Option<u64>,
    pub upgrades: Vec<String>,
    pub upgrade: UpgradeDance,
    /// Namespaces the server accepted (and not yet left).
    pub namespaces: Vec<String>,
    pub events: u64,
    pub acks: u64,
    pub pings: u64,
    pub pongs: u64,
    /// The frame of a close packet.
    pub close_frame: Option<u64>,
    #[serde(skip)]
    pending_acks: Vec<PendingAck>,
    /// What the pending acks' strings hold.
    #[serde(skip)]
    pending_bytes: usize,
    /// Emits whose acknowledgement was no longer waited for (over `MAX_PENDING_ACKS`).
    #[serde(skip)]
    acks_not_followed: u64,
    /// Namespaces no longer followed (over `MAX_NAMESPACES`), the oldest first.
    #[serde(skip)]
    namespaces_not_followed: u64,
    /// Streams that carried it and are not listed (over `MAX_STREAMS`).
    #[serde(skip)]
    streams_not_listed: u64,
    /// The last heartbeat (the open packet, then each ping): its time.
    #[serde(skip)]
    last_beat: Option<Timestamp>,
    /// True until the first heartbeat ping after the open packet.
    #[serde(skip)]
    beat_is_open: bool,
    /// A ping not yet answered: frame, time, direction.
    #[serde(skip)]
    ping_out: Option<(u64, Timestamp, Dir)>,
    #[serde(skip)]
    probe_time: Option<Timestamp>,
}

#[derive(Clone, Debug)]
struct PendingAck {
    namespace: String,
    ack_id: u64,
    dir: Dir,
    event: String,
    frame: u64,
    time: Timestamp,
}

impl Session {
    fn new(sid: String) -> Session {
        Session {
            sid,
            version: 4,
            streams: Vec::new(),
            polling_streams: Vec::new(),
            websocket_streams: Vec::new(),
            transport: None,
            open_frame: None,
            ping_interval: None,
            ping_timeout: None,
            upgrades: Vec::new(),
            upgrade: UpgradeDance::default(),
            namespaces: Vec::new(),
            events: 0,
            acks: 0,
            pings: 0,
            pongs: 0,
            close_frame: None,
            pending_acks: Vec::new(),
            pending_bytes: 0,
            acks_not_followed: 0,
            namespaces_not_followed: 0,
            streams_not_listed: 0,
            last_beat: None,
            beat_is_open: false,
            ping_out: None,
            probe_time: None,
        }
    }

    /// The session moved from polling to WebSocket.
    pub fn upgraded(&self) -> bool {
        self.upgrade.upgrade.is_some()
    }

    /// About how many bytes its state holds (what it draws from the global budget): the
    /// session itself, its entries in the tracker's tables, its strings and lists.
    ///
    /// Counted as the allocator sees it (measured: counting only the bytes of the data
    /// took 2.3 times less than the process did): each allocation with its header, each
    /// list at its capacity, the tables' entries with their slack.
    pub fn memory(&self) -> usize {
        use std::mem::size_of;
        let string = |s: &str| if s.is_empty() { 0 } else { s.len() + ALLOC };
        let list = |cap: usize, each: usize| if cap == 0 { 0 } else { cap * each + ALLOC };
        let strings = |v: &Vec<String>| {
            list(v.capacity(), size_of::<String>()) + v.iter().map(|s| string(s)).sum::<usize>()
        };
        let streams = self.streams.capacity()
            + self.polling_streams.capacity()
            + self.websocket_streams.capacity();
        // The session (boxed), its place in the tracker's tree, its sid twice (here and as
        // the key of `by_sid`, an entry of about 48 bytes at twice its size when the
        // table has just grown), each stream's entry in `by_stream`.
        size_of::<Session>()
            + ALLOC
            + 32
            + 2 * string(&self.sid)
            + 96
            + streams * (4 + 32)
            + ALLOC * 3
            + strings(&self.upgrades)
            + strings(&self.namespaces)
            + list(self.pending_acks.capacity(), size_of::<PendingAck>())
            + self.pending_bytes
    }

    /// Streams that carried it past the most a list holds (not listed, counted).
    pub fn streams_not_listed(&self) -> u64 {
        self.streams_not_listed
    }

    /// Adds `stream` to `list` unless it is there; a list holds at most `MAX_STREAMS`.
    fn list_stream(list: &mut Vec<u32>, stream: u32) {
        if list.len() < MAX_STREAMS && list.last() != Some(&stream) && !list.contains(&stream) {
            list.push(stream);
        }
    }
}

/// The most streams one session lists (of each kind), and the most namespaces it
/// follows: lookups in them stay quick, and past them the rest are counted.
pub const MAX_STREAMS: usize = 1024;
pub const MAX_NAMESPACES: usize = 1024;

/// How many bytes of an emit's event name are kept while it waits for its ACK.
const EVENT_NAME_KEPT: usize = 256;

/// What one allocation costs beyond its bytes (the allocator's header and rounding).
const ALLOC: usize = 16;

/// How many emits never answered the end of a run lists one by one (the rest counted).
pub const NEVER_ANSWERED_SAID: usize = 1000;

/// How many given-up sessions the end note names.
const SIDS_NAMED: usize = 5;

/// What the session tracker says about a packet. `code()` keys the wording in
/// `socketio.toml` (table `[session]`); `params()` fill its placeholders.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionNote {
    /// `2probe` on a new WebSocket of a session that was polling.
    UpgradeProbe { sid: String, polls: usize },
    /// `3probe`: the server answered the probe.
    UpgradeProbeAnswer { ms: f64 },
    /// `6` on a poll while the upgrade is under way: the server ends the pending poll.
    UpgradeNoop,
    /// `5`: the session now uses the WebSocket.
    Upgraded { sid: String, polls: usize },
    /// A heartbeat ping `ms` after the previous one (`first`: after the open packet), with
    /// `interval` announced.
    Heartbeat { ms: f64, interval: u64, first: bool },
    /// A ping later than pingInterval + pingTimeout after the previous one (or the open):
    /// the other side would already have given up on the connection.
    HeartbeatLate {
        ms: f64,
        interval: u64,
        timeout: u64,
        first: bool,
    },
    /// A pong answering the ping of `frame` after `ms`.
    PongAnswers { frame: u64, ms: f64 },
    /// A pong later than pingTimeout.
    PongLate { frame: u64, ms: f64, timeout: u64 },
    /// An ACK answering the EVENT of `frame` (emit of `event` with callback).
    AckAnswers {
        event: String,
        ack_id: u64,
        frame: u64,
        ms: f64,
    },
    /// An ACK whose EVENT was not seen.
    AckUnmatched { ack_id: u64, namespace: String },
    /// (From [`SessionTracker::finish`]) an EVENT that asked for an answer and got none.
    AckNeverAnswered { event: String, ack_id: u64 },
    /// More emits waited for their acknowledgement than are followed: the oldest were not.
    AcksNotFollowed { count: u64, limit: usize },
    /// (From [`SessionTracker::finish`]) more namespaces were joined than are followed:
    /// the oldest were not.
    NamespacesNotFollowed { count: u64, limit: usize },
    /// (From [`SessionTracker::finish`]) emits never answered past the ones listed.
    AcksNeverAnsweredUnlisted { count: u64, listed: usize },
    /// (From [`SessionTracker::finish`]) a probe that was never followed by the upgrade.
    UpgradeNotCompleted { sid: String },
}

impl SessionNote {
    pub const ALL_CODES: &'static [&'static str] = &[
        "upgrade-probe",
        "upgrade-probe-answer",
        "upgrade-noop",
        "upgraded",
        "heartbeat",
        "heartbeat-first",
        "heartbeat-late",
        "heartbeat-late-first",
        "pong-answers",
        "pong-late",
        "ack-answers",
        "ack-unmatched",
        "ack-never-answered",
        "upgrade-not-completed",
        "acks-not-followed",
        "namespaces-not-followed",
        "acks-never-answered-unlisted",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            SessionNote::UpgradeProbe { .. } => "upgrade-probe",
            SessionNote::UpgradeProbeAnswer { .. } => "upgrade-probe-answer",
            SessionNote::UpgradeNoop => "upgrade-noop",
            SessionNote::Upgraded { .. } => "upgraded",
            SessionNote::Heartbeat { first: false, .. } => "heartbeat",
            SessionNote::Heartbeat { first: true, .. } => "heartbeat-first",
            SessionNote::HeartbeatLate { first: false, .. } => "heartbeat-late",
            SessionNote::HeartbeatLate { first: true, .. } => "heartbeat-late-first",
            SessionNote::PongAnswers { .. } => "pong-answers",
            SessionNote::PongLate { .. } => "pong-late",
            SessionNote::AckAnswers { .. } => "ack-answers",
            SessionNote::AckUnmatched { .. } => "ack-unmatched",
            SessionNote::AckNeverAnswered { .. } => "ack-never-answered",
            SessionNote::AcksNotFollowed { .. } => "acks-not-followed",
            SessionNote::NamespacesNotFollowed { .. } => "namespaces-not-followed",
            SessionNote::AcksNeverAnsweredUnlisted { .. } => "acks-never-answered-unlisted",
            SessionNote::UpgradeNotCompleted { .. } => "upgrade-not-completed",
        }
    }

    /// Warning when the peers broke the protocol's timing or pairing; note otherwise.
    pub fn level(&self) -> Level {
        match self {
            SessionNote::HeartbeatLate { .. } | SessionNote::PongLate { .. } => Level::Warning,
            _ => Level::Note,
        }
    }

    pub fn params(&self) -> Vec<(&'static str, String)> {
        let ms = |m: &f64| format!("{m:.1}");
        match self {
            SessionNote::UpgradeProbe { sid, polls } | SessionNote::Upgraded { sid, polls } => {
                vec![("sid", sid.clone()), ("polls", polls.to_string())]
            }
            SessionNote::UpgradeProbeAnswer { ms: m } => vec![("ms", ms(m))],
            SessionNote::UpgradeNoop => Vec::new(),
            SessionNote::Heartbeat {
                ms: m, interval, ..
            } => {
                vec![("ms", ms(m)), ("interval", interval.to_string())]
            }
            SessionNote::HeartbeatLate {
                ms: m,
                interval,
                timeout,
                ..
            } => {
                vec![
                    ("ms", ms(m)),
                    ("interval", interval.to_string()),
                    ("timeout", timeout.to_string()),
                ]
            }
            SessionNote::PongAnswers { frame, ms: m } => {
                vec![("frame", frame.to_string()), ("ms", ms(m))]
            }
            SessionNote::PongLate {
                frame,
                ms: m,
                timeout,
            } => {
                vec![
                    ("frame", frame.to_string()),
                    ("ms", ms(m)),
                    ("timeout", timeout.to_string()),
                ]
            }
            SessionNote::AckAnswers {
                event,
                ack_id,
                frame,
                ms: m,
            } => vec![
                ("event", event.clone()),
                ("ack_id", ack_id.to_string()),
                ("frame", frame.to_string()),
                ("ms", ms(m)),
            ],
            SessionNote::AckUnmatched { ack_id, namespace } => {
                vec![
                    ("ack_id", ack_id.to_string()),
                    ("namespace", namespace.clone()),
                ]
            }
            SessionNote::AckNeverAnswered { event, ack_id } => {
                vec![("event", event.clone()), ("ack_id", ack_id.to_string())]
            }
            SessionNote::UpgradeNotCompleted { sid } => vec![("sid", sid.clone())],
            SessionNote::AcksNeverAnsweredUnlisted { count, listed } => {
                vec![("count", count.to_string()), ("listed", listed.to_string())]
            }
            SessionNote::AcksNotFollowed { count, limit }
            | SessionNote::NamespacesNotFollowed { count, limit } => {
                vec![("count", count.to_string()), ("limit", limit.to_string())]
            }
        }
    }
}

/// The most emits of one session waiting for their acknowledgement (memory and the time
/// to match an ACK stay bounded); past it the oldest is no longer waited for.
pub const MAX_PENDING_ACKS: usize = 1024;

/// `{"code":"ack-answers","level":"note","event":"add",…}`, like [`Check`].
impl Serialize for SessionNote {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::app::serialize_coded(s, self.code(), self.level(), &self.params())
    }
}

/// Follows Engine.IO sessions across TCP connections. Feed it every Engine.IO and
/// Socket.IO event in capture order ([`SessionTracker::observe`]), then call
/// [`SessionTracker::finish`] once.
///
/// Each session's state draws from the analysis's global budget: the caller asks
/// [`SessionTracker::touched`] after each event and, over the budget, gives up the least
/// recently active session ([`SessionTracker::give_up`]).
#[derive(Debug, Default)]
pub struct SessionTracker {
    /// By id, in order of first appearance.
    sessions: BTreeMap<u64, Box<Session>>,
    next_id: u64,
    by_sid: HashMap<String, u64>,
    by_stream: HashMap<u32, u64>,
    /// The session the last event was about.
    touched: Option<u64>,
    /// Sessions whose state was given up, and the sids of the first few.
    pub given_up: u64,
    given_up_sids: Vec<String>,
}

impl SessionTracker {
    pub fn new() -> SessionTracker {
        SessionTracker::default()
    }

    /// One application event of conversation `stream`, reported in frame `frame` at
    /// `time`. Other messages than `engineio`/`socketio` are ignored. Returns what the
    /// session's history says about it.
    pub fn observe(
        &mut self,
        stream: u32,
        frame: u64,
        time: Timestamp,
        ev: &AppEvent,
    ) -> Vec<SessionNote> {
        self.touched = None;
        match &ev.message {
            AppMessage::EngineIo(p) => {
                let before = self.by_stream.get(&stream).copied();
                let i = self.session_for(stream, p.sid.as_deref());
                self.touched = Some(i);
                let s = self.sessions.get_mut(&i).expect("made by session_for");
                s.version = p.version;
                // A stream new to this session, past the listed ones: counted once.
                if before != Some(i)
                    && s.streams.len() >= MAX_STREAMS
                    && !s.streams.contains(&stream)
                {
                    s.streams_not_listed += 1;
                }
                Session::list_stream(&mut s.streams, stream);
                let list = match p.transport {
                    EioTransport::Polling => &mut s.polling_streams,
                    EioTransport::WebSocket => &mut s.websocket_streams,
                };
                Session::list_stream(list, stream);
                if s.transport.is_none() || p.transport == EioTransport::Polling && !s.upgraded() {
                    s.transport = Some(p.transport);
                }
                eio(s, frame, time, ev.dir, p)
            }
            AppMessage::SocketIo(p) => {
                let Some(s) = self
                    .by_stream
                    .get(&stream)
                    .and_then(|i| self.sessions.get_mut(i))
                else {
                    return Vec::new();
                };
                self.touched = self.by_stream.get(&stream).copied();
                sio(s, frame, time, ev.dir, p)
            }
            _ => Vec::new(),
        }
    }

    /// What remains open at the end of the capture, each with the frame it is about.
    pub fn finish(&mut self) -> Vec<(u64, SessionNote)> {
        let mut out = Vec::new();
        let (mut listed, mut unlisted) = (0, (0u64, u64::MAX));
        for s in self.sessions.values_mut() {
            if let (Some(f), None) = (s.upgrade.probe, s.upgrade.upgrade) {
                out.push((f, SessionNote::UpgradeNotCompleted { sid: s.sid.clone() }));
            }
            if s.acks_not_followed > 0 {
                let first = s.pending_acks.first().map_or(0, |a| a.frame);
                out.push((
                    first,
                    SessionNote::AcksNotFollowed {
                        count: s.acks_not_followed,
                        limit: MAX_PENDING_ACKS,
                    },
                ));
            }
            if s.namespaces_not_followed > 0 {
                out.push((
                    s.open_frame.unwrap_or(0),
                    SessionNote::NamespacesNotFollowed {
                        count: s.namespaces_not_followed,
                        limit: MAX_NAMESPACES,
                    },
                ));
            }
            s.pending_bytes = 0;
            for a in s.pending_acks.drain(..) {
                if listed == NEVER_ANSWERED_SAID {
                    unlisted.0 += 1;
                    unlisted.1 = unlisted.1.min(a.frame);
                    continue;
                }
                listed += 1;
                out.push((
                    a.frame,
                    SessionNote::AckNeverAnswered {
                        event: a.event,
                        ack_id: a.ack_id,
                    },
                ));
            }
        }
        if unlisted.0 > 0 {
            out.push((
                unlisted.1,
                SessionNote::AcksNeverAnsweredUnlisted {
                    count: unlisted.0,
                    listed,
                },
            ));
        }
        out.sort_by_key(|(f, _)| *f);
        out
    }

    /// Every session seen (and not given up), in order of first appearance.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values().map(|s| &**s)
    }

    /// The session conversation `stream` belongs to.
    pub fn session_of(&self, stream: u32) -> Option<&Session> {
        self.by_stream
            .get(&stream)
            .and_then(|i| self.sessions.get(i))
            .map(|s| &**s)
    }

    /// The session the last [`SessionTracker::observe`] was about, and what its state
    /// holds now.
    pub fn touched(&self) -> Option<(u64, usize)> {
        let id = self.touched?;
        self.sessions.get(&id).map(|s| (id, s.memory()))
    }

    /// Gives up session `id`'s state (over the memory budget): it is forgotten, and a
    /// later packet of its sid starts a new one.
    pub fn give_up(&mut self, id: u64) {
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        if self.by_sid.get(&s.sid) == Some(&id) {
            self.by_sid.remove(&s.sid);
        }
        for st in s
            .streams
            .iter()
            .chain(&s.polling_streams)
            .chain(&s.websocket_streams)
        {
            if self.by_stream.get(st) == Some(&id) {
                self.by_stream.remove(st);
            }
        }
        // Streams past the listed ones may still point here: looked up, they find nothing.
        if self.given_up_sids.len() < SIDS_NAMED {
            self.given_up_sids
                .push(crate::value::shown(&s.sid, 64).into_owned());
        }
        self.given_up += 1;
    }

    /// The given-up sessions as the end note says them: `a, b and 3 more`.
    pub fn given_up_list(&self) -> String {
        let mut s = self.given_up_sids.join(", ");
        let more = self.given_up - self.given_up_sids.len() as u64;
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        s
    }

    fn new_session(&mut self, sid: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.sessions
            .insert(id, Box::new(Session::new(sid.to_string())));
        if !sid.is_empty() {
            self.by_sid.insert(sid.to_string(), id);
        }
        id
    }

    fn session_for(&mut self, stream: u32, sid: Option<&str>) -> u64 {
        let on_stream = self
            .by_stream
            .get(&stream)
            .copied()
            .filter(|i| self.sessions.contains_key(i));
        let i = match sid {
            Some(sid) => match self.by_sid.get(sid) {
                Some(&i) => i,
                None => {
                    // A stream first seen without a sid (a WebSocket-only connection
                    // before its open packet) learns it now.
                    if let Some(i) = on_stream {
                        let s = self.sessions.get_mut(&i).expect("checked above");
                        if s.sid.is_empty() {
                            s.sid = sid.to_string();
                            self.by_sid.insert(sid.to_string(), i);
                            return i;
                        }
                    }
                    self.new_session(sid)
                }
            },
            None => match on_stream {
                Some(i) => i,
                None => self.new_session(""),
            },
        };
        self.by_stream.insert(stream, i);
        i
    }
}

/// Milliseconds from `earlier` to `later`, computed in whole nanoseconds.
fn ms_between(later: Timestamp, earlier: Timestamp) -> f64 {
    let ns = (later.secs as i128 - earlier.secs as i128) * 1_000_000_000 + later.nanos as i128
        - earlier.nanos as i128;
    ns as f64 / 1e6
}

fn eio(
    s: &mut Session,
    frame: u64,
    time: Timestamp,
    dir: Dir,
    p: &super::engineio::EioPacket,
) -> Vec<SessionNote> {
    let mut notes = Vec::new();
    match p.packet_type {
        EioType::Open => {
            if let Some(o) = &p.open {
                s.open_frame = Some(frame);
                s.ping_interval = Some(o.ping_interval);
                s.ping_timeout = Some(o.ping_timeout);
                s.upgrades = o.upgrades.clone();
                s.last_beat = Some(time);
                s.beat_is_open = true;
            }
        }
        EioType::Ping if p.probe => {
            s.upgrade.probe = Some(frame);
            s.probe_time = Some(time);
            notes.push(SessionNote::UpgradeProbe {
                sid: s.sid.clone(),
                polls: s.polling_streams.len(),
            });
        }
        EioType::Pong if p.probe => {
            s.upgrade.probe_answer = Some(frame);
            let ms = s.probe_time.map_or(0.0, |t| ms_between(time, t));
            notes.push(SessionNote::UpgradeProbeAnswer { ms });
        }
        EioType::Ping => {
            s.pings += 1;
            if let (Some(prev), Some(interval), Some(timeout)) =
                (s.last_beat, s.ping_interval, s.ping_timeout)
            {
                let ms = ms_between(time, prev);
                let first = s.beat_is_open;
                if ms > (interval + timeout) as f64 {
                    notes.push(SessionNote::HeartbeatLate {
                        ms,
                        interval,
                        timeout,
                        first,
                    });
                } else {
                    notes.push(SessionNote::Heartbeat {
                        ms,
                        interval,
                        first,
                    });
                }
            }
            s.last_beat = Some(time);
            s.beat_is_open = false;
            s.ping_out = Some((frame, time, dir));
        }
        EioType::Pong => {
            s.pongs += 1;
            if let Some((f, t, d)) = s.ping_out {
                if d == dir.other() {
                    s.ping_out = None;
                    let ms = ms_between(time, t);
                    match s.ping_timeout {
                        Some(timeout) if ms > timeout as f64 => notes.push(SessionNote::PongLate {
                            frame: f,
                            ms,
                            timeout,
                        }),
                        _ => notes.push(SessionNote::PongAnswers { frame: f, ms }),
                    }
                }
            }
        }
        EioType::Noop => {
            if p.transport == EioTransport::Polling
                && s.upgrade.probe.is_some()
                && s.upgrade.noop.is_none()
            {
                s.upgrade.noop = Some(frame);
                notes.push(SessionNote::UpgradeNoop);
            }
        }
        EioType::Upgrade => {
            s.upgrade.upgrade = Some(frame);
            s.transport = Some(EioTransport::WebSocket);
            notes.push(SessionNote::Upgraded {
                sid: s.sid.clone(),
                polls: s.polling_streams.len(),
            });
        }
        EioType::Close => s.close_frame = Some(frame),
        EioType::Message => {}
    }
    notes
}

fn sio(s: &mut Session, frame: u64, time: Timestamp, dir: Dir, p: &SioPacket) -> Vec<SessionNote> {
    let mut notes = Vec::new();
    let held = |a: &PendingAck| a.namespace.len() + a.event.len() + 2 * ALLOC;
    match p.packet_type {
        SioType::Connect if dir == Dir::ServerToClient && !s.namespaces.contains(&p.namespace) => {
            if s.namespaces.len() >= MAX_NAMESPACES {
                s.namespaces.remove(0);
                s.namespaces_not_followed += 1;
            }
            s.namespaces.push(p.namespace.clone());
        }
        SioType::Disconnect => s.namespaces.retain(|n| *n != p.namespace),
        t if t.is_event() => {
            s.events += 1;
            if let Some(id) = p.ack_id {
                // A reused id replaces the one it reuses.
                if let Some(k) = s
                    .pending_acks
                    .iter()
                    .position(|a| a.namespace == p.namespace && a.ack_id == id && a.dir == dir)
                {
                    s.pending_bytes -= held(&s.pending_acks.remove(k));
                }
                if s.pending_acks.len() >= MAX_PENDING_ACKS {
                    s.pending_bytes -= held(&s.pending_acks.remove(0));
                    s.acks_not_followed += 1;
                }
                let event = p.event.as_deref().unwrap_or_default();
                let a = PendingAck {
                    namespace: p.namespace.clone(),
                    ack_id: id,
                    dir,
                    event: crate::value::shown(event, EVENT_NAME_KEPT).into_owned(),
                    frame,
                    time,
                };
                s.pending_bytes += held(&a);
                s.pending_acks.push(a);
            }
        }
        t if t.is_ack() => {
            s.acks += 1;
            let Some(id) = p.ack_id else { return notes };
            let found = s
                .pending_acks
                .iter()
                .position(|a| a.namespace == p.namespace && a.ack_id == id && a.dir == dir.other());
            match found {
                Some(k) => {
                    let a = s.pending_acks.remove(k);
                    s.pending_bytes -= held(&a);
                    notes.push(SessionNote::AckAnswers {
                        event: a.event,
                        ack_id: id,
                        frame: a.frame,
                        ms: ms_between(time, a.time),
                    });
                }
                None => notes.push(SessionNote::AckUnmatched {
                    ack_id: id,
                    namespace: p.namespace.clone(),
                }),
            }
        }
        _ => {}
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(s: &str) -> SioPacket {
        let p = parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        assert!(p.problems.is_empty(), "{s}: {:?}", p.problems);
        p
    }

    #[test]
    fn connect_both_ways() {
        let p = ok("0");
        assert_eq!(
            (p.packet_type, p.namespace.as_str(), p.data.as_ref()),
            (SioType::Connect, "/", None)
        );
        let p = ok(r#"0{"sid":"We3xv6C4MYQApbetAAAA"}"#);
        assert_eq!(p.data, Some(json!({"sid":"We3xv6C4MYQApbetAAAA"})));
        assert!(p.params().contains(&("sid", "We3xv6C4MYQApbetAAAA".into())));
        assert_eq!(p.wording_key(false), "CONNECT_server");
        let p = ok("0/chat,");
        assert_eq!(p.namespace, "/chat");
        let p = ok(r#"0/chat,{"sid":"FHyKxYkpESNwc6r9AAAB"}"#);
        assert_eq!(
            (p.namespace.as_str(), &p.data),
            ("/chat", &Some(json!({"sid":"FHyKxYkpESNwc6r9AAAB"})))
        );
        let p = ok(r#"0/admin,{"token":"abc"}"#);
        assert_eq!(p.data, Some(json!({"token":"abc"})));
        let p = ok(r#"4{"message":"Not authorized"}"#);
        assert_eq!(p.packet_type, SioType::ConnectError);
        assert!(p.params().contains(&("message", "Not authorized".into())));
    }

    #[test]
    fn events_and_acks() {
        let p = ok(r#"2["chat message","hi"]"#);
        assert_eq!(
            (p.packet_type, p.event.as_deref(), p.ack_id),
            (SioType::Event, Some("chat message"), None)
        );
        assert_eq!(p.args, Some(json!(["hi"])));
        assert_eq!(p.args_js(), "'hi'");
        assert_eq!(p.wording_key(true), "EVENT");
        let p = ok(r#"21["add",2,3]"#);
        assert_eq!(
            (p.event.as_deref(), p.ack_id, p.args_js()),
            (Some("add"), Some(1), "2, 3".into())
        );
        assert_eq!(p.wording_key(true), "EVENT_ack");
        let p = ok("31[5]");
        assert_eq!(
            (p.packet_type, p.ack_id, p.args),
            (SioType::Ack, Some(1), Some(json!([5])))
        );
        let p = ok(r#"32[{"name":"hello.bin","bytes":33}]"#);
        // serde_json (without preserve_order) sorts object keys.
        assert_eq!(p.args_js(), "{ bytes: 33, name: 'hello.bin' }");
        let p = ok(r#"2/chat,0["say","hello, /chat"]"#);
        assert_eq!(
            (p.namespace.as_str(), p.ack_id, p.event.as_deref()),
            ("/chat", Some(0), Some("say"))
        );
        let p = ok(r#"2/chat,["said","you said: hello, /chat"]"#);
        assert_eq!(
            (p.ack_id, p.args),
            (None, Some(json!(["you said: hello, /chat"])))
        );
        let p = ok(r#"3/chat,1[{"name":"chat.bin","bytes":5}]"#);
        assert_eq!((p.namespace.as_str(), p.ack_id), ("/chat", Some(1)));
        let p = ok("1/chat,");
        assert_eq!(
            (p.packet_type, p.namespace.as_str()),
            (SioType::Disconnect, "/chat")
        );
        let p = ok(r#"2["it's",{"a b":[1,null]}]"#);
        assert_eq!(p.args_js(), r#"{ 'a b': [1, null] }"#);
    }

    #[test]
    fn binary_packets_and_placeholders() {
        let p = ok(r#"51-2["upload","hello.bin",{"_placeholder":true,"num":0}]"#);
        assert_eq!(
            (p.packet_type, p.attachments, p.ack_id),
            (SioType::BinaryEvent, 1, Some(2))
        );
        assert_eq!(p.event.as_deref(), Some("upload"));
        assert_eq!(p.args_js(), "'hello.bin', <binary 0>");
        let p = ok(r#"51-/chat,1["upload","chat.bin",{"_placeholder":true,"num":0}]"#);
        assert_eq!(
            (p.namespace.as_str(), p.ack_id, p.attachments),
            ("/chat", Some(1), 1)
        );
        let p = ok(r#"62-3[{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]"#);
        assert_eq!(
            (p.packet_type, p.attachments, p.ack_id),
            (SioType::BinaryAck, 2, Some(3))
        );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["attachments"], 2);
        let p = parse(r#"52-["x",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            p.problems,
            [Check::SioPlaceholderMismatch {
                attachments: 2,
                placeholders: 1
            }]
        );
    }

    #[test]
    fn json_keys() {
        let v = serde_json::to_value(ok(r#"2["chat message","hi"]"#)).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "ack_id",
                "args",
                "attachments",
                "event",
                "namespace",
                "packet_type"
            ]
        );
        assert_eq!(v["packet_type"], "EVENT");
        assert_eq!(v["ack_id"], Value::Null);
        let v = serde_json::to_value(ok("0")).unwrap();
        assert_eq!(
            (&v["event"], &v["args"], &v["attachments"]),
            (&Value::Null, &Value::Null, &json!(0))
        );
        let v = serde_json::to_value(ok(
            r#"51-["file","signature.png",{"_placeholder":true,"num":0}]"#,
        ))
        .unwrap();
        assert_eq!(v["packet_type"], "BINARY_EVENT");
        assert_eq!(
            serde_json::to_value(SioType::ConnectError).unwrap(),
            "CONNECT_ERROR"
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(parse(""), Err(SioError::UnknownType("nothing".into())));
        assert_eq!(parse("9"), Err(SioError::UnknownType("9".into())));
        assert_eq!(parse(r#"51["x"]"#), Err(SioError::Malformed));
        assert_eq!(
            parse("299999999999999999999999[\"x\"]"),
            Err(SioError::Malformed)
        );
        assert_eq!(parse("2[\"x\""), Err(SioError::BadJson));
        // 64 levels decode; 65 do not (the JSON line would nest past what readers take).
        let deep = |n: usize| format!("2[\"e\",{}1{}]", "[".repeat(n - 1), "]".repeat(n - 1));
        assert!(parse(&deep(64)).is_ok());
        assert_eq!(parse(&deep(65)), Err(SioError::TooDeep));
        assert_eq!(super::super::app::json_depth(r#"["[[[[\"]",{"a":[1]}]"#), 3);
        let bad = |s: &str| {
            parse(s)
                .unwrap()
                .problems
                .iter()
                .map(Check::code)
                .collect::<Vec<_>>()
        };
        assert_eq!(bad("2[1,2]"), ["sio-bad-payload"]);
        assert_eq!(bad("2\"x\""), ["sio-bad-payload"]);
        assert_eq!(bad("1{}"), ["sio-bad-payload"]);
        assert_eq!(bad("3[1]"), ["sio-ack-without-id"]);
        assert_eq!(bad("0[1]"), ["sio-bad-payload"]);
    }

    /// Every key the code can ask for exists, and uses only placeholders it fills.
    #[test]
    fn wording_exists() {
        let table: toml::Table =
            toml::from_str(include_str!("../explain/text/socketio.toml")).expect("valid TOML");
        let check = |section: &str, key: &str, params: &[(&str, String)]| {
            let t = table
                .get(section)
                .and_then(|s| s.get(key))
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("no [{section}] {key}"));
            let mut rest = t;
            while let Some(i) = rest.find('{') {
                let j = rest[i..].find('}').expect("closed placeholder") + i;
                let name = &rest[i + 1..j];
                assert!(
                    params.iter().any(|(k, _)| *k == name),
                    "[{section}] {key}: unknown placeholder {{{name}}}"
                );
                rest = &rest[j + 1..];
            }
        };
        let samples = [
            "0",
            r#"0{"sid":"x"}"#,
            "1",
            r#"2["a",1]"#,
            r#"21["a"]"#,
            "31[5]",
            r#"4{"message":"no"}"#,
            r#"51-["f",{"_placeholder":true,"num":0}]"#,
            r#"61-1[{"_placeholder":true,"num":0}]"#,
            "0/chat,",
        ];
        for s in samples {
            let p = parse(s).unwrap();
            for from_client in [true, false] {
                check("socketio", p.wording_key(from_client), &p.params());
                for k in p.lesson_keys(from_client) {
                    check("lesson", k, &[]);
                }
            }
        }
        use super::super::engineio::{parse_binary, parse_payload, parse_text};
        let open = r#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}"#;
        let mut eio: Vec<_> = ["1", "2", "2probe", "3", "3probe", "4x", "5", "6", open]
            .iter()
            .map(|s| parse_text(s, EioTransport::WebSocket, 4).unwrap())
            .collect();
        eio.push(parse_binary(&[1], EioTransport::WebSocket, 4).unwrap());
        let mut a = parse_binary(&[1], EioTransport::WebSocket, 4).unwrap();
        a.attachment = Some(super::super::engineio::AttachmentRef {
            num: 0,
            of: 1,
            packet_type: SioType::BinaryEvent,
            namespace: "/".into(),
            event: Some("f".into()),
            ack_id: None,
        });
        eio.push(a);
        eio.push(parse_payload(b"40\x1e6", 4).remove(0).unwrap());
        for p in &eio {
            check("engineio", p.wording_key(), &p.params());
        }
        assert!(eio
            .iter()
            .any(|p| p.params().iter().any(|(k, _)| *k == "count")));
        check("engineio", "payload", &eio.last().unwrap().params());
        for t in ["polling", "websocket"] {
            check("transport", t, &[]);
        }
        for k in [
            "websocket_vs_socketio",
            "engineio",
            "when_to_use",
            "not_just_fallback",
            "upgrade_dance",
        ] {
            check("lesson", k, &[]);
        }
        let notes = [
            SessionNote::UpgradeProbe {
                sid: "s".into(),
                polls: 1,
            },
            SessionNote::UpgradeProbeAnswer { ms: 1.0 },
            SessionNote::UpgradeNoop,
            SessionNote::Upgraded {
                sid: "s".into(),
                polls: 1,
            },
            SessionNote::Heartbeat {
                ms: 1.0,
                interval: 1,
                first: false,
            },
            SessionNote::Heartbeat {
                ms: 1.0,
                interval: 1,
                first: true,
            },
            SessionNote::HeartbeatLate {
                ms: 1.0,
                interval: 1,
                timeout: 1,
                first: false,
            },
            SessionNote::HeartbeatLate {
                ms: 1.0,
                interval: 1,
                timeout: 1,
                first: true,
            },
            SessionNote::PongAnswers { frame: 1, ms: 1.0 },
            SessionNote::PongLate {
                frame: 1,
                ms: 1.0,
                timeout: 1,
            },
            SessionNote::AckAnswers {
                event: "e".into(),
                ack_id: 1,
                frame: 1,
                ms: 1.0,
            },
            SessionNote::AckUnmatched {
                ack_id: 1,
                namespace: "/".into(),
            },
            SessionNote::AckNeverAnswered {
                event: "e".into(),
                ack_id: 1,
            },
            SessionNote::UpgradeNotCompleted { sid: "s".into() },
            SessionNote::AcksNotFollowed { count: 1, limit: 1 },
            SessionNote::NamespacesNotFollowed { count: 1, limit: 1 },
            SessionNote::AcksNeverAnsweredUnlisted {
                count: 1,
                listed: 1,
            },
        ];
        assert_eq!(
            notes.iter().map(SessionNote::code).collect::<Vec<_>>(),
            SessionNote::ALL_CODES
        );
        for n in &notes {
            check("session", n.code(), &n.params());
        }
    }

    #[test]
    fn unanswered_acks_are_bounded_and_the_rest_counted() {
        // 200,000 emits that ask for an ACK and never get one: linear time, at most
        // MAX_PENDING_ACKS waited for, the others counted in one note.
        let mut tr = SessionTracker::default();
        let mut s = Session::new("s".into());
        let start = std::time::Instant::now();
        for id in 0..200_000u64 {
            let p = ok(&format!("2{id}[\"e\"]"));
            sio(&mut s, id + 1, t(id), Dir::ClientToServer, &p);
        }
        // The newest is still waited for: its ACK matches.
        let n = sio(
            &mut s,
            200_001,
            t(200_001),
            Dir::ServerToClient,
            &ok("3199999[]"),
        );
        assert!(
            matches!(
                n[..],
                [SessionNote::AckAnswers {
                    ack_id: 199_999,
                    ..
                }]
            ),
            "{n:?}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
        tr.sessions.insert(0, Box::new(s));
        let end = tr.finish();
        assert_eq!(
            end[0].1,
            SessionNote::AcksNotFollowed {
                count: 200_000 - MAX_PENDING_ACKS as u64,
                limit: MAX_PENDING_ACKS
            }
        );
        // The note, 1,000 of the 1,023 never answered listed, the other 23 counted.
        assert_eq!(end.len(), NEVER_ANSWERED_SAID + 2);
        assert!(end.iter().any(|(_, n)| *n
            == SessionNote::AcksNeverAnsweredUnlisted {
                count: (MAX_PENDING_ACKS - 1 - NEVER_ANSWERED_SAID) as u64,
                listed: NEVER_ANSWERED_SAID
            }));
    }

    /// A session's state is what it costs: namespaces are bounded (the oldest given up,
    /// counted), an emit's event name is kept short while it waits, and a session given
    /// up is forgotten (its sid starts afresh) and named in the end note.
    #[test]
    fn session_state_is_bounded_and_given_up_whole() {
        let mut s = Session::new("s".into());
        let empty = s.memory();
        for n in 0..MAX_NAMESPACES + 10 {
            sio(
                &mut s,
                1,
                t(1),
                Dir::ServerToClient,
                &ok(&format!("0/n{n},")),
            );
        }
        assert_eq!(s.namespaces.len(), MAX_NAMESPACES);
        assert_eq!(s.namespaces[0], "/n10");
        let long = "e".repeat(1 << 20);
        sio(
            &mut s,
            2,
            t(2),
            Dir::ClientToServer,
            &ok(&format!("27[\"{long}\"]")),
        );
        assert!(
            s.memory() < empty + MAX_NAMESPACES * 64 + 4096,
            "{}",
            s.memory()
        );
        // The ACK still names it (cut), and gives back what it held.
        let before = s.memory();
        let n = sio(&mut s, 3, t(3), Dir::ServerToClient, &ok("37[]"));
        match &n[..] {
            [SessionNote::AckAnswers { event, .. }] => {
                assert!(
                    event.ends_with("more bytes)") && event.len() < 300,
                    "{event:.40}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(s.memory() < before);
        let mut tr = SessionTracker::default();
        tr.sessions.insert(0, Box::new(s));
        let end = tr.finish();
        assert_eq!(
            end[0].1,
            SessionNote::NamespacesNotFollowed {
                count: 10,
                limit: MAX_NAMESPACES
            }
        );
        // A session over more streams than are listed counts each of the rest once.
        let mut tr = SessionTracker::default();
        let ev = || AppEvent {
            dir: Dir::ClientToServer,
            stream_range: (0, 0),
            message: AppMessage::EngineIo(
                super::super::engineio::parse_text("6", EioTransport::Polling, 4)
                    .map(|mut p| {
                        p.sid = Some("many".into());
                        p
                    })
                    .unwrap(),
            ),
            checks: Vec::new(),
        };
        for round in 0..3 {
            for st in 0..MAX_STREAMS as u32 + 5 {
                tr.observe(st, round, t(1), &ev());
            }
        }
        let s = tr.sessions().next().unwrap();
        assert_eq!(
            (s.streams.len(), s.polling_streams.len()),
            (MAX_STREAMS, MAX_STREAMS)
        );
        assert_eq!(s.streams_not_listed(), 5);
        assert!(crate::explain::session_summary(s)
            .contains("; 5 more stream(s) carried it, not listed"));
        // Given up: forgotten, its sid starts afresh; the note names it.
        let mut tr = SessionTracker::default();
        let a = tr.session_for(1, Some("aaa"));
        let b = tr.session_for(2, Some("bbb"));
        tr.give_up(a);
        assert!(tr.session_of(1).is_none());
        assert_eq!(tr.session_of(2).map(|s| s.sid.as_str()), Some("bbb"));
        let again = tr.session_for(1, Some("aaa"));
        assert!(again != a && again != b);
        assert_eq!((tr.given_up, tr.given_up_list()), (1, "aaa".to_string()));
        assert_eq!(tr.sessions().count(), 2);
    }

    fn t(ms: u64) -> Timestamp {
        Timestamp::new(
            1_700_000_000 + (ms / 1000) as i64,
            ((ms % 1000) * 1_000_000) as u32,
        )
    }

    /// Feeds `(stream, frame, ms, dir, carrier)` through a real AppStream per stream.
    fn feed(
        tr: &mut SessionTracker,
        streams: &mut HashMap<u32, super::super::app::AppStream>,
        stream: u32,
        frame: u64,
        ms: u64,
        dir: Dir,
        bytes: &[u8],
    ) -> Vec<(String, Vec<SessionNote>)> {
        let s = streams
            .entry(stream)
            .or_insert_with(|| super::super::app::AppStream::new(Default::default()));
        s.push(dir, bytes)
            .iter()
            .map(|ev| {
                (
                    ev.message.protocol().to_string(),
                    tr.observe(stream, frame, t(ms), ev),
                )
            })
            .collect()
    }

    fn http_get(uri: &str) -> Vec<u8> {
        format!("GET {uri} HTTP/1.1\r\nHost: 127.0.0.1:9106\r\nConnection: close\r\n\r\n")
            .into_bytes()
    }

    fn http_ok(body: &[u8]) -> Vec<u8> {
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    }

    fn ws_text(s: &str, masked: bool) -> Vec<u8> {
        let b = s.as_bytes();
        assert!(b.len() < 126);
        let mut f = vec![0x81, (b.len() as u8) | if masked { 0x80 } else { 0 }];
        if masked {
            f.extend_from_slice(&[0, 0, 0, 0]);
        }
        f.extend_from_slice(b);
        f
    }

    const SID: &str = "Wm0JFyaze4SWzjoUAAAA";

    /// The polling → WebSocket upgrade of `socketio-polling-upgrade.pcap`, its payloads
    /// byte for byte (stream numbers and frame numbers as in the capture).
    #[test]
    fn polling_upgrade_session() {
        use Dir::{ClientToServer as C, ServerToClient as S};
        let mut tr = SessionTracker::new();
        let mut st = HashMap::new();
        let open = format!(
            r#"0{{"sid":"{SID}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        );
        feed(
            &mut tr,
            &mut st,
            0,
            4,
            0,
            C,
            &http_get("/socket.io/?EIO=4&transport=polling&t=7zu0qagw"),
        );
        let n = feed(&mut tr, &mut st, 0, 6, 2, S, &http_ok(open.as_bytes()));
        assert_eq!(
            n.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["http", "engineio"]
        );
        let post = format!("POST /socket.io/?EIO=4&transport=polling&t=7zu1655x&sid={SID} HTTP/1.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\n40");
        let n = feed(&mut tr, &mut st, 1, 20, 20, C, post.as_bytes());
        assert_eq!(
            n.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["http", "engineio", "socketio"]
        );
        let upgrade = format!("GET /socket.io/?EIO=4&transport=websocket&sid={SID} HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        feed(&mut tr, &mut st, 2, 22, 21, C, upgrade.as_bytes());
        feed(
            &mut tr,
            &mut st,
            3,
            24,
            22,
            C,
            &http_get(&format!(
                "/socket.io/?EIO=4&transport=polling&t=7zu18vg9&sid={SID}"
            )),
        );
        feed(&mut tr, &mut st, 1, 26, 23, S, &http_ok(b"ok"));
        feed(&mut tr, &mut st, 2, 29, 24, S, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        let n = feed(&mut tr, &mut st, 2, 31, 25, C, &ws_text("2probe", true));
        assert_eq!(
            n[1].1,
            [SessionNote::UpgradeProbe {
                sid: SID.into(),
                polls: 2
            }]
        );
        let body = b"40{\"sid\":\"We3xv6C4MYQApbetAAAA\"}\x1e42[\"welcome\",\"hello from the Socket.IO server\"]";
        let n = feed(&mut tr, &mut st, 3, 32, 26, S, &http_ok(body));
        assert_eq!(
            n.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["http", "engineio", "socketio", "engineio", "socketio"]
        );
        feed(
            &mut tr,
            &mut st,
            4,
            42,
            30,
            C,
            &http_get(&format!(
                "/socket.io/?EIO=4&transport=polling&t=7zu1ki4u&sid={SID}"
            )),
        );
        let n = feed(&mut tr, &mut st, 2, 44, 31, S, &ws_text("3probe", false));
        assert_eq!(n[1].1, [SessionNote::UpgradeProbeAnswer { ms: 6.0 }]);
        let n = feed(&mut tr, &mut st, 4, 46, 32, S, &http_ok(b"6"));
        assert_eq!(n[1].1, [SessionNote::UpgradeNoop]);
        let n = feed(&mut tr, &mut st, 2, 51, 33, C, &ws_text("5", true));
        assert_eq!(
            n[1].1,
            [SessionNote::Upgraded {
                sid: SID.into(),
                polls: 4
            }]
        );
        feed(
            &mut tr,
            &mut st,
            2,
            56,
            40,
            C,
            &ws_text(r#"420["join","room-42"]"#, true),
        );
        let n = feed(
            &mut tr,
            &mut st,
            2,
            57,
            42,
            S,
            &ws_text(r#"430["joined room-42"]"#, false),
        );
        assert_eq!(
            n[2].1,
            [SessionNote::AckAnswers {
                event: "join".into(),
                ack_id: 0,
                frame: 56,
                ms: 2.0
            }]
        );
        // The server asks too: ids are counted per side, so id 0 again.
        feed(
            &mut tr,
            &mut st,
            2,
            68,
            50,
            S,
            &ws_text(r#"420["question","ready to leave?"]"#, false),
        );
        let n = feed(
            &mut tr,
            &mut st,
            2,
            70,
            55,
            C,
            &ws_text(r#"430["yes"]"#, true),
        );
        assert_eq!(
            n[2].1,
            [SessionNote::AckAnswers {
                event: "question".into(),
                ack_id: 0,
                frame: 68,
                ms: 5.0
            }]
        );
        feed(
            &mut tr,
            &mut st,
            2,
            71,
            56,
            C,
            &ws_text(r#"421["add",2,3]"#, true),
        );
        let s = tr.sessions().next().unwrap();
        assert_eq!(tr.sessions().count(), 1);
        assert_eq!(
            (
                s.streams.clone(),
                s.polling_streams.clone(),
                s.websocket_streams.clone()
            ),
            (vec![0, 1, 2, 3, 4], vec![0, 1, 3, 4], vec![2])
        );
        assert_eq!(
            s.upgrade,
            UpgradeDance {
                probe: Some(31),
                probe_answer: Some(44),
                noop: Some(46),
                upgrade: Some(51)
            }
        );
        assert_eq!(
            (s.transport, s.namespaces.clone()),
            (Some(EioTransport::WebSocket), vec!["/".to_string()])
        );
        assert_eq!(
            (s.ping_interval, s.ping_timeout, s.events, s.acks),
            (Some(25000), Some(20000), 4, 2)
        );
        assert!(tr.session_of(3).is_some_and(|s| s.sid == SID));
        assert_eq!(
            tr.finish(),
            [(
                71,
                SessionNote::AckNeverAnswered {
                    event: "add".into(),
                    ack_id: 1
                }
            )]
        );
    }

    #[test]
    fn heartbeats_and_websocket_only() {
        use Dir::{ClientToServer as C, ServerToClient as S};
        let mut tr = SessionTracker::new();
        let mut st = HashMap::new();
        let up = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        feed(&mut tr, &mut st, 0, 4, 0, C, up.as_bytes());
        let mut resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec();
        resp.extend(ws_text(r#"0{"sid":"UfNa9loifA1IuP-mAAAA","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#, false));
        let n = feed(&mut tr, &mut st, 0, 6, 1, S, &resp);
        assert_eq!(
            n.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["http", "websocket", "engineio"]
        );
        assert_eq!(n[2].0, "engineio");
        let n = feed(&mut tr, &mut st, 0, 8, 301, S, &ws_text("2", false));
        assert_eq!(
            n[1].1,
            [SessionNote::Heartbeat {
                ms: 300.0,
                interval: 300,
                first: true,
            }]
        );
        let n = feed(&mut tr, &mut st, 0, 9, 303, C, &ws_text("3", true));
        assert_eq!(n[1].1, [SessionNote::PongAnswers { frame: 8, ms: 2.0 }]);
        let n = feed(&mut tr, &mut st, 0, 10, 901, S, &ws_text("2", false));
        assert_eq!(
            n[1].1,
            [SessionNote::HeartbeatLate {
                ms: 600.0,
                interval: 300,
                timeout: 200,
                first: false,
            }]
        );
        assert_eq!(n[1].1[0].level(), Level::Warning);
        let n = feed(&mut tr, &mut st, 0, 11, 1200, C, &ws_text("3", true));
        assert_eq!(
            n[1].1,
            [SessionNote::PongLate {
                frame: 10,
                ms: 299.0,
                timeout: 200
            }]
        );
        let n = feed(&mut tr, &mut st, 0, 12, 1201, S, &ws_text("431[5]", false));
        assert_eq!(
            n[2].1,
            [SessionNote::AckUnmatched {
                ack_id: 1,
                namespace: "/".into()
            }]
        );
        let s = tr.sessions().next().unwrap();
        assert_eq!(
            (s.sid.as_str(), s.pings, s.pongs, s.upgraded()),
            ("UfNa9loifA1IuP-mAAAA", 2, 2, false)
        );
        assert!(tr.finish().is_empty());
        let j = serde_json::to_value(SessionNote::AckAnswers {
            event: "add".into(),
            ack_id: 1,
            frame: 60,
            ms: 1.25,
        })
        .unwrap();
        assert_eq!(
            j,
            json!({"code":"ack-answers","level":"note","event":"add","ack_id":"1","frame":"60","ms":"1.2"})
        );
    }
}
