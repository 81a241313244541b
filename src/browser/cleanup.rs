//! No Chromium or chromedriver outlives a run: every process we start is
//! registered here and killed on drop, on a panic's unwind, and on Ctrl-C.
//!
//! Killing chromedriver does not kill Chromium (measured), so sessions are closed
//! first, browsers are killed by their `goog:processID`, and Chromium itself is
//! launched through `setpriv --pdeathsig KILL` so it dies with its driver even if
//! this process is killed outright.

use std::collections::BTreeSet;
use std::sync::Mutex;

#[derive(Default)]
struct Registry {
    browsers: BTreeSet<u32>,
    drivers: BTreeSet<u32>,
    /// Test servers (nginx, Redis, PostgreSQL) the reference targets run.
    servers: BTreeSet<u32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    browsers: BTreeSet::new(),
    drivers: BTreeSet::new(),
    servers: BTreeSet::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn register_browser(pid: u32) {
    registry().browsers.insert(pid);
}

pub fn forget_browser(pid: u32) {
    registry().browsers.remove(&pid);
}

pub fn register_driver(pid: u32) {
    registry().drivers.insert(pid);
}

pub fn forget_driver(pid: u32) {
    registry().drivers.remove(&pid);
}

pub fn register_server(pid: u32) {
    registry().servers.insert(pid);
}

pub fn forget_server(pid: u32) {
    registry().servers.remove(&pid);
}

/// Kills every registered test server (on Ctrl-C, where destructors do not run).
pub fn kill_servers() {
    let servers = std::mem::take(&mut registry().servers);
    for pid in servers {
        kill(pid);
    }
    reap_orphans();
}

pub fn kill(pid: u32) {
    if pid > 1 {
        // SAFETY: kill(2) with a pid we started; a stale pid at worst gets ESRCH.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// Kills a child this process started and collects its exit status.
pub fn kill_and_wait(pid: u32) {
    kill(pid);
    if pid > 1 {
        let mut status = 0;
        // SAFETY: waitpid on our own child, which SIGKILL ends at once.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    }
}

/// Kills every registered browser, then every driver, and reaps what it can.
pub fn kill_all() {
    let (browsers, drivers) = {
        let mut r = registry();
        (
            std::mem::take(&mut r.browsers),
            std::mem::take(&mut r.drivers),
        )
    };
    for pid in browsers.into_iter().chain(drivers) {
        kill(pid);
    }
    reap_orphans();
}

/// Makes this process adopt orphaned descendants (a Chromium whose driver died),
/// so they can be reaped here instead of lingering as zombies.
pub fn become_subreaper() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only changes this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// A process as `/proc/<pid>/stat` shows it.
struct Proc {
    pid: i32,
    comm: String,
    state: char,
    ppid: String,
}

/// Every process this machine shows in `/proc`.
fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<i32>().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let mut rest = stat[close + 1..].split_whitespace();
            Some(Proc {
                pid,
                comm: stat[open + 1..close].to_string(),
                state: rest.next()?.chars().next()?,
                ppid: rest.next()?.to_string(),
            })
        })
        .collect()
}

/// Reaps exited browser and server processes (Chromium's, chromedriver's, and the
/// workers a killed PostgreSQL, Redis or nginx leaves to this subreaper) without
/// blocking. Only those, by pid: a `waitpid(-1)` would also take the exit status of a
/// child a `Command` is waiting for (a reference target's `initdb`), which then fails
/// with ECHILD.
pub fn reap_orphans() {
    let me = std::process::id().to_string();
    for p in processes() {
        let ours = ["chrom", "postgres", "redis-server", "nginx"]
            .iter()
            .any(|n| p.comm.starts_with(n));
        if p.state == 'Z' && p.ppid == me && ours {
            let mut status = 0;
            // SAFETY: non-blocking waitpid on one exited child; only collects its status.
            unsafe { libc::waitpid(p.pid, &mut status, libc::WNOHANG) };
        }
    }
}

/// Counts live (non-zombie) processes named `name`, for tests and the run summary.
pub fn count_processes(name: &str) -> usize {
    processes()
        .iter()
        .filter(|p| p.comm == name && p.state != 'Z')
        .count()
}
