//! cthelperd: userspace conntrack helpers — the command line.

use cthelperd::{config, control, daemon, replay};

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cthelperd",
    version,
    about = "Memory-safe userspace conntrack helpers (ALGs)"
)]
struct Cli {
    /// Configuration file (TOML). Without it, the built-in defaults (the
    /// kernel modules' defaults) apply.
    #[arg(short, long, global = true)]
    config: Option<PathBuf>,
    /// Log filter, e.g. `info` or `cthelperd=debug` (RUST_LOG overrides).
    #[arg(long, global = true, default_value = "info")]
    log: String,
    /// The daemon's control socket (`run` serves it; `status` and `reload`
    /// ask it).
    #[arg(long, global = true, value_name = "SOCKET", default_value = control::DEFAULT_SOCKET)]
    control: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Register the helpers with the kernel and serve their NFQUEUEs.
    Run(daemon::Args),
    /// Run the helpers over a capture and show what they would do.
    Replay(replay::Args),
    /// List the helpers with their ports, parameters and policies.
    Helpers,
    /// Print the nft ruleset that attaches the configured helpers to their ports.
    Nft,
    /// Check a configuration file and print the whole effective
    /// configuration (as a file that gives it).
    CheckConfig {
        /// The file to check (or give it with --config).
        file: Option<PathBuf>,
    },
    /// Ask the running daemon how it is doing: per helper packets,
    /// verdicts, edits, expectations, bytes held, parse failures; per queue
    /// the kernel's counters; uptime and configuration. Exit 1 when no
    /// daemon runs.
    Status {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Make the running daemon re-read its configuration file (as SIGHUP
    /// does). An invalid file changes nothing; the error is printed and
    /// logged.
    Reload,
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages cthelperd.8 and cthelperd.toml.5 to DIR.
    Man {
        /// Where to write them.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // No colour codes in journald or log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cthelperd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: &Option<PathBuf>) -> Result<config::Config> {
    match path {
        Some(p) => config::Config::load(p),
        None => Ok(config::Config::default()),
    }
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Run(mut args) => {
            args.config_path = cli.config.clone();
            args.control = cli.control.clone();
            daemon::run(load_config(&cli.config)?, args)
        }
        Cmd::Status { format } => {
            let r = match control::request(&cli.control, "status") {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("cthelperd: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            match (r.status, format) {
                (Some(s), Format::Text) => print!("{}", control::render_text(&s)),
                (Some(s), Format::Json) => println!("{}", serde_json::to_string_pretty(&s)?),
                (None, _) => anyhow::bail!("{}", r.message),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Reload => match control::request(&cli.control, "reload") {
            Ok(r) if r.ok => {
                println!("{}", r.message);
                Ok(ExitCode::SUCCESS)
            }
            Ok(r) => {
                eprintln!("cthelperd: reload: {}; nothing changed", r.message);
                Ok(ExitCode::FAILURE)
            }
            Err(e) => {
                eprintln!("cthelperd: {e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Cmd::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "cthelperd", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Man { dir } => {
            let cmd = <Cli as clap::CommandFactory>::command();
            for (name, text) in cthelperd::manpages::pages(cmd)? {
                let p = dir.join(name);
                std::fs::write(&p, text)
                    .map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
                println!("{}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Replay(args) => replay::run(load_config(&cli.config)?, args),
        Cmd::Helpers => {
            print!("{}", describe(&load_config(&cli.config)?));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Nft => {
            print!("{}", daemon::nft::ruleset(&load_config(&cli.config)?));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::CheckConfig { file } => {
            let file = match (cli.config, file) {
                (Some(c), Some(f)) => anyhow::bail!(
                    "check-config {} and --config {}: check-config checks one file; give it once",
                    f.display(),
                    c.display()
                ),
                (Some(f), None) | (None, Some(f)) => f,
                (None, None) => {
                    anyhow::bail!("check-config needs a FILE (or --config FILE)")
                }
            };
            let cfg = config::Config::load(&file)?;
            print!("{}", cfg.to_toml());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Human-readable listing of the effective helper configuration.
fn describe(cfg: &config::Config) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for h in &cfg.helpers {
        let i = h.info;
        let fam = match (i.ipv4, i.ipv6) {
            (true, true) => "ipv4+ipv6",
            (true, false) => "ipv4",
            _ => "ipv6",
        };
        let ports: Vec<String> = h.ports.iter().map(u16::to_string).collect();
        let ports = if ports.is_empty() {
            "no ports (attached by other helpers' expectations)".to_string()
        } else {
            format!("ports {}", ports.join(","))
        };
        let also: Vec<&str> = i
            .expected_from
            .iter()
            .filter(|p| !i.l4.contains(p))
            .map(|p| p.name())
            .collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(
                " (also registered for {}: named by the expectations of such masters)",
                also.join("+")
            )
        };
        let _ = writeln!(
            s,
            "{} ({}) — {}\n  {} {}{} {}, queue {}{}, private data {} bytes",
            i.name,
            if h.enabled { "enabled" } else { "disabled" },
            i.summary,
            i.l4_names(),
            ports,
            also,
            fam,
            h.queue,
            if h.queues > 1 {
                format!("-{}", h.queue + h.queues - 1)
            } else {
                String::new()
            },
            i.priv_len
        );
        for (k, v) in h.params.iter() {
            let help = i
                .params
                .iter()
                .find(|p| p.name == k)
                .map(|p| p.help)
                .unwrap_or("");
            let _ = writeln!(s, "  param {k} = {v}  ({help})");
        }
        for (n, p) in h.policies.iter().enumerate() {
            let _ = writeln!(
                s,
                "  policy {n} {}: max_expected {}, timeout {}s",
                p.name, p.max_expected, p.timeout
            );
        }
    }
    s
}
