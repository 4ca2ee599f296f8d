//! Requests/s and p99 latency of a read route and a write route over loopback HTTP (driven by
//! `wrk`), next to the same operations called directly on the facade, in one run.
//!
//! `cargo run --release -p hxb --features api --example api_bench [-- <seconds> <connections>]`
//! (needs `wrk` on `PATH`).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Extension;
use hxb::Tenancy;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).map_or(Ok(10), |s| s.parse())?;
    let conns: usize = args.get(2).map_or(Ok(16), |s| s.parse())?;
    let (engine, base) = serve().await?;
    let t = engine.tenancy()?;

    println!("| operation | path | requests/s | p99 |");
    println!("|---|---|---:|---:|");
    let read = "/api/v1/organizations/acme/workspaces/dev/projects/web";
    let (rps, p99) = wrk(&base, read, None, secs, conns)?;
    println!("| read: get project | HTTP GET {read} | {rps:.0} | {p99} |");
    let (rps, p99) = direct(&t, secs, conns, |t, _| async move {
        t.project("acme", "dev", "web").await.map(drop)
    })
    .await?;
    println!("| read: get project | facade `Tenancy::project` | {rps:.0} | {p99:.2?} |");
    let (rps, p99) = wrk(&base, "/api/v1/graphql", Some(GRAPHQL_LUA), secs, conns)?;
    println!(
        "| read: organization → workspaces → projects (+ quotas, usage) | HTTP POST /api/v1/graphql | {rps:.0} | {p99} |"
    );

    // Each write measurement starts from a fresh engine, so neither runs on a store the
    // other filled.
    let (_engine, base) = serve().await?;
    let write = "/api/v1/organizations";
    let (rps, p99) = wrk(&base, write, Some(WRITE_LUA), secs, conns)?;
    println!("| write: create organization (+ owner) | HTTP POST {write} | {rps:.0} | {p99} |");
    let (engine, _) = serve().await?;
    let (rps, p99) = direct(&engine.tenancy()?, secs, conns, |t, i| async move {
        let name = format!("d{i}");
        t.create_organization(&name).execute().await?;
        t.add_member(&name, "owner@x")
            .role("owner")
            .execute()
            .await
            .map(drop)
    })
    .await?;
    println!("| write: create organization (+ owner) | facade builders | {rps:.0} | {p99:.2?} |");
    Ok(())
}

/// A fresh engine with `acme/dev/web` owned by `owner@x`, and the API serving it on loopback
/// with every request authenticated as `owner@x`.
async fn serve() -> Result<(hxb::Engine, String), Box<dyn std::error::Error>> {
    let engine = hxb::Engine::embedded()?;
    let t = engine.tenancy()?;
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await?;
    t.add_member("acme", "owner@x")
        .role("owner")
        .execute()
        .await?;
    t.create_workspace("acme", "dev").execute().await?;
    t.create_project("acme", "dev", "web").execute().await?;
    let app = hxb::api::router(&engine)?.layer(Extension(hxb::api::Identity::new("owner@x")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((engine, base))
}

/// The hierarchy query, failing the run on anything but a clean 200.
const GRAPHQL_LUA: &str = r#"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ organization(name: \\"acme\\") { name status workspaces { name quota { name quantity } usage { used { name quantity } } projects { name namespace usage { used { name quantity } } } } } }"}'
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then error("unexpected answer " .. status .. ": " .. body) end
end
"#;

/// Each wrk connection posts organizations `w<thread>x<n>`.
const WRITE_LUA: &str = r#"
threads = 0
counter = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
request = function()
  counter = counter + 1
  local body = '{"name":"w' .. id .. 'x' .. counter .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status ~= 201 then error("unexpected status " .. status .. ": " .. body) end
end
"#;

/// Run wrk; requests/s and the p99 as wrk prints it.
fn wrk(
    base: &str,
    path: &str,
    lua: Option<&str>,
    secs: u64,
    conns: usize,
) -> Result<(f64, String), Box<dyn std::error::Error>> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    let script = std::env::temp_dir().join(format!("hxb-api-bench-{}.lua", std::process::id()));
    if let Some(l) = lua {
        std::fs::write(&script, l)?;
        cmd.arg("-s").arg(&script);
    }
    let out = cmd.arg(format!("{base}{path}")).output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_file(&script);
    if text.contains("Non-2xx") || !out.status.success() {
        return Err(format!(
            "wrk saw errors:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()))
            .ok_or_else(|| format!("no {prefix:?} in wrk output:\n{text}"))
    };
    let rps: f64 = field("Requests/sec:")?.parse()?;
    Ok((rps, field("99%")?))
}

/// `conns` tasks calling `op` for `secs`; operations/s and the p99 latency.
async fn direct<F, Fut>(t: &Tenancy, secs: u64, conns: usize, op: F) -> hxb::Result<(f64, Duration)>
where
    F: Fn(Tenancy, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = hxb::Result<()>> + Send,
{
    let seq = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (t, seq) = (t.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let i = seq.fetch_add(1, Ordering::Relaxed);
                let s = Instant::now();
                op(t.clone(), i).await?;
                lat.push(s.elapsed());
            }
            Ok::<_, hxb::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(
            task.await
                .map_err(|e| hxb::Error::internal(e.to_string()))??,
        );
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    Ok((all.len() as f64 / elapsed, p99))
}
