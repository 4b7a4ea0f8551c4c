//! What the benchmarks share: a server on a free port, and CPU time read from `/proc`.

use std::time::Duration;

/// CPU time of this process's threads whose name starts with `prefix`.
pub fn threads_cpu(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("stat"))
                .is_ok_and(|stat| stat_name(&stat).is_some_and(|n| n.starts_with(prefix)))
        })
        .map(|t| cpu_of(&t.path()))
        .sum()
}

/// CPU time of every process named `name`.
pub fn processes_cpu(name: &str) -> Duration {
    let Ok(all) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    all.flatten()
        .filter(|p| {
            p.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|p| {
            std::fs::read_to_string(p.path().join("stat"))
                .is_ok_and(|stat| stat_name(&stat) == Some(name))
        })
        .map(|p| cpu_of(&p.path()))
        .sum()
}

/// CPU time of a task or process directory of `/proc`: from `schedstat` (nanoseconds) where
/// the kernel keeps it, else from `stat` (10 ms ticks).
fn cpu_of(dir: &std::path::Path) -> Duration {
    let exact = std::fs::read_to_string(dir.join("schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
    match exact {
        Some(ns) => Duration::from_nanos(ns),
        None => std::fs::read_to_string(dir.join("stat"))
            .map(|stat| stat_cpu(&stat))
            .unwrap_or_default(),
    }
}

fn stat_name(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

/// utime + stime of a `/proc/.../stat` line, at the usual 100 ticks a second.
fn stat_cpu(stat: &str) -> Duration {
    let after = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the line; 3 is the first after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Serves the real router of `ctx` on a free port of 127.0.0.1 from the current runtime; its
/// address.
pub async fn serve(ctx: attn::Ctx) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("attn")
        .site_root("target/site")
        .build();
    let header_read = ctx.config.header_read;
    let router = server::router(ctx, options).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let serving = server::serve(listener, router, header_read, std::future::pending());
        if let Err(error) = serving.await {
            eprintln!("server stopped: {error}");
        }
    });
    Ok(format!("http://{addr}"))
}
