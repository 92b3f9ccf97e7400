//! Run as root without sudo (a container, a root shell), there is no user to become once
//! the capture socket is open: [`super::live::drop_privileges`] leaves such a process
//! alone, and a classroom facing a LAN would keep every capability for its whole life.
//! This sheds them instead: the bounding set (so no later `execve` gets them back), no
//! new privileges, and an empty effective, permitted and inheritable set. The user id
//! stays 0, so files root owns stay readable, but nothing root may do to others' files,
//! sockets or processes is left.
//!
//! Call it, like `drop_privileges`, before any other thread starts: capabilities belong
//! to a thread, and threads started later inherit the emptied sets.

/// Sheds every capability when the process still runs as root; says what was done.
pub fn shed_root_capabilities() -> Result<Option<String>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<libc::c_ulong>().ok())
        .unwrap_or(40);
    let failed = |what: &str| {
        Err(format!(
            "could not {what} after opening the capture socket: {}",
            std::io::Error::last_os_error()
        ))
    };
    for cap in 0..=last {
        // SAFETY: prctl with integer arguments only. EINVAL for a capability this kernel
        // does not know is harmless.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if r != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            return failed("drop the capability bounding set");
        }
    }
    // SAFETY: as above.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return failed("set no-new-privileges");
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
        version: 0x2008_0522,
        pid: 0,
    };
    let none = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset with a valid header and two data words, as version 3 wants.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, none.as_ptr()) } != 0 {
        return failed("drop capabilities");
    }
    Ok(Some(
        "running as root with no capabilities after opening the capture socket".to_string(),
    ))
}
