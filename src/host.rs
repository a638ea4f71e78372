//! Facts about this host: its name, and whether a pid is still the process
//! we think it is (Linux-first; the `/proc` start time guards against pid
//! reuse). Below every layer: the engine's leases and a local store's
//! `.partial` files both ask.

use std::sync::OnceLock;

pub fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: buf is valid for its length; gethostname NUL-terminates or truncates.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return "localhost".to_string();
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    })
}

/// Start time of a process in clock ticks since boot (field 22 of
/// `/proc/PID/stat`), or None where `/proc` is not available.
pub fn proc_start_time(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19.
    fields.get(19)?.parse().ok()
}

fn is_zombie(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s[s.rfind(')')? + 1..].trim_start().to_string();
            rest.chars().next()
        })
        .is_some_and(|c| c == 'Z' || c == 'X')
}

/// Is `pid` alive, and (when known) still the process that started at `started`?
pub fn pid_alive(pid: i64, started: Option<i64>) -> bool {
    if pid <= 0 || pid > i64::from(i32::MAX) {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists || is_zombie(pid) {
        return false;
    }
    match (started, proc_start_time(pid)) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    }
}

/// When a live process started, in milliseconds since the Unix epoch (from
/// its start time in clock ticks since boot and the boot time).
pub fn proc_started_ms(pid: i64) -> Option<i64> {
    let ticks = proc_start_time(pid)?;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return None;
    }
    Some(boot * 1000 + ticks * 1000 / hz)
}
