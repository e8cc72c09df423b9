//! Shared helpers for integration tests: start the real `diming` binary on a free loopback
//! port, and find the PostGIS that `.ci/run` started.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real data (`../shared/data`).
pub fn shared() -> PathBuf {
    root().join("../shared/data")
}

/// A running `diming serve`; killed on drop.
pub struct Server {
    pub base: String,
    child: Child,
    pub stderr_lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `diming serve --bind 127.0.0.1:<free> <extra args>` with `env` and waits until
/// `/healthz` answers (up to 120 s).
pub fn spawn_server_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_diming"));
    cmd.current_dir(root())
        .arg("serve")
        .arg("--bind")
        .arg(&bind)
        .args(extra);
    cmd.env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start diming");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[diming] {line}");
            let _ = tx.send(line);
        }
    });
    let base = format!("http://{bind}");
    let t0 = Instant::now();
    let client = reqwest::blocking::Client::new();
    let mut lines = Vec::new();
    loop {
        while let Ok(l) = rx.try_recv() {
            lines.push(l);
        }
        if let Ok(r) = client.get(format!("{base}/healthz")).send() {
            if r.status().is_success() {
                break;
            }
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("diming exited early with {st}: {lines:?}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "server did not come up: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    Server {
        base,
        child,
        stderr_lines: lines,
    }
}

pub fn spawn_server(extra: &[&str]) -> Server {
    spawn_server_env(extra, &[])
}

/// URL of the PostGIS started by `.ci/run` (`DIMING_TEST_DATABASE_URL`). Tests that need
/// PostGIS fail loudly without it: run them through `bash .ci/run`, or start one with
/// `PGPORT=54330 PGROOT=/tmp/pg-me bash ../shared/ci/pg.sh start` and export the URL.
pub fn pg_url() -> String {
    std::env::var("DIMING_TEST_DATABASE_URL").expect(
        "DIMING_TEST_DATABASE_URL is not set: PostGIS tests need the database that .ci/run starts",
    )
}

/// Runs a `diming` subcommand, returning (exit success, stdout, stderr).
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_diming"));
    cmd.current_dir(root())
        .args(args)
        .env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run diming");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
