//! Across frames: conversations, TCP state, reassembly, and the application protocols
//! (HTTP, WebSocket, Engine.IO, Socket.IO) decoded from the reassembled byte streams.

pub mod app;
pub mod http;
pub mod websocket;
