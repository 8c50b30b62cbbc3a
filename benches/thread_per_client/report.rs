//! The report: medians of the rounds, the table, and where it is written.

use std::fmt::Write as _;
use std::thread;
use std::time::Duration;

use socket_lesson::crowd::Report;

use crate::java::Java;
use crate::process::{open_file_limit, UNITS};
use crate::{first_line, pool_workers, Process, Sample, Target, SAMPLE_EVERY, WORKLOADS};

/// The load average over 1, 5 and 15 minutes, as /proc/loadavg says it.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The median of `values`, or `None` if there are none.
pub(crate) fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

pub(crate) fn show(value: Option<u64>) -> String {
    value.map_or("-".to_string(), |value| value.to_string())
}

pub(crate) fn show_f64(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".to_string(), |value| format!("{value:.decimals$}"))
}

pub(crate) fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

pub(crate) fn signed_mib(kib: i64) -> String {
    format!("{:+.1} MiB", kib as f64 / 1024.0)
}

/// A time-out as the table says it: `10 s`, `0.1 s`.
pub(crate) fn seconds(timeout: Duration) -> String {
    format!("{} s", timeout.as_secs_f64())
}

/// How the clients of `runs` ended: each outcome that any run had, with the
/// lowest and highest count where the runs differ (`500 served`,
/// `98–130 served, 370–402 starved`).
pub(crate) fn outcome(runs: &[&Sample]) -> String {
    type Count = fn(&Report) -> usize;
    let outcomes: [(&str, Count); 4] = [
        ("served", |report| report.served),
        ("starved", |report| report.starved),
        ("stalled", |report| report.stalled),
        ("connect timed out", |report| report.connect_timed_out),
    ];
    let mut parts = Vec::new();
    for (name, count) in outcomes {
        let counts = runs.iter().map(|sample| count(&sample.report));
        let (low, high) = (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0));
        if high == 0 && name != "served" {
            continue;
        }
        parts.push(if low == high {
            format!("{low} {name}")
        } else {
            format!("{low}–{high} {name}")
        });
    }
    parts.join(", ")
}

/// The Markdown table of medians, with the ratios.
pub(crate) fn table(samples: &[(usize, Target, Sample)], rounds: usize, java: &Java, load: &str) -> String {
    let workers = pool_workers();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark: one thread per client, a pool, tasks\n");
    let virtual_threads = match &java.virtual_threads {
        Ok(jdk) => format!("{} for the virtual threads", jdk.version),
        Err(why) => format!("Java virtual threads not measured: {why}"),
    };
    let _ = writeln!(
        out,
        "Written by `cargo bench --bench thread_per_client` ({rounds} rounds, interleaved; medians). \
         Machine: {} cores, {}; {}; {}; {virtual_threads}. {load}\n",
        thread::available_parallelism().map_or(0, |cores| cores.get()),
        first_line("uname", &["-sr"]),
        first_line("rustc", &["--version"]),
        first_line("java", &["-version"]),
    );
    let _ = writeln!(
        out,
        "The servers: server-v3; the same design in Java; **pool**, server-v3's `pool` example with \
         {workers} workers (8 per core), the clients beyond them waiting in the kernel's accept queue; \
         **shutdown**, server-v3's `shutdown` example, which is server-v3's accept loop and sessions \
         (without its session limit) plus the registry of sessions its orderly shutdown needs (per session, a second descriptor for the connection and an insert \
         and a removal in a locked map; at each accept, a pass over the list of session threads), \
         measured at 500 × 100, the rounds' most sessions at once; **tokio**, server-v3's `tokio` \
         example, a task per client, on tokio's multi-thread runtime (a worker thread per core) and on \
         its current-thread runtime (every task on one thread); **Java virtual threads**, the Java \
         design with `Thread.ofVirtual()` instead of `new Thread()` (benches/java/\
         VirtualThreadServer.java, the same session); and the floor, a thread in the \
         benchmark's own process answering the same frames with nothing else to do. shutdown is not in \
         the connections-at-once runs: there it would show only that its registry's second descriptor \
         per connection needs twice server-v3's open files (this machine's limit per process, before \
         those runs: {}). Each run is on \
         a fresh server, after a warm-up with a tenth of the messages (for the pool, with as many \
         clients as it has workers). The columns:\n\n\
         - **time-out**: how long each client waited for its connection, and then for each reply, \
         before it gave up.\n\
         - **outcome**: how the clients ended, with the lowest and highest of the rounds where they \
         differ. *Served*: every reply came, in time. *Starved*: no reply came in time (the client \
         waited in the accept queue). *Stalled*: some replies came, then one not in time. *Connect \
         timed out*: the handshake did not finish in time (the accept queue was full). Anything else (a \
         wrong reply, a connection closed or reset) fails the benchmark, as does any client that a \
         server with a thread per client did not serve.\n\
         - **replies/s**: the replies that came in time, all clients together, over the whole run, \
         connects included: for the pool, only what it served.\n\
         - **CPU µs per message**: the server process's CPU time, user and system, all its threads \
         (`utime` + `stime` in /proc/<pid>/stat, in ticks of {} ms), from just before to just after \
         the measured crowd, divided by the replies of that crowd. The floor has no process of its \
         own: `-`.\n\
         - **p50, p99, max µs**: a message's round trip, from its sending to its reply. A client's first \
         includes its wait for the server to accept it: the pool's queued clients show in the max.\n\
         - **peak RSS**: the server's peak resident memory (`VmHWM` in /proc/<pid>/status), over its \
         life, warm-up included. **peak threads**: its thread count during the crowd, sampled every \
         {} ms.\n",
        open_file_limit(),
        1000 / UNITS.clock_ticks_per_s,
        SAMPLE_EVERY.as_millis(),
    );
    let _ = writeln!(
        out,
        "| clients × messages | server | time-out | outcome | replies/s | CPU µs per message | p50 µs | \
         p99 µs | max µs | peak RSS | peak threads |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut ratios = String::new();
    for (index, workload) in WORKLOADS.iter().enumerate() {
        // Each target's runs, in round order.
        let runs_of = |wanted: Target| -> Vec<&Sample> {
            samples
                .iter()
                .filter(|(workload, target, _)| *workload == index && *target == wanted)
                .map(|(_, _, sample)| sample)
                .collect()
        };
        let (clients, messages) = (workload.clients, workload.messages);
        for &target in workload.targets {
            let runs = runs_of(target);
            if runs.is_empty() {
                continue;
            }
            let of_report = |value: fn(&Report) -> f64| {
                median(runs.iter().map(|sample| value(&sample.report))).unwrap_or(0.0)
            };
            // Runs without a reply measured no round trip: left out.
            let of_round_trip = |value: fn(&Report) -> Option<u64>| {
                median(
                    runs.iter()
                        .filter_map(|sample| value(&sample.report))
                        .map(|us| us as f64),
                )
            };
            let of_server = |value: fn(&Process) -> Option<f64>| {
                median(
                    runs.iter()
                        .filter_map(|sample| sample.server.as_ref().and_then(value)),
                )
            };
            let _ = writeln!(
                out,
                "| {clients} × {messages} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                target.name(),
                seconds(workload.timeout),
                outcome(&runs),
                of_report(|report| report.replies_per_s),
                show_f64(of_server(|server| server.cpu_us_per_reply), 1),
                show_f64(of_round_trip(|report| report.p50_us), 0),
                show_f64(of_round_trip(|report| report.p99_us), 0),
                show_f64(of_round_trip(|report| report.max_us), 0),
                of_server(|server| Some(server.peak_rss_kib as f64)).map_or("-".to_string(), mib),
                show_f64(of_server(|server| Some(server.peak_threads as f64)), 0),
            );
        }
        // server-v3 against each other server of the workload, round by round.
        if !workload.targets.contains(&Target::Rust) {
            continue;
        }
        let ours = runs_of(Target::Rust);
        let others = workload.targets.iter().filter(|&&target| target != Target::Rust);
        let mut speed = Vec::new();
        let mut cpu = Vec::new();
        for &other in others {
            let theirs = runs_of(other);
            let name = other.name();
            if let Some(summary) = paired_ratios(&ours, &theirs, |sample| Some(sample.report.replies_per_s)) {
                speed.push(format!("server-v3 / {name} = {summary}"));
            }
            let cpu_of = |sample: &Sample| sample.server.and_then(|server| server.cpu_us_per_reply);
            if let Some(summary) = paired_ratios(&ours, &theirs, cpu_of) {
                cpu.push(format!("server-v3 / {name} = {summary}"));
            }
        }
        let _ = write!(
            ratios,
            "\n- {clients} × {messages}: replies per second: {}; CPU per message: {}.",
            speed.join(", "),
            cpu.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\nRatios, server-v3's over the other server's in the same round (the two ran back to back, so \
         they shared the machine's conditions): the median, then the lowest and highest round. Replies \
         per second above 1: server-v3 answered more. CPU per message below 1: server-v3 spent less of \
         its own CPU on each message. On a machine with few cores the first is bounded by the load \
         generator, which shares the cores with the server, and by the wake-ups of sleeping cores; the \
         second is each server's own cost.{ratios}"
    );
    out
}

/// The median of the per-round ratios `value(ours[i]) / value(theirs[i])`,
/// with the lowest and the highest; `None` when no round has both.
pub(crate) fn paired_ratios(
    ours: &[&Sample],
    theirs: &[&Sample],
    value: impl Fn(&Sample) -> Option<f64>,
) -> Option<String> {
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .filter_map(|(ours, theirs)| Some(value(ours)? / value(theirs)?))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = median(ratios.iter().copied())?;
    Some(format!(
        "{median:.2} ({:.2} to {:.2})",
        ratios[0],
        ratios[ratios.len() - 1]
    ))
}

/// `text` with everything between `<!-- benchmark:begin -->` and
/// `<!-- benchmark:end -->` replaced by `table` (without its title), or `None`
/// if the markers are not there.
pub(crate) fn quote_between_markers(text: &str, table: &str) -> Option<String> {
    const BEGIN: &str = "<!-- benchmark:begin -->";
    const END: &str = "<!-- benchmark:end -->";
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = text[start..].find(END)? + start;
    let body = table.split_once('\n').map_or(table, |(_title, rest)| rest).trim();
    Some(format!("{}\n{body}\n{}", &text[..start], &text[end..]))
}
