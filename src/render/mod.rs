//! Output: everything that writes, to a `Write` it is given.

pub mod pcap_out;
