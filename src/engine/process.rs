//! Killing process groups, who is acting, and tokens. Whether a pid is still
//! the process we think it is lives in `crate::host`, re-exported here.

pub use crate::host::{hostname, pid_alive, proc_start_time};

/// Sends `signal` to every process of group `pgid`. Returns false if no such group.
pub fn kill_group(pgid: i64, signal: i32) -> bool {
    if pgid <= 1 || pgid > i64::from(i32::MAX) {
        return false;
    }
    // SAFETY: plain syscall; a negative pid addresses the process group.
    unsafe { libc::kill(-(pgid as libc::pid_t), signal) == 0 }
}

/// Does any process of group `pgid` still exist?
pub fn group_alive(pgid: i64) -> bool {
    if pgid <= 1 || pgid > i64::from(i32::MAX) {
        return false;
    }
    // SAFETY: signal 0 only checks.
    let rc = unsafe { libc::kill(-(pgid as libc::pid_t), 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Kills a process group that a dead owner left behind, if it is still the
/// group we recorded: its leader (pid = pgid) must still be the same process,
/// or be gone while members remain.
pub fn kill_orphaned_group(pgid: i64, leader_start: Option<i64>) {
    let leader_same = pid_alive(pgid, leader_start);
    let leader_gone = !pid_alive(pgid, None);
    if leader_same || (leader_gone && group_alive(pgid)) {
        kill_group(pgid, libc::SIGKILL);
    }
}

/// Who is acting, for the journal: `$USER@host`.
pub fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .or_else(login_name)
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", hostname())
}

/// The account name of this process's user (cron often sets no USER).
fn login_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; the
    // name is copied out at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_str()
            .ok()
            .map(String::from)
    }
}

/// A random hex token (128 bits from the std hasher's random keys, time and pid).
pub fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u32(std::process::id());
        h.write_i64(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_with_its_start_time() {
        let pid = i64::from(std::process::id());
        let start = proc_start_time(pid);
        assert!(start.is_some());
        assert!(pid_alive(pid, start));
        assert!(
            !pid_alive(pid, start.map(|s| s + 1)),
            "pid reuse must not pass"
        );
    }

    #[test]
    fn a_reaped_child_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        assert!(!pid_alive(pid, None));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 32);
    }
}
