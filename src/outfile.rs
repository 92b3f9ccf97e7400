//! Every file the tool writes (`-w` captures, `--report` pages, lesson progress) is
//! opened here, one way: a symbolic link in its place is refused, not followed (a
//! planted link cannot make a run truncate another file), and run through `sudo`, the
//! file belongs to the user who ran sudo, and a file already there that is not theirs
//! is refused rather than overwritten.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The user who ran `sudo`, when this process is root because of it.
fn sudo_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    match (id("SUDO_UID"), id("SUDO_GID")) {
        (Some(uid), Some(gid)) if uid != 0 => Some((uid, gid)),
        _ => None,
    }
}

fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o
}

fn give_to(file: &File, user: Option<(u32, u32)>) -> io::Result<()> {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// The reason, said after the caller's "cannot create FILE: ".
fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why.to_string())
}

/// Creates `path`, or empties it when it is already there (a regular file of the user's).
pub fn create(path: &Path) -> io::Result<File> {
    let user = sudo_user();
    match options().create_new(true).open(path) {
        Ok(f) => {
            give_to(&f, user)?;
            return Ok(f);
        }
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(nofollow(path, e)),
        Err(_) => {}
    }
    // There already: not through a link, and not someone else's file when run by sudo.
    let f = options().open(path).map_err(|e| nofollow(path, e))?;
    let meta = f.metadata()?;
    if let Some((uid, _)) = user {
        if meta.uid() != uid {
            return Err(refused(&format!(
                "it belongs to user {}, not to the user who ran sudo ({uid}): not overwritten",
                meta.uid()
            )));
        }
    }
    if meta.is_file() {
        f.set_len(0)?;
    }
    Ok(f)
}

/// O_NOFOLLOW's ELOOP, said as what happened.
fn nofollow(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        refused(&format!(
            "{} is a symbolic link: not followed (give the path of the file itself)",
            path.display()
        ))
    } else {
        e
    }
}

/// Writes `bytes` as the whole of `path`: into a temporary file of a name no one can
/// guess or plant beforehand (created new, never through a link), renamed over it.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp: PathBuf =
        path.with_file_name(format!(".{name}.{}.{nanos:09}.tmp", std::process::id()));
    let result = (|| {
        let mut f = options().create_new(true).open(&tmp)?;
        give_to(&f, sudo_user())?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_refused_and_its_target_untouched() {
        let d = std::env::temp_dir().join(format!("wirewalk-outfile-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let target = d.join("precious");
        std::fs::write(&target, b"keep me").unwrap();
        let link = d.join("out.pcap");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = create(&link).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
        // A file of one's own is emptied and written; whole writes replace it.
        let own = d.join("own.pcap");
        std::fs::write(&own, b"old contents").unwrap();
        create(&own).unwrap().write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&own).unwrap(), b"new");
        write_whole(&link, b"{}").unwrap(); // the link itself is replaced, not followed
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
        assert_eq!(std::fs::read(&link).unwrap(), b"{}");
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
