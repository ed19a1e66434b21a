//! `cthelperd replay`: helpers over a capture (placeholder).

use crate::config::Config;
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// pcap or pcapng file.
    pub file: PathBuf,
}

pub fn run(_cfg: Config, _args: Args) -> Result<ExitCode> {
    bail!("replay is not built yet")
}
