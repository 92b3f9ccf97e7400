//! The scenario file format (TOML), read with serde. `scenarios/README.md` documents it
//! for teachers; unknown keys are refused so that a typo gets a clear message.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// One line saying what the scenario shows.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub client: HostSpec,
    #[serde(default)]
    pub server: HostSpec,
    /// The steps, in order (`[[step]]` tables).
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
}

/// One host: its name in captions, its addresses, what its TCP offers.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: Option<String>,
    pub mac: Option<String>,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    /// TCP ports this host listens on; a SYN to any other port is answered with RST.
    #[serde(default)]
    pub listen: Vec<u16>,
    /// Maximum segment size announced in the SYN (default 1460, or 1440 over IPv6).
    pub mss: Option<u16>,
    /// Receive window in bytes (default 64240).
    pub window: Option<u32>,
    /// Window scale shift offered (default 7; 0 leaves the option out).
    pub window_scale: Option<u8>,
    /// Offer SACK (default true).
    pub sack: Option<bool>,
    /// Offer TCP timestamps (default true).
    pub timestamps: Option<bool>,
    /// IPv4 time to live / IPv6 hop limit (default 64).
    pub ttl: Option<u8>,
}

/// One step. `do` says which; the other keys depend on it (see scenarios/README.md).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(rename = "do")]
    pub action: String,
    /// `client` or `server` (`both` for a simultaneous `close`).
    pub who: Option<String>,
    /// Which connection (the `id` given to its `connect`); default: the latest.
    pub conn: Option<String>,
    /// Think time before this step, in milliseconds (default: about a millisecond).
    pub after_ms: Option<f64>,
    /// Words added to the caption of the step's first packet.
    pub note: Option<String>,

    // connect
    pub id: Option<String>,
    /// Server port to connect to.
    pub port: Option<u16>,
    /// Client's port (default: an ephemeral port from the seed).
    pub client_port: Option<u16>,
    /// `tcp` (default) or `udp`.
    pub transport: Option<String>,

    // wait
    pub ms: Option<f64>,

    // lose
    pub count: Option<u32>,

    // send: exactly one of text, hex, http, websocket, engineio, socketio, dns
    pub text: Option<String>,
    pub hex: Option<String>,
    pub http: Option<String>,
    pub websocket: Option<String>,
    pub engineio: Option<String>,
    pub socketio: Option<String>,
    pub dns: Option<String>,

    // http
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Extra headers, as `[["Name", "value"], …]`.
    pub headers: Option<Vec<[String; 2]>>,
    pub body: Option<String>,

    // websocket / engineio
    pub data: Option<String>,
    pub data_hex: Option<String>,
    pub code: Option<u16>,
    /// Split a data message into this many frames (continuation frames).
    pub fragments: Option<u32>,

    // socketio
    pub namespace: Option<String>,
    pub event: Option<String>,
    /// The JSON array of arguments (for an event, without the event name).
    pub args: Option<String>,
    pub ack_id: Option<u64>,
    /// Binary attachments, as text.
    pub attachments: Option<Vec<String>>,

    // dns
    pub name: Option<String>,
    pub qtype: Option<String>,
    pub address: Option<String>,
    pub ttl: Option<u32>,
}

/// Parses a scenario file's text.
pub fn parse(text: &str) -> Result<ScenarioFile, String> {
    toml::from_str(text).map_err(|e| {
        e.to_string()
            .lines()
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string()
    })
}
