//! Real servers from Debian that reference targets put in front of or beside the
//! stand-ins: nginx with legacy TLS, Redis and PostgreSQL as session stores, each once
//! open and once locked. Each runs from its own temporary directory on a loopback port,
//! is killed by PID when dropped (and on Ctrl-C), and dies with this process.

use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::browser::cleanup;
use crate::probe::store::{self, Answer, Store};

/// Debian packages these servers come from, for the error when one is missing.
pub const PACKAGES: &str = "nginx-light redis-server postgresql";

/// A running server; dropping it kills it and removes its directory.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    pid: u32,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        cleanup::kill_and_wait(self.pid);
        cleanup::forget_server(self.pid);
        cleanup::reap_orphans();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on port {} (pid {})", self.name, self.port, self.pid)
    }
}

fn free_port() -> anyhow::Result<u16> {
    crate::loopback::free_port().context("no free loopback port")
}

fn workdir(name: &str) -> anyhow::Result<PathBuf> {
    let hex = crate::secret::random_hex(6);
    let dir =
        std::env::temp_dir().join(format!("sessiondrill-{name}-{}-{hex}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Finds a program on PATH or at one of `fallbacks`.
fn program(name: &str, fallbacks: &[&str]) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name));
    let globbed = fallbacks.iter().flat_map(|f| glob_dirs(f, name));
    on_path
        .chain(globbed)
        .find(|p| p.is_file())
        .with_context(|| format!("{name} is not installed: sudo apt-get install -y {PACKAGES}"))
}

/// `/usr/lib/postgresql/*/bin`-style fallbacks: the newest version directory first.
fn glob_dirs(pattern: &str, name: &str) -> Vec<PathBuf> {
    let Some((base, rest)) = pattern.split_once("/*/") else {
        return vec![Path::new(pattern).join(name)];
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(base)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join(rest).join(name))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.reverse();
    dirs
}

/// Runs `cmd` so it dies with this process, and registers it for Ctrl-C.
fn spawn(name: &'static str, mut cmd: Command, port: u16, dir: PathBuf) -> anyhow::Result<Server> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log"))?);
    // SAFETY: prctl in the child before exec; asks the kernel to kill it with its parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
    let pid = child.id();
    cleanup::register_server(pid);
    Ok(Server {
        name,
        port,
        pid,
        dir,
    })
}

/// Waits until `ready` says yes, or fails with the server's own log.
async fn wait_ready(server: &Server, ready: impl AsyncFn() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if ready().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(server.dir.join("stderr.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(8).collect();
    bail!(
        "{} did not become ready within 20 s; its log ends:\n{}",
        server.name,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}

/// nginx terminating TLS 1.0 to 1.3 with every cipher OpenSSL still has, in front of
/// `upstream` (the stand-in's own HTTPS port). Without `@SECLEVEL=0` Debian's OpenSSL 3
/// answers alert 80 and does not really offer TLS 1.0.
pub async fn nginx_legacy_tls(
    upstream: u16,
    host: &str,
    cert_pem: &str,
    key_pem: &str,
) -> anyhow::Result<Server> {
    nginx_tls(upstream, host, cert_pem, key_pem, true).await
}

/// nginx in front of `upstream`: with every protocol and cipher when `legacy`, else with
/// nginx's defaults narrowed to TLS 1.2 and 1.3 (the benchmark's control fixture).
pub async fn nginx_tls(
    upstream: u16,
    host: &str,
    cert_pem: &str,
    key_pem: &str,
    legacy: bool,
) -> anyhow::Result<Server> {
    let (protocols, ciphers) = if legacy {
        ("TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", "DEFAULT:@SECLEVEL=0")
    } else {
        ("TLSv1.2 TLSv1.3", "HIGH:!aNULL:!MD5")
    };
    let nginx = program("nginx", &["/usr/sbin"])?;
    let dir = workdir("nginx")?;
    let port = free_port()?;
    std::fs::write(dir.join("cert.pem"), cert_pem)?;
    std::fs::write(dir.join("key.pem"), key_pem)?;
    let d = dir.display();
    let conf = format!(
        r#"master_process off;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name {host};
    ssl_certificate {d}/cert.pem;
    ssl_certificate_key {d}/key.pem;
    ssl_protocols {protocols};
    ssl_ciphers '{ciphers}';
    location / {{
      proxy_pass https://127.0.0.1:{upstream};
      proxy_ssl_server_name on;
      proxy_ssl_name {host};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }}
  }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let mut cmd = Command::new(nginx);
    cmd.arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .args(["-g", "daemon off;"]);
    let server = spawn("nginx", cmd, port, dir)?;
    wait_ready(&server, async || {
        tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
    })
    .await?;
    Ok(server)
}

async fn answers(s: &Store, locked: bool) -> bool {
    matches!(
        (store::probe(s).await, locked),
        (Ok(Answer::Refused(_)), true) | (Ok(Answer::Open(_)), false)
    )
}

/// redis-server on loopback, with `requirepass` unless `open`.
pub async fn redis(open: bool) -> anyhow::Result<(Server, Store)> {
    let bin = program("redis-server", &["/usr/bin"])?;
    let dir = workdir("redis")?;
    let port = free_port()?;
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(&dir);
    if !open {
        let pw = crate::secret::random_hex(16);
        cmd.args(["--requirepass", &pw]);
    }
    let server = spawn("redis-server", cmd, port, dir)?;
    let s = Store::parse(&format!("redis://127.0.0.1:{port}")).map_err(anyhow::Error::msg)?;
    wait_ready(&server, async || answers(&s, !open).await).await?;
    Ok((server, s))
}

/// PostgreSQL on loopback: `trust` when `open`, else SCRAM with a random password.
/// PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
pub async fn postgres(open: bool) -> anyhow::Result<(Server, Store)> {
    const BINS: &[&str] = &["/usr/lib/postgresql/*/bin"];
    let initdb = program("initdb", BINS)?;
    // The server of the same major version as initdb, which wrote the data directory.
    let postgres = initdb
        .parent()
        .map(|d| d.join("postgres"))
        .filter(|p| p.is_file())
        .map_or_else(|| program("postgres", BINS), Ok)?;
    let dir = workdir("postgres")?;
    // SAFETY: getuid has no preconditions.
    let as_root = unsafe { libc::getuid() } == 0;
    let run_as = |bin: &Path| {
        if as_root {
            let mut c = Command::new("setpriv");
            // A change of user clears the parent-death signal; setpriv sets it again after.
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--pdeathsig",
                "KILL",
            ])
            .arg(bin);
            c
        } else {
            Command::new(bin)
        }
    };
    let pw = crate::secret::random_hex(16);
    std::fs::write(dir.join("pw"), &pw)?;
    // initdb takes seconds: on the blocking pool, so the reference targets and checks that
    // share this runtime (the self-check's concurrent runs) keep answering meanwhile.
    let (init, data) = (run_as(&initdb), dir.clone());
    tokio::task::spawn_blocking(move || init_data_dir(init, &data, as_root, open))
        .await
        .context("initdb did not finish")??;
    // Picked after initdb, so the seconds it takes are not a window for the port to go.
    let port = free_port()?;
    let mut cmd = run_as(&postgres);
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args(["-c", "fsync=off"]);
    let server = spawn("postgres", cmd, port, dir)?;
    let s = Store::parse(&format!("postgres://127.0.0.1:{port}")).map_err(anyhow::Error::msg)?;
    wait_ready(&server, async || answers(&s, !open).await).await?;
    Ok((server, s))
}

/// `chown` (as root) and `initdb` for a fresh data directory in `dir`; blocks.
fn init_data_dir(mut initdb: Command, dir: &Path, as_root: bool, open: bool) -> anyhow::Result<()> {
    if as_root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()?;
        if !status.success() {
            bail!("cannot hand {} to the postgres user", dir.display());
        }
    }
    let auth = if open { "trust" } else { "scram-sha-256" };
    let out = initdb
        .arg("-D")
        .arg(dir.join("data"))
        .args([
            "-U",
            "postgres",
            "-A",
            auth,
            "--no-sync",
            "--no-instructions",
        ])
        .arg(format!("--pwfile={}", dir.join("pw").display()))
        .stdin(Stdio::null())
        .output()
        .context("cannot run initdb")?;
    if !out.status.success() {
        bail!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn redis_open_and_locked_answer_as_probed() {
        let (open, s) = redis(true).await.unwrap();
        assert!(matches!(store::probe(&s).await, Ok(Answer::Open(_))));
        let (locked, s2) = redis(false).await.unwrap();
        assert!(matches!(store::probe(&s2).await, Ok(Answer::Refused(_))));
        drop((open, locked));
        assert!(
            store::probe(&s).await.is_err(),
            "the server outlived its drop"
        );
    }

    #[tokio::test]
    async fn postgres_open_and_locked_answer_as_probed() {
        let (open, s) = postgres(true).await.unwrap();
        assert!(matches!(store::probe(&s).await, Ok(Answer::Open(_))));
        let (locked, s2) = postgres(false).await.unwrap();
        assert!(matches!(store::probe(&s2).await, Ok(Answer::Refused(_))));
        drop((open, locked));
        assert!(
            store::probe(&s2).await.is_err(),
            "the server outlived its drop"
        );
    }

    #[tokio::test]
    async fn nginx_speaks_tls_1_0_to_the_hand_written_hello() {
        use crate::probe::tls::{self, Endpoint, Legacy, Modern};
        let c = rcgen::generate_simple_self_signed(vec!["legacy.test".into()]).unwrap();
        let server = nginx_legacy_tls(
            9,
            "legacy.test",
            &c.cert.pem(),
            &c.signing_key.serialize_pem(),
        )
        .await
        .unwrap();
        let ep = Endpoint {
            host: "legacy.test".into(),
            port: server.port,
        };
        let started = Instant::now();
        for v in Legacy::ALL {
            let a = tls::probe_legacy(&ep, v).await.unwrap();
            assert!(
                matches!(a, tls::Answer::Accepted { version, .. } if version == v.wire()),
                "{v:?}: {a:?}"
            );
        }
        eprintln!("two legacy probes: {:?}", started.elapsed());
        let h = tls::handshake(&ep, Modern::Tls12).await.unwrap();
        assert!(h.completed.is_ok(), "{h:?}");
        assert_eq!(h.chain.len(), 1);
    }
}
