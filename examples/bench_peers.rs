//! `ci/bench-peers`: our TLS version probe beside sslscan and `testssl -p`, and our token
//! analysis beside rngtest and ent, on the same fixtures in one run: each tool's verdict,
//! its time, and the ratios. A benchmark, not a test.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sessiondrill::checks::entropy;
use sessiondrill::probe::tls::{self, Answer, Endpoint, Legacy};
use sessiondrill::refapp::servers;

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Runs per timing of the fast tools (testssl, at seconds a run, runs once).
const RUNS: usize = 5;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn run(cmd: &str, args: &[&str], stdin: Option<&[u8]>) -> Option<String> {
    use std::io::Write;
    let mut c = Command::new(cmd);
    c.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if stdin.is_some() {
        c.stdin(std::process::Stdio::piped());
    }
    let mut child = c.spawn().ok()?;
    if let (Some(data), Some(mut i)) = (stdin, child.stdin.take()) {
        let _ = i.write_all(data);
    }
    let out = child.wait_with_output().ok()?;
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "TLS versions (Debian nginx; legacy: TLSv1..1.3 with DEFAULT:@SECLEVEL=0, modern: TLSv1.2 TLSv1.3)"
    );
    println!(
        "{:<10} {:<12} {:>10}  {:<12} {:>10}  {:<12} {:>10}  ratio sslscan/ours",
        "fixture", "ours", "time", "sslscan", "time", "testssl -p", "time"
    );
    let c = rcgen::generate_simple_self_signed(vec!["bench.test".into()])?;
    for (fixture, with_legacy) in [("legacy", true), ("modern", false)] {
        let nginx = servers::nginx_tls(
            9,
            "bench.test",
            &c.cert.pem(),
            &c.signing_key.serialize_pem(),
            with_legacy,
        )
        .await?;
        let ep = Endpoint {
            host: "bench.test".into(),
            port: nginx.port,
        };
        // Both versions probed at once, as the step does; the median of five runs.
        let mut legacy = false;
        let mut ours = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let answers =
                futures::future::join_all(Legacy::ALL.iter().map(|v| tls::probe_legacy(&ep, *v)))
                    .await;
            ours.push(t.elapsed());
            legacy = false;
            for a in answers {
                legacy |= matches!(a?, Answer::Accepted { .. });
            }
        }
        let ours = median(ours);
        let target = format!("127.0.0.1:{}", nginx.port);
        let mut scans = Vec::new();
        for _ in 0..RUNS {
            scans.push(timed(|| {
                run(
                    "sslscan",
                    &[
                        "--no-colour",
                        "--no-cipher-details",
                        "--no-ciphersuites",
                        "--no-groups",
                        "--no-heartbleed",
                        "--no-renegotiation",
                        "--no-compression",
                        "--no-fallback",
                        "--no-check-certificate",
                        &target,
                    ],
                    None,
                )
            }));
        }
        let scan_t = median(scans.iter().map(|(_, t)| *t).collect());
        let scan = scans.pop().and_then(|(s, _)| s);
        let scan_legacy = scan.as_deref().map(|s| {
            s.lines()
                .any(|l| (l.contains("TLSv1.0") || l.contains("TLSv1.1")) && l.contains("enabled"))
        });
        let (tssl, tssl_t) =
            timed(|| run("testssl", &["-p", "--quiet", "--color", "0", &target], None));
        let tssl_legacy = tssl.as_deref().map(|s| {
            s.lines().any(|l| {
                (l.contains("TLS 1 ") || l.contains("TLS 1.1"))
                    && l.contains("offered")
                    && !l.contains("not offered")
            })
        });
        let v =
            |b: Option<bool>| b.map_or("not run", |b| if b { "legacy on" } else { "legacy off" });
        println!(
            "{:<10} {:<12} {:>8.1}ms  {:<12} {:>8.0}ms  {:<12} {:>8.0}ms  {:.0}x",
            fixture,
            v(Some(legacy)),
            ours.as_secs_f64() * 1e3,
            v(scan_legacy),
            scan_t.as_secs_f64() * 1e3,
            v(tssl_legacy),
            tssl_t.as_secs_f64() * 1e3,
            scan_t.as_secs_f64() / ours.as_secs_f64().max(1e-6)
        );
        drop(nginx);
    }

    println!("\nToken analysis, 20,000 tokens of 32 bytes (base64url)");
    println!(
        "{:<14} {:<22} {:>8}  {:<22} {:>8}  {:<22} {:>8}",
        "fixture",
        "ours (effective bits)",
        "time",
        "rngtest (FIPS)",
        "time",
        "ent (bits/byte)",
        "time"
    );
    type Gen = fn(u64) -> [u8; 32];
    let fixtures: [(&str, Gen); 3] = [
        ("random", |_| {
            let mut b = [0u8; 32];
            rand::fill(&mut b[..]);
            b
        }),
        ("counter", |i| {
            let mut b = [0u8; 32];
            b[24..].copy_from_slice(&(0x5eed_0000_0000 + i).to_be_bytes());
            b
        }),
        ("64-bit", |_| {
            let mut b = [0xa5u8; 32];
            rand::fill(&mut b[..8]);
            b
        }),
    ];
    for (name, gen_token) in fixtures {
        let raw: Vec<[u8; 32]> = (0..entropy::FIPS_BLOCK as u64).map(gen_token).collect();
        let tokens: Vec<String> = raw
            .iter()
            .map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
            .collect();
        let (a, ours) = timed(|| entropy::analyse(&tokens));
        let verdict = if entropy::judge(&a).holds() {
            "ok"
        } else {
            "weak"
        };
        let bytes: Vec<u8> = raw.iter().flatten().copied().collect();
        let (rng, rng_t) = timed(|| run("rngtest", &[], Some(&bytes)));
        let rng_v = rng.as_deref().map(|s| {
            let fails = s
                .lines()
                .find(|l| l.contains("FIPS 140-2 failures"))
                .and_then(|l| l.rsplit(':').next())
                .and_then(|n| n.trim().parse::<u32>().ok())
                .unwrap_or(0);
            if fails > 0 {
                format!("weak ({fails} blocks fail)")
            } else {
                "ok".into()
            }
        });
        let (ent, ent_t) = timed(|| run("ent", &[], Some(&bytes)));
        let ent_v = ent
            .as_deref()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Entropy = "))
                    .and_then(|l| l.split_whitespace().nth(2))
                    .and_then(|x| x.parse::<f64>().ok())
            })
            .map(|e| format!("{} ({e:.3})", if e < 7.9 { "weak" } else { "ok" }));
        println!(
            "{:<14} {:<22} {:>6.0}ms  {:<22} {:>6.0}ms  {:<22} {:>6.0}ms",
            name,
            format!("{verdict} ({})", a.effective_bits),
            ours.as_secs_f64() * 1e3,
            rng_v.unwrap_or_else(|| "not run".into()),
            rng_t.as_secs_f64() * 1e3,
            ent_v.unwrap_or_else(|| "not run".into()),
            ent_t.as_secs_f64() * 1e3,
        );
    }
    alphabets();
    Ok(())
}

/// Our analysis of 20,000 tokens in each alphabet real frameworks use, random and with 64
/// random characters' worth of bits: the alphabet read, the verdict, the time. rngtest and
/// ent read bytes, which base36, base58 and base62 text is not, so they have no row here.
fn alphabets() {
    use entropy::Alphabet;
    println!(
        "\nToken analysis per alphabet, 20,000 tokens (ours only: rngtest and ent read bytes)"
    );
    println!(
        "{:<12} {:<8} {:<10} {:>5} {:>10} {:>8} {:>8}",
        "alphabet", "fixture", "read as", "bits", "effective", "verdict", "time"
    );
    let make = |a: Alphabet, len: usize, random: usize| -> Vec<String> {
        (0..entropy::FIPS_BLOCK)
            .map(|_| entropy::alphabet::sample_token(a, len, random))
            .collect()
    };
    let cases = [
        (Alphabet::Hex, 32, 16),
        (Alphabet::Base32, 32, 13),
        (Alphabet::Base32Hex, 32, 13),
        (Alphabet::Base36, 32, 13),
        (Alphabet::Base58, 24, 11),
        (Alphabet::Base62, 32, 11),
        (Alphabet::Php6, 26, 11),
    ];
    for (a, len, short) in cases {
        for (fixture, random) in [("random", len), ("64-bit", short)] {
            let tokens = make(a, len, random);
            let (analysis, took) = timed(|| entropy::analyse(&tokens));
            let v = entropy::judge(&analysis);
            println!(
                "{:<12} {:<8} {:<10} {:>5} {:>10} {:>8} {:>6.0}ms",
                a.name(),
                fixture,
                analysis.alphabet.map_or("?", Alphabet::name),
                analysis.bits,
                analysis.effective_bits,
                if v.holds() { "ok" } else { "weak" },
                took.as_secs_f64() * 1e3
            );
        }
    }
    let uuids: Vec<String> = (0..entropy::FIPS_BLOCK)
        .map(|_| entropy::alphabet::uuid_v4())
        .collect();
    let (analysis, took) = timed(|| entropy::analyse(&uuids));
    println!(
        "{:<12} {:<8} {:<10} {:>5} {:>10} {:>8} {:>6.0}ms",
        "uuid v4",
        "random",
        analysis.alphabet.map_or("?", Alphabet::name),
        analysis.bits,
        analysis.effective_bits,
        if entropy::judge(&analysis).holds() {
            "ok"
        } else {
            "weak"
        },
        took.as_secs_f64() * 1e3
    );
}
