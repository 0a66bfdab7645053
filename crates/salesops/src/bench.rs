//! `salesops bench http`: a bounded load test of signed-in pages and API lists against a real
//! server on 127.0.0.1, with a tiny keep-alive HTTP/1.1 client so no extra dependency is needed.
//! Prints latency percentiles and throughput per endpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Target {
    pub name: String,
    pub path: String,
    pub cookie: String,
}

pub struct Figures {
    pub name: String,
    pub requests: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Figures {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// One GET on a kept-alive connection; returns the status code.
async fn get(stream: &mut TcpStream, host: &str, path: &str, cookie: &str, buf: &mut Vec<u8>) -> Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept: */*\r\n\r\n");
    stream.write_all(req.as_bytes()).await?;
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok()).flatten()
        })
        .context("response without content-length")?;
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed mid-body");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

/// Sends `requests` GETs over `concurrency` connections (stopping early after `max`).
pub async fn run(
    addr: std::net::SocketAddr,
    t: &Target,
    concurrency: usize,
    requests: usize,
    max: Duration,
) -> Result<Figures> {
    let host = addr.to_string();
    let remaining = Arc::new(std::sync::atomic::AtomicIsize::new(requests as isize));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (host, path, cookie, remaining) = (host.clone(), t.path.clone(), t.cookie.clone(), remaining.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&host).await?;
            stream.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(64 * 1024);
            let mut lat = vec![];
            while remaining.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) > 0 && started.elapsed() < max {
                let t0 = Instant::now();
                let status = get(&mut stream, &host, &path, &cookie, &mut buf).await?;
                if status != 200 {
                    bail!("{path} answered {status}");
                }
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = vec![];
    for task in tasks {
        all.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all.get(((all.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    Ok(Figures {
        name: t.name.clone(),
        requests: all.len(),
        seconds,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        max_ms: all.last().copied().unwrap_or(0.0),
    })
}
